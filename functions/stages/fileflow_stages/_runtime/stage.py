"""The one runner every stage handler calls: parse the state, record the stage's events, map errors.

A stage's work is a plain function of a `StageContext` returning a `StageResult`. The runner:
- records `started` (the file item's current stage + an event), then `succeeded` with the duration;
- turns a bad file (`RejectedContentError`) into `FileRejected`, which the workflow routes to its failure
  path without retrying (retrying would fail the same way);
- turns S3 and DynamoDB errors into `TransientStageError`, which the workflow retries with backoff;
- turns a file deleted meanwhile into `FileDeleted`, which ends the workflow quietly.
Step Functions sees the exception's class name as the error name (`Retry` / `Catch` match on it).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError

from fileflow_common.aws import CallCounts, aws_calls, dynamodb_resource, s3_client, sqs_client
from fileflow_common.clock import utc_now
from fileflow_common.errors import FileDeletedError
from fileflow_common.observability import logger, metrics, tracer
from fileflow_common.pipeline import Stage, StageEvent, StageState, event_cursor
from fileflow_common.webhooks.queue import WebhookEvents, webhook_events
from fileflow_stages._runtime.content import RejectedContentError
from fileflow_stages._runtime.jobs import Job
from fileflow_stages._runtime.object_store import S3ObjectStore
from fileflow_stages._runtime.records import DynamoRecords
from fileflow_stages._runtime.settings import StageSettings
from fileflow_stages._runtime.state import FileRef, ObjectGoneError, StageInvocation


class FileRejected(Exception):  # noqa: N818 - the error name Step Functions matches on
    """The file itself is bad: its message is JSON `{code, message}`. Never retried."""


class FileDeleted(Exception):  # noqa: N818 - the error name Step Functions matches on
    """The file was deleted (or its version is gone) while the workflow ran."""


class TransientStageError(Exception):
    """A dependency failed (S3, DynamoDB): the workflow retries the stage with backoff."""


class InvalidStageInputError(Exception):
    """The state the stage received is not what the workflow passes: a bug, not retried."""


@dataclass(frozen=True)
class Services:
    settings: StageSettings
    records: DynamoRecords
    store: S3ObjectStore
    webhooks: WebhookEvents


@cache
def services() -> Services:
    """Built (and its settings validated) once per execution environment; tests cache_clear() it."""
    settings = StageSettings()  # type: ignore[call-arg]  # fields come from the environment
    return Services(
        settings=settings,
        records=DynamoRecords(dynamodb_resource().Table(settings.table_name)),
        store=S3ObjectStore(s3_client(), settings.bucket_name),
        webhooks=webhook_events(sqs_client(), settings.webhook_queue_url),
    )


@dataclass
class StageContext:
    invocation: StageInvocation
    services: Services
    clock: Callable[[], datetime] = utc_now
    _job: Job | None = field(default=None, init=False, repr=False)

    @property
    def file(self) -> FileRef:
        return self.invocation.state.file

    def job(self) -> Job:
        """The job as it was when the stage first asked (read once per invocation)."""
        if self._job is None:
            job = self.services.records.get_job(self.file.file_id, self.file.job_id)
            if job is None:  # jobs are deleted only with their file
                raise FileDeletedError(f"job {self.file.job_id} is gone")
            self._job = job
        return self._job


@dataclass(frozen=True)
class StageResult:
    # Returned to the workflow (at `$.<stage>`): small, ids and names only.
    output: dict[str, Any] = field(default_factory=dict)
    # On the stage's `succeeded` event.
    detail: dict[str, Any] = field(default_factory=dict)


type StageWork = Callable[[StageContext], StageResult]
# (event, Lambda context) -> the stage's output; loose like the Powertools decorators that make it.
type StageHandler = Callable[..., dict[str, Any]]


def record_event(
    context: StageContext, stage: Stage, state: StageState, detail: dict[str, Any] | None = None
) -> None:
    file = context.file
    invocation = context.invocation
    at = context.clock()
    event = StageEvent(
        file_id=file.file_id,
        user_id=file.user_id,
        stage=stage,
        state=state,
        at=at,
        cursor=event_cursor(
            at, invocation.execution_arn or file.job_id, stage.value, state.value, str(invocation.retry_count)
        ),
        correlation_id=file.correlation_id,
        execution_arn=invocation.execution_arn,
        detail=detail or {},
    )
    context.services.records.record_stage(
        file.upload, event, execution_arn=invocation.execution_arn, source=file.source
    )


def parse(event: dict[str, Any]) -> StageInvocation:
    try:
        return StageInvocation.model_validate(event)
    except ValidationError as exc:
        first = exc.errors()[0]
        location = ".".join(str(part) for part in first["loc"])
        raise InvalidStageInputError(f"stage input invalid at {location}: {first['msg']}") from exc


def run_stage(
    stage: Stage,
    event: dict[str, Any],
    work: StageWork,
    *,
    record_started: bool = True,
    record_succeeded: bool = True,
) -> dict[str, Any]:
    """Run one stage's work; `record_succeeded=False` for a task that waits (the stage is not done yet)."""
    invocation = parse(event)
    context = StageContext(invocation=invocation, services=services())
    file = invocation.state.file
    logger.set_correlation_id(file.correlation_id)
    logger.append_keys(
        user_id=file.user_id,
        file_id=file.file_id,
        job_id=file.job_id,
        stage=stage.value,
        execution_arn=invocation.execution_arn,
        retry_count=invocation.retry_count,
    )
    metrics.add_dimension(name="stage", value=stage.value)
    started = time.perf_counter()
    aws_calls.take()  # this invocation's calls only
    try:
        if record_started:
            record_event(context, stage, StageState.STARTED)
        result = work(context)
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        detail = {"duration_ms": int(duration_ms), **call_detail(aws_calls.take()), **result.detail}
        if record_succeeded:
            record_event(context, stage, StageState.SUCCEEDED, detail)
    except RejectedContentError as exc:
        message = str(exc)[:1000]
        logger.warning("file rejected", extra={"code": exc.code, "reason": message})
        _record_quietly(context, stage, {"code": exc.code, "message": message})
        metrics.add_metric(name="StageRejections", unit=MetricUnit.Count, value=1)
        raise FileRejected(json.dumps({"code": exc.code, "message": message})) from exc
    except (FileDeletedError, ObjectGoneError) as exc:
        logger.info("file deleted while processing: the workflow ends", extra={"reason": str(exc)})
        raise FileDeleted(str(exc)) from exc
    except (ClientError, BotoCoreError) as exc:
        logger.exception("a dependency failed: the stage will be retried")
        metrics.add_metric(name="StageFailures", unit=MetricUnit.Count, value=1)
        raise TransientStageError(f"{type(exc).__name__}: {exc}"[:1000]) from exc
    except Exception:
        logger.exception("stage failed")
        metrics.add_metric(name="StageFailures", unit=MetricUnit.Count, value=1)
        raise
    metrics.add_metric(name="StageDuration", unit=MetricUnit.Milliseconds, value=duration_ms)
    logger.info("stage succeeded", extra={"duration_ms": duration_ms, **result.output})
    return result.output


