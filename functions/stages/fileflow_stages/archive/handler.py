"""Archive stage: ZIP and TAR listings (stdlib only); entries are inspected, never extracted."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from fileflow_common.observability import logger, metrics, tracer
from fileflow_common.pipeline import Stage
from fileflow_stages._runtime.content import Analysis
from fileflow_stages._runtime.content_stage import run_analyzer
from fileflow_stages._runtime.limits import Limits
from fileflow_stages._runtime.stage import StageContext, StageResult, run_stage
from fileflow_stages._runtime.state import Detected
from fileflow_stages.archive import archives


def analyze(detected: Detected, data: bytes, limits: Limits) -> Analysis:
    if detected.label == "zip":
        return archives.list_zip(data, limits)
    return archives.list_tar(data, detected.label, limits)


def inspect(context: StageContext) -> StageResult:
    return run_analyzer(context, analyze)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return run_stage(Stage.ARCHIVE, event, inspect)
