"""Lambda entry point: SQS batch of S3 notifications -> partial batch response."""

from functools import cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from fileflow_common.aws import dynamodb_resource
from fileflow_common.observability import logger, metrics, tracer
from fileflow_processor.notifications import InvalidNotificationError
from fileflow_processor.repository import DynamoFileRepository
from fileflow_processor.settings import ProcessorSettings
from fileflow_processor.stored_objects import Outcome, StoredObjectRecorder

processor = BatchProcessor(event_type=EventType.SQS)


@cache
def recorder() -> StoredObjectRecorder:
    """Built (and its settings validated) once per execution environment; tests cache_clear() it."""
    settings = ProcessorSettings()  # type: ignore[call-arg]  # fields come from the environment
    table = dynamodb_resource().Table(settings.table_name)
    return StoredObjectRecorder(DynamoFileRepository(table), bucket_name=settings.bucket_name)


def record_handler(record: SQSRecord) -> None:
    with logger.append_context_keys(message_id=record.message_id):
        try:
            outcomes = recorder().handle_message(record.body)
        except InvalidNotificationError as exc:
            logger.error("invalid notification rejected", extra={"reason": str(exc)})
            raise
        except Exception:
            logger.exception("notification processing failed; the message will be retried")
            raise
    # Zero included: every processed message yields a datapoint, so "nothing stored" is visible.
    metrics.add_metric(name="ObjectsStored", unit=MetricUnit.Count, value=outcomes.count(Outcome.STORED))


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    recorder()  # a misconfigured function fails the whole invocation, not each record
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
