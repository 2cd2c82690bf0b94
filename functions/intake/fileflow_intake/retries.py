"""SQS adapter: a failed message comes back after a short, growing delay, not the whole visibility timeout.

The queue's visibility timeout (6 x the function timeout) protects messages in flight; a message the
processor reported as failed is retried after base x 2^(receive count - 1) seconds instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from fileflow_common.observability import logger

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

# SQS's maximum visibility timeout (12 hours).
MAX_VISIBILITY_SECONDS = 12 * 3600


def backoff_seconds(base_seconds: int, receive_count: int) -> int:
    return int(min(MAX_VISIBILITY_SECONDS, base_seconds * 2 ** max(0, receive_count - 1)))


class SqsRetryBackoff:
    def __init__(self, client: SQSClient, queue_url: str, *, base_seconds: int) -> None:
        self._client = client
        self._queue_url = queue_url
        self._base_seconds = base_seconds

    def delay(self, receipt_handle: str, receive_count: int) -> None:
        seconds = backoff_seconds(self._base_seconds, receive_count)
        try:
            self._client.change_message_visibility(
                QueueUrl=self._queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=seconds
            )
        except (ClientError, BotoCoreError) as exc:
            # The message still comes back, after the queue's visibility timeout instead.
            logger.warning("retry backoff not applied", extra={"reason": str(exc)})
