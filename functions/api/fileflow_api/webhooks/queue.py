"""Where a redelivery goes when the deployment has no webhook queue (the SQS adapter of AttemptQueue is
fileflow_common.webhooks.queue.SqsAttemptQueue)."""

from __future__ import annotations

from fileflow_api.webhooks.errors import WebhooksUnavailableError
from fileflow_common.webhooks.events import AttemptMessage


class UnconfiguredAttemptQueue:
    """No WEBHOOK_QUEUE_URL (a deployment without the sender): a redelivery answers 503."""

    def send(self, message: AttemptMessage) -> None:
        raise WebhooksUnavailableError(
            "webhook delivery is not configured on this deployment (WEBHOOK_QUEUE_URL)"
        )
