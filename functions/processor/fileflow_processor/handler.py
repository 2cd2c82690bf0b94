"""Lambda entry point: SQS batch of S3 notifications -> partial batch response.

The composition root: settings, adapters (S3, DynamoDB, SQS) and Powertools idempotency are built once
per execution environment and injected into the domain (stored_objects.py, processing.py).
"""

from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from fileflow_common.aws import dynamodb_client, dynamodb_resource, s3_client, sqs_client
from fileflow_common.errors import FileflowError
from fileflow_common.observability import logger, metrics, tracer
from fileflow_processor.notifications import InvalidNotificationError
from fileflow_processor.object_store import S3ObjectStore
from fileflow_processor.processing import FileProcessor
from fileflow_processor.repository import DynamoFileRepository, DynamoJobRepository
from fileflow_processor.retries import SqsRetryBackoff
from fileflow_processor.settings import ProcessorSettings
from fileflow_processor.stored_objects import Outcome, StoredObject, StoredObjectRecorder

# A batch whose every record failed is still answered with a partial response (not an exception), so
# each failed message gets its backoff instead of the queue's whole visibility timeout.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
# The idempotency key: one stored version of one original (bucket, key, version id, ETag).
IDEMPOTENCY_KEY_JMESPATH = "[bucket, key, version_id, etag]"
IDEMPOTENCY_KEY_PREFIX = "fileflow-processor.process_object"


class InsufficientTimeError(FileflowError):
    """Too little of the invocation is left to start a record: it is retried rather than cut short."""

    code = "InsufficientTime"


@dataclass(frozen=True)
class Services:
    settings: ProcessorSettings
    recorder: StoredObjectRecorder
    idempotency: IdempotencyConfig
    backoff: SqsRetryBackoff


@cache
def services() -> Services:
    """Built (and its settings validated) once per execution environment; tests cache_clear() it."""
    settings = ProcessorSettings()  # type: ignore[call-arg]  # fields come from the environment
    table = dynamodb_resource().Table(settings.table_name)
    files = DynamoFileRepository(table)
    store = S3ObjectStore(s3_client(), settings.bucket_name)
    file_processor = FileProcessor(
        store=store,
        jobs=DynamoJobRepository(table),
        files=files,
        limits=settings.limits,
        max_attempts=settings.max_receive_count,
    )
    idempotency = IdempotencyConfig(
        event_key_jmespath=IDEMPOTENCY_KEY_JMESPATH,
        raise_on_no_idempotency_key=True,
        expires_after_seconds=settings.idempotency_expiry_seconds,
    )
    persistence = DynamoDBPersistenceLayer(
        table_name=settings.idempotency_table_name, boto3_client=dynamodb_client()
    )

    def run(*, version: dict[str, Any], stored: StoredObject, attempt: int) -> dict[str, Any]:
        return file_processor.process(stored.upload, stored.version, attempt=attempt)

    # A duplicate of a completed version returns the stored outcome without running `run` again.
    process_version: Callable[..., dict[str, Any]] = idempotent_function(
        run,
        data_keyword_argument="version",
        persistence_store=persistence,
        config=idempotency,
        key_prefix=IDEMPOTENCY_KEY_PREFIX,
    )

    def process(stored: StoredObject, attempt: int) -> dict[str, Any]:
        outcome: dict[str, Any] = process_version(
            version=asdict(stored.version), stored=stored, attempt=attempt
        )
        return outcome

    def discard(stored: StoredObject) -> None:
        store.delete_version(stored.upload.key, stored.version_id)

    recorder = StoredObjectRecorder(files, bucket_name=settings.bucket_name, process=process, discard=discard)
    backoff = SqsRetryBackoff(sqs_client(), settings.queue_url, base_seconds=settings.retry_backoff_seconds)
    return Services(settings=settings, recorder=recorder, idempotency=idempotency, backoff=backoff)


def _receive_count(record: SQSRecord) -> int:
    return int(record.attributes.approximate_receive_count or 1)


def record_handler(record: SQSRecord, lambda_context: LambdaContext) -> None:
    current = services()
    attempt = _receive_count(record)
    with logger.append_context_keys(message_id=record.message_id, receive_count=attempt):
        try:
            remaining = lambda_context.get_remaining_time_in_millis()
            if remaining < current.settings.min_remaining_time_ms:
                raise InsufficientTimeError(f"{remaining} ms left, fewer than a record may need")
            outcomes = current.recorder.handle_message(record.body, attempt=attempt)
        except InvalidNotificationError as exc:
            logger.error("invalid notification rejected", extra={"reason": str(exc)})
            _count_dead_letter(attempt, current.settings.max_receive_count)
            raise
        except Exception:
            logger.exception("notification processing failed; the message will be retried")
            _count_dead_letter(attempt, current.settings.max_receive_count)
            raise
    # Zero included: every processed message yields a datapoint, so "nothing stored" is visible.
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
    # In-progress idempotency records expire with this invocation, so a crash never blocks a retry for long.
    current.idempotency.register_lambda_context(context)
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
