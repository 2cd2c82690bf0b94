"""Lambda entry point of the sweeper: an EventBridge schedule (or a direct invoke) -> one sweep.

It ships in the API's code asset (it shares the upload and quota adapters) but imports no FastAPI.
"""

from dataclasses import asdict
from datetime import timedelta
from functools import cache
from typing import Annotated, Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from fileflow_api.reviews.backlog import DynamoReviewBacklog
from fileflow_api.uploads.storage import S3UploadStorage
from fileflow_api.uploads.sweeper import UploadSweeper
from fileflow_api.uploads.table import DynamoFileCatalog, DynamoUploadSessionStore
from fileflow_api.usage.counters import DynamoUsageCounters
from fileflow_common.aws import dynamodb_resource, s3_client, sqs_client
from fileflow_common.clock import utc_now
from fileflow_common.errors import FileflowError
from fileflow_common.observability import logger, metrics, tracer
from fileflow_common.settings_types import BucketName, TableName
from fileflow_common.webhooks.queue import webhook_events


class SweeperSettings(BaseSettings):
    """Environment of the sweeper function, validated once per execution environment."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    table_name: TableName
    bucket_name: BucketName
    # How long after its expiry a session is left alone (a complete that started in time finishes).
    sweep_grace_seconds: Annotated[int, Field(ge=0, le=3600)] = 300
    # Where `upload.expired` is queued; unset (before webhooks, `sam local`): no event is sent.
    webhook_queue_url: str | None = None


class SweepIncompleteError(FileflowError):
    """Some sessions could not be swept (they stay initiated) or announced (they stay unannounced);
    the next run tries again."""

    code = "SweepIncomplete"


@cache
def sweeper() -> UploadSweeper:
    """Built (and its settings validated) once per execution environment; tests cache_clear() it."""
    settings = SweeperSettings()  # type: ignore[call-arg]  # fields come from the environment
    table = dynamodb_resource().Table(settings.table_name)
    return UploadSweeper(
        sessions=DynamoUploadSessionStore(table),
        storage=S3UploadStorage(s3_client(), settings.bucket_name),
        files=DynamoFileCatalog(table),
        usage=DynamoUsageCounters(table),
        webhooks=webhook_events(sqs_client(), settings.webhook_queue_url),
        grace=timedelta(seconds=settings.sweep_grace_seconds),
    )


@cache
def review_backlog() -> DynamoReviewBacklog:
    return DynamoReviewBacklog(dynamodb_resource().Table(SweeperSettings().table_name))  # type: ignore[call-arg]


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    report = sweeper().sweep(time_left=lambda: timedelta(milliseconds=context.get_remaining_time_in_millis()))
    metrics.add_metric(name="UploadsExpired", unit=MetricUnit.Count, value=report.expired)
    metrics.add_metric(name="UploadsCompletedBySweeper", unit=MetricUnit.Count, value=report.completed)
    metrics.add_metric(name="UploadSweepFailures", unit=MetricUnit.Count, value=report.failed)
    metrics.add_metric(name="UploadExpiriesAnnounced", unit=MetricUnit.Count, value=report.announced)
    # The review queue's gauges ride on the sweeper's schedule (docs/runbooks/stuck-review.md).
    backlog = review_backlog().measure(utc_now())
    metrics.add_metric(name="ReviewBacklog", unit=MetricUnit.Count, value=backlog.open)
    metrics.add_metric(name="ReviewOldestAge", unit=MetricUnit.Seconds, value=backlog.oldest_age_seconds)
    logger.info("sweep finished", extra={**asdict(report), "reviews": asdict(backlog)})
    if report.failed:
        # A failed invocation trips the function's error alarm; sweeping again is safe.
        raise SweepIncompleteError(f"{report.failed} upload session(s) could not be swept")
    return {**asdict(report), "reviews": asdict(backlog)}
