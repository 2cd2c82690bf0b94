"""Lambda entry point of the webhook sender: an SQS batch of `event` and `attempt` messages.

The composition root: settings and adapters (DynamoDB, SQS, the guarded HTTP client) are built once per
execution environment and injected into the domain (fanout.py, attempt.py). Records are handled
concurrently, each in a worker thread (boto3 clients are thread-safe), so one slow receiver (15 s at
most) does not hold up the rest of the batch; a record that raises is retried by SQS (partial batch
response) and dead-lettered after the queue's last receive.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import AsyncBatchProcessor, EventType
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Field, TypeAdapter

from fileflow_common.aws import dynamodb_resource, sqs_client
from fileflow_common.observability import logger, metrics, tracer
from fileflow_common.webhooks.events import AttemptMessage, EventMessage
from fileflow_common.webhooks.queue import SqsAttemptQueue
from fileflow_common.webhooks.targets import TargetPolicy
from fileflow_webhooks.attempt import Attempted, Deliverer
from fileflow_webhooks.deliveries import DynamoDeliveries
from fileflow_webhooks.endpoints import DynamoEndpoints
from fileflow_webhooks.fanout import FannedOut, FanOut
from fileflow_webhooks.model import Outcome
from fileflow_webhooks.schedule import RetrySchedule
from fileflow_webhooks.settings import WebhookSettings
from fileflow_webhooks.transport import HttpPoster

processor = AsyncBatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
MESSAGES: TypeAdapter[EventMessage | AttemptMessage] = TypeAdapter(
    Annotated[EventMessage | AttemptMessage, Field(discriminator="kind")]
)

OUTCOME_METRICS = {
    Outcome.DELIVERED: "WebhooksDelivered",
    Outcome.RETRYING: "WebhookRetries",
    Outcome.FAILED: "WebhookDeliveriesFailed",
    Outcome.DISABLED: "WebhookEndpointsDisabled",
}


@dataclass(frozen=True)
class Services:
    settings: WebhookSettings
    fanout: FanOut
    deliverer: Deliverer


@cache
def services() -> Services:
    """Built (and its settings validated) once per execution environment; tests cache_clear() it."""
    settings = WebhookSettings()  # type: ignore[call-arg]  # fields come from the environment
    table = dynamodb_resource().Table(settings.table_name)
    endpoints, deliveries = DynamoEndpoints(table), DynamoDeliveries(table)
    queue = SqsAttemptQueue(sqs_client(), settings.webhook_queue_url)
    policy = TargetPolicy(allow_local_http=settings.webhooks_allow_local_http)
    return Services(
        settings=settings,
        fanout=FanOut(endpoints=endpoints, deliveries=deliveries, queue=queue),
        deliverer=Deliverer(
            endpoints=endpoints,
            deliveries=deliveries,
            queue=queue,
            poster=HttpPoster(policy),
            schedule=RetrySchedule(settings.webhook_retry_schedule),
            disable_after=settings.webhook_disable_after,
            policy=policy,
        ),
    )


def handle_record(record: SQSRecord) -> FannedOut | Attempted:
    """One message, in a worker thread: its log keys are that thread's own."""
    current = services()
    logger.thread_safe_append_keys(message_id=record.message_id)
    try:
        message = MESSAGES.validate_json(record.body)
        if isinstance(message, EventMessage):
            logger.thread_safe_append_keys(
                correlation_id=message.data.correlation_id, event_id=message.event_id, user_id=message.user_id
            )
            return current.fanout.handle(message)
        logger.thread_safe_append_keys(user_id=message.user_id, endpoint_id=message.endpoint_id)
        attempted = current.deliverer.handle(message)
        if attempted.outcome is None:
            logger.info("nothing sent", extra={"reason": attempted.note})
        return attempted
    except Exception:
        logger.exception("webhook message failed; it will be retried")
        raise
    finally:
        logger.thread_safe_clear_keys()


async def record_handler(record: SQSRecord) -> FannedOut | Attempted:
    return await asyncio.to_thread(handle_record, record)


def _count(outcomes: list[tuple[Any, ...]]) -> None:
    """The batch's metrics, from this thread (Powertools' metric set is not made for threads)."""
    for status, result, _ in outcomes:
        if status != "success":
            metrics.add_metric(name="WebhookMessagesFailed", unit=MetricUnit.Count, value=1)
        elif isinstance(result, FannedOut):
            metrics.add_metric(name="WebhookDeliveriesCreated", unit=MetricUnit.Count, value=result.created)
        elif isinstance(result, Attempted) and result.outcome is not None:
            metrics.add_metric(name=OUTCOME_METRICS[result.outcome], unit=MetricUnit.Count, value=1)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    services()  # a misconfigured function fails the whole invocation, not each record
    with processor(records=event.get("Records", []), handler=record_handler, lambda_context=context):
        _count(processor.async_process())
    return processor.response()
