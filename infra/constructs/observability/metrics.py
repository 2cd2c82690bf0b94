"""Fileflow's own metrics (EMF, namespace `Fileflow`) as CloudWatch metric objects.

Powertools writes every metric with the `service` dimension (the function's service name) and the stage
runner adds `stage`; a CloudWatch metric is named by all its dimensions, so these match what the
functions emit (the infra tests check names against the code).
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch

from infra.constructs.lambda_function import METRICS_NAMESPACE

PERIOD = Duration.minutes(1)


def fileflow(
    name: str,
    service: str,
    *,
    statistic: str = "Sum",
    label: str | None = None,
    stage: str | None = None,
    period: Duration = PERIOD,
) -> cloudwatch.Metric:
    dimensions = {"service": service} if stage is None else {"stage": stage, "service": service}
    return cloudwatch.Metric(
        namespace=METRICS_NAMESPACE,
        metric_name=name,
        dimensions_map=dimensions,
        statistic=statistic,
        period=period,
        label=label,
    )


def stage_metric(
    name: str,
    stage: str,
    function: str | None = None,
    *,
    statistic: str = "Sum",
    label: str | None = None,
    period: Duration = PERIOD,
) -> cloudwatch.Metric:
    """A stage runner's metric: `stage` as its events name it (`failed` for the failure path), `function`
    the stage's function (service `stage-<function>`; the stage's own name by default)."""
    service = f"stage-{function or stage}"
    return fileflow(name, service, stage=stage, statistic=statistic, label=label, period=period)
