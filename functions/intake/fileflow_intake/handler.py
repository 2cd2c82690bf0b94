"""Lambda entry point of the starter: an SQS batch of S3 notifications -> one workflow per stored version.

The composition root: settings and adapters (DynamoDB, S3, Step Functions, SQS) are built once per
execution environment and injected into the domain (stored_objects.py, starter.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

import boto3
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from fileflow_common.aws import CLIENT_CONFIG, dynamodb_resource, s3_client, sqs_client
from fileflow_common.observability import logger, metrics, tracer
from fileflow_intake.files import DynamoIntakeRecords
from fileflow_intake.notifications import InvalidNotificationError
from fileflow_intake.retries import SqsRetryBackoff
from fileflow_intake.settings import IntakeSettings
from fileflow_intake.starter import WorkflowStarter
from fileflow_intake.stored_objects import Outcome, StoredObject, StoredObjectRecorder

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient

# A batch whose every record failed is still answered with a partial response (not an exception), so
# each failed message gets its backoff instead of the queue's whole visibility timeout.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


@dataclass(frozen=True)
class Services:
    settings: IntakeSettings
    recorder: StoredObjectRecorder
    backoff: SqsRetryBackoff


@cache
def stepfunctions_client() -> SFNClient:
    return boto3.client("stepfunctions", config=CLIENT_CONFIG)


@cache
def services() -> Services:
    """Built (and its settings validated) once per execution environment; tests cache_clear() it."""
    settings = IntakeSettings()  # type: ignore[call-arg]  # fields come from the environment
    records = DynamoIntakeRecords(dynamodb_resource().Table(settings.table_name))
    starter = WorkflowStarter(stepfunctions_client(), records, state_machine_arn=settings.state_machine_arn)

    def discard(stored: StoredObject) -> None:
        """The object of a deleted file (a presigned URL used after the delete) is removed."""
        location = {"VersionId": stored.version_id} if stored.version_id else {}
        s3_client().delete_object(Bucket=stored.bucket, Key=stored.upload.key, **location)  # type: ignore[arg-type]

    recorder = StoredObjectRecorder(
        records, bucket_name=settings.bucket_name, process=starter.start, discard=discard
    )
    backoff = SqsRetryBackoff(sqs_client(), settings.queue_url, base_seconds=settings.retry_backoff_seconds)
    return Services(settings=settings, recorder=recorder, backoff=backoff)


def _receive_count(record: SQSRecord) -> int:
    return int(record.attributes.approximate_receive_count or 1)


def record_handler(record: SQSRecord, lambda_context: LambdaContext) -> None:
    current = services()
    attempt = _receive_count(record)
    with logger.append_context_keys(message_id=record.message_id, receive_count=attempt):
        try:
            outcomes = current.recorder.handle_message(record.body)
        except InvalidNotificationError as exc:
            logger.error("invalid notification rejected", extra={"reason": str(exc)})
            _count_dead_letter(attempt, current.settings.max_receive_count)
            raise
        except Exception:
            logger.exception("notification handling failed; the message will be retried")
            _count_dead_letter(attempt, current.settings.max_receive_count)
            raise
    # Zero included: every message yields a datapoint, so "nothing stored" is visible.
    metrics.add_metric(name="ObjectsStored", unit=MetricUnit.Count, value=outcomes.count(Outcome.STORED))


def _count_dead_letter(attempt: int, max_receive_count: int) -> None:
    if attempt >= max_receive_count:
        logger.error("last attempt failed: the message goes to the DLQ")
        metrics.add_metric(name="MessagesDeadLettered", unit=MetricUnit.Count, value=1)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    current = services()  # a misconfigured function fails the whole invocation, not each record
    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    failed = {failure["itemIdentifier"] for failure in response.get("batchItemFailures", [])}
    for record in event.get("Records", []):
        if record["messageId"] in failed:
            current.backoff.delay(
                record["receiptHandle"], int(record["attributes"]["ApproximateReceiveCount"])
            )
    return response
