"""The webhook queue on moto (what infra/constructs/webhooks.py deploys), and the events producers sent."""

from __future__ import annotations

import pytest

from fileflow_common.webhooks.events import EventMessage
from tests.integration.conftest import Cloud

WEBHOOK_QUEUE_NAME = "fileflow-webhooks"


def create_webhook_queue(cloud: Cloud, monkeypatch: pytest.MonkeyPatch) -> str:
    """The queue, named to the functions by WEBHOOK_QUEUE_URL (before their cached services are built)."""
    url = cloud.sqs.create_queue(QueueName=WEBHOOK_QUEUE_NAME)["QueueUrl"]
    monkeypatch.setenv("WEBHOOK_QUEUE_URL", url)
    return url


def queued_events(cloud: Cloud, queue_url: str) -> list[EventMessage]:
    """Every message on the queue, parsed back, in the order they were sent."""
    events: list[EventMessage] = []
    while messages := cloud.sqs.receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=300
    ).get("Messages", []):
        events.extend(EventMessage.model_validate_json(message["Body"]) for message in messages)
    return events
