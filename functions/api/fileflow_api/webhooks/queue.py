"""SQS adapter of AttemptQueue: a redelivery is an `AttemptMessage` on the webhook queue."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fileflow_api.webhooks.errors import WebhooksUnavailableError
from fileflow_common.webhooks.events import AttemptMessage

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


class SqsAttemptQueue:
    def __init__(self, sqs: SQSClient, queue_url: str) -> None:
        self._sqs = sqs
        self._queue_url = queue_url

    def send(self, message: AttemptMessage) -> None:
        # A botocore error propagates: 503 (throttling, 5xx) or 500, and the client asks again.
        self._sqs.send_message(QueueUrl=self._queue_url, MessageBody=message.model_dump_json())


class UnconfiguredAttemptQueue:
    """No WEBHOOK_QUEUE_URL (a deployment without the sender): a redelivery answers 503."""

    def send(self, message: AttemptMessage) -> None:
        raise WebhooksUnavailableError(
            "webhook delivery is not configured on this deployment (WEBHOOK_QUEUE_URL)"
        )
