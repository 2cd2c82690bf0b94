"""Lambda entry point of the starter: an SQS batch of S3 notifications -> one workflow per stored version.

The composition root: settings and adapters (DynamoDB, S3, Step Functions, SQS) are built once per
execution environment and injected into the domain (stored_objects.py, starter.py).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import TYPE_CHECKING, Any

import boto3
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    AsyncBatchProcessor,
    EventType,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from fileflow_common.aws import CLIENT_CONFIG, aws_calls, counted, dynamodb_resource, s3_client, sqs_client
from fileflow_common.observability import logger, metrics, tracer
from fileflow_intake.audit import DynamoAuditAppender
from fileflow_intake.files import DynamoIntakeRecords
from fileflow_intake.notifications import InvalidNotificationError
from fileflow_intake.retries import SqsRetryBackoff
from fileflow_intake.settings import IntakeSettings
from fileflow_intake.starter import WorkflowStarter
from fileflow_intake.stored_objects import Outcome, StoredObject, StoredObjectRecorder

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient

# A batch whose every record failed is still answered with a partial response (not an exception), so
# each failed message gets its backoff instead of the queue's whole visibility timeout. Records are
# handled concurrently (each in a worker thread: boto3 clients are thread-safe), so a burst of uploads
# starts its workflows in parallel rather than one S3 event after another.
processor = AsyncBatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


@dataclass(frozen=True)
class Services:
    settings: IntakeSettings
    recorder: StoredObjectRecorder
    backoff: SqsRetryBackoff


@cache
def stepfunctions_client() -> SFNClient:
    return counted(boto3.client("stepfunctions", config=CLIENT_CONFIG))


@cache
def services() -> Services:
    """Built (and its settings validated) once per execution environment; tests cache_clear() it."""
    settings = IntakeSettings()  # type: ignore[call-arg]  # fields come from the environment
    records = DynamoIntakeRecords(dynamodb_resource().Table(settings.table_name))
    starter = WorkflowStarter(stepfunctions_client(), records, state_machine_arn=settings.state_machine_arn)

    def discard(stored: StoredObject) -> None:
        """The version of a deleted file, or one no upload accounts for (a presigned URL used late)."""
        location = {"VersionId": stored.version_id} if stored.version_id else {}
        s3_client().delete_object(Bucket=stored.bucket, Key=stored.upload.key, **location)  # type: ignore[arg-type]

    audit = DynamoAuditAppender(
        dynamodb_resource().Table(settings.audit_table_name),
        retention=timedelta(days=settings.audit_retention_days),
    )
    recorder = StoredObjectRecorder(
        records, bucket_name=settings.bucket_name, audit=audit, process=starter.start, discard=discard
    )
    backoff = SqsRetryBackoff(sqs_client(), settings.queue_url, base_seconds=settings.retry_backoff_seconds)
    return Services(settings=settings, recorder=recorder, backoff=backoff)


def _receive_count(record: SQSRecord) -> int:
    return int(record.attributes.approximate_receive_count or 1)


@dataclass(frozen=True)
class Handled:
    stored: int = 0  # versions recorded for the first time (ObjectsStored)
    refused: int = 0  # versions no upload accounts for, deleted (ObjectsRefused)
    dead_lettered: bool = False  # the message's last attempt failed


def handle_record(record: SQSRecord) -> Handled:
    """One message, in a worker thread: its log keys are that thread's own."""
    current = services()
    attempt = _receive_count(record)
    logger.thread_safe_append_keys(message_id=record.message_id, receive_count=attempt)
    try:
        outcomes = current.recorder.handle_message(record.body)
    except InvalidNotificationError as exc:
        logger.error("invalid notification rejected", extra={"reason": str(exc)})
        raise MessageFailedError(_is_last(attempt, current.settings.max_receive_count)) from exc
    except Exception as exc:
        logger.exception("notification handling failed; the message will be retried")
        raise MessageFailedError(_is_last(attempt, current.settings.max_receive_count)) from exc
    finally:
        logger.thread_safe_clear_keys()
    return Handled(stored=outcomes.count(Outcome.STORED), refused=outcomes.count(Outcome.REFUSED))


class MessageFailedError(Exception):
    """A message that failed (retried, and dead-lettered after its last attempt)."""

    def __init__(self, last_attempt: bool) -> None:
        super().__init__(
            "the message failed" + (" for the last time: it goes to the DLQ" if last_attempt else "")
        )
        self.last_attempt = last_attempt


def _is_last(attempt: int, max_receive_count: int) -> bool:
    if attempt >= max_receive_count:
        logger.error("last attempt failed: the message goes to the DLQ")
        return True
    return False


async def record_handler(record: SQSRecord) -> Handled:
    return await asyncio.to_thread(handle_record, record)


def _count(outcomes: list[tuple[Any, ...]], exceptions: list[Any]) -> None:
    """The batch's metrics, from this thread (Powertools' metric set is not made for threads)."""
    for status, result, _ in outcomes:
        if status == "success":
            # Zero included: every message yields a datapoint, so "nothing stored" is visible.
            metrics.add_metric(name="ObjectsStored", unit=MetricUnit.Count, value=result.stored)
            if result.refused:
                metrics.add_metric(name="ObjectsRefused", unit=MetricUnit.Count, value=result.refused)
    for _, exception, _ in exceptions:
        if isinstance(exception, MessageFailedError) and exception.last_attempt:
            metrics.add_metric(name="MessagesDeadLettered", unit=MetricUnit.Count, value=1)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    current = services()  # a misconfigured function fails the whole invocation, not each record
    aws_calls.take()  # this batch's calls only
    # Powertools' context manager (what async_process_partial_response wraps), to count the outcomes.
    with processor(records=event.get("Records", []), handler=record_handler, lambda_context=context):
        outcomes = processor.async_process()
        _count(outcomes, list(processor.exceptions))
    response = processor.response()
    failed = {failure["itemIdentifier"] for failure in response.get("batchItemFailures", [])}
    for record in event.get("Records", []):
        if record["messageId"] in failed:
            current.backoff.delay(
                record["receiptHandle"], int(record["attributes"]["ApproximateReceiveCount"])
            )
    calls = aws_calls.take()
    # The batch's AWS calls by operation: what `make bench-cost` prices (docs/cost.md).
    logger.info(
        "batch handled",
        extra={
            "records": len(event.get("Records", [])),
            "failed": len(failed),
            "aws_calls": calls.total,
            "aws_operations": calls.calls,
            "aws_items": calls.items,
        },
    )
    return response
