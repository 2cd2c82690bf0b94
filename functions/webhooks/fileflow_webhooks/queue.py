"""SQS adapter: attempt messages back onto the webhook queue (the first at once, a retry delayed)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fileflow_common.webhooks.events import AttemptMessage

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


class SqsAttemptQueue:
    def __init__(self, client: SQSClient, queue_url: str) -> None:
        self._client = client
        self._queue_url = queue_url

    def send(self, message: AttemptMessage, delay_seconds: int = 0) -> None:
        self._client.send_message(
            QueueUrl=self._queue_url, MessageBody=message.model_dump_json(), DelaySeconds=delay_seconds
        )
