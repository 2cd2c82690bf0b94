"""GET /health: run every dependency probe and report each one's status and latency."""

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Literal

from aws_lambda_powertools.metrics import MetricUnit
from fastapi import APIRouter, Depends, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from fileflow_api.dependencies import ApiDependencies, get_dependencies
from fileflow_api.health.model import DependencyProbe, DependencyUnavailableError
from fileflow_common.observability import logger, metrics


class CheckResult(BaseModel):
    status: Literal["ok", "error"]
    latency_ms: float
    error: str | None = None


class HealthReport(BaseModel):
    status: Literal["ok", "degraded"]
    checks: dict[str, CheckResult]


@dataclass(frozen=True, slots=True)
class HealthChecker:
    probes: Sequence[DependencyProbe]
    timer: Callable[[], float] = time.perf_counter

    def run(self) -> HealthReport:
        checks = {probe.name: self._check(probe) for probe in self.probes}
        healthy = all(check.status == "ok" for check in checks.values())
        return HealthReport(status="ok" if healthy else "degraded", checks=checks)

    def _check(self, probe: DependencyProbe) -> CheckResult:
        started = self.timer()
        try:
            probe.probe()
        except DependencyUnavailableError as exc:
            error: str | None = exc.code
        except Exception as exc:  # a health check reports a broken probe, it never crashes
            logger.exception("health probe crashed", extra={"dependency": probe.name})
            error = type(exc).__name__
        else:
            error = None
        latency_ms = round((self.timer() - started) * 1000, 1)
        if error is None:
            return CheckResult(status="ok", latency_ms=latency_ms)
        logger.warning("dependency unhealthy", extra={"dependency": probe.name, "error": error})
        return CheckResult(status="error", latency_ms=latency_ms, error=error)


router = APIRouter()


@router.get(
    "/health",
    response_model=HealthReport,
    response_model_exclude_none=True,
    responses={status.HTTP_503_SERVICE_UNAVAILABLE: {"model": HealthReport}},
)
def health(dependencies: Annotated[ApiDependencies, Depends(get_dependencies)]) -> JSONResponse:
    report = HealthChecker(dependencies.probes).run()
    unhealthy = sum(check.status == "error" for check in report.checks.values())
    metrics.add_metric(name="UnhealthyDependencies", unit=MetricUnit.Count, value=unhealthy)
    return JSONResponse(
        status_code=status.HTTP_200_OK if report.status == "ok" else status.HTTP_503_SERVICE_UNAVAILABLE,
        content=report.model_dump(exclude_none=True),
    )
