"""The webhook queue's messages, as SQS adapters.

- Producers (the notify stage, the sweeper) hand an event to the sender: one message, the `EventMessage`'s
  JSON. Its `event_id` is stable for one event, so a producer that retries after a failed or unanswered
  send queues the same event again and the fan-out delivers it once.
- Attempts (`AttemptMessage`): the sender's own (the first at once, a retry delayed) and the API's
  redeliveries.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from fileflow_common.observability import logger
from fileflow_common.webhooks.events import AttemptMessage, EventMessage

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


class WebhookEvents(Protocol):
    def publish(self, event: EventMessage) -> None:
        """Queue the event for delivery; raises when it could not be queued."""
        ...


class SqsWebhookEvents:
    def __init__(self, sqs: SQSClient, queue_url: str) -> None:
        self._sqs = sqs
        self._queue_url = queue_url

    def publish(self, event: EventMessage) -> None:
        # A botocore error propagates: the producer retries, with the same event_id.
        self._sqs.send_message(QueueUrl=self._queue_url, MessageBody=event.model_dump_json())


class UnconfiguredWebhookEvents:
    """No WEBHOOK_QUEUE_URL (a deployment from before webhooks, `sam local`): events are dropped, with one
    warning per execution environment."""

    def __init__(self) -> None:
        self._warned = False

    def publish(self, event: EventMessage) -> None:
        if not self._warned:
            logger.warning("WEBHOOK_QUEUE_URL is not set: webhook events are not sent")
            self._warned = True


def webhook_events(sqs: SQSClient, queue_url: str | None) -> WebhookEvents:
    return SqsWebhookEvents(sqs, queue_url) if queue_url else UnconfiguredWebhookEvents()


class SqsAttemptQueue:
    def __init__(self, sqs: SQSClient, queue_url: str) -> None:
        self._sqs = sqs
        self._queue_url = queue_url

    def send(self, message: AttemptMessage, delay_seconds: int = 0) -> None:
        # A botocore error propagates: the sender's record is retried; the API answers 503 (throttling,
        # 5xx) or 500, and the client asks again.
        self._sqs.send_message(
            QueueUrl=self._queue_url, MessageBody=message.model_dump_json(), DelaySeconds=delay_seconds
        )