# The `succeeded` event is one transaction of two items (the file's stage and the event): DynamoRecords.
EVENT_WRITE = "dynamodb:TransactWriteItems"
EVENT_WRITE_ITEMS = 2


def call_detail(counts: CallCounts) -> dict[str, Any]:
    """Every AWS call of the stage, its own `succeeded` event (written next) included: the total, the
    calls by operation and the items of DynamoDB's transactions and batches (docs/cost.md)."""
    calls = dict(counts.calls)
    calls[EVENT_WRITE] = calls.get(EVENT_WRITE, 0) + 1
    items = dict(counts.items)
    items[EVENT_WRITE] = items.get(EVENT_WRITE, 0) + EVENT_WRITE_ITEMS
    return {"aws_calls": counts.total + 1, "aws_operations": calls, "aws_items": items}


def stage_handler(
    stage: Stage,
    work: StageWork,
    *,
    record_started: bool = True,
    record_succeeded: bool = True,
    deleted_output: dict[str, Any] | None = None,
) -> StageHandler:
    """A stage's Lambda entry point: `run_stage` under Powertools' logger, tracer and metrics.

    With `deleted_output`, a file deleted meanwhile ends the workflow quietly with it, not with FileDeleted.
    """

    @logger.inject_lambda_context
    @tracer.capture_lambda_handler
    @metrics.log_metrics
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        try:
            return run_stage(
                stage, event, work, record_started=record_started, record_succeeded=record_succeeded
            )
        except FileDeleted:
            if deleted_output is None:
                raise
            return dict(deleted_output)

    return lambda_handler


def _record_quietly(context: StageContext, stage: Stage, detail: dict[str, Any]) -> None:
    """The stage's `failed` event; a failure to write it must not hide the rejection."""
    try:
        record_event(context, stage, StageState.FAILED, detail)
    except (ClientError, BotoCoreError, FileDeletedError):
        logger.exception("failed event not recorded")
