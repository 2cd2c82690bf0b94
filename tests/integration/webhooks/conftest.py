"""The webhook sender in-process against moto, delivering to a real receiver on 127.0.0.1.

Attempt messages the handler queues are read back from the (moto) webhook queue and fed to the handler
again, as the event source mapping would: `Sender.drain()`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from boto3.dynamodb.conditions import Key

from fileflow_common.clock import to_timestamp, utc_now
from fileflow_common.webhooks.events import EVENT_TYPES, EventData, EventMessage, EventType, new_event
from fileflow_common.webhooks.items import new_endpoint_id, new_secret
from fileflow_webhooks import handler
from tests.integration.conftest import Cloud, FakeLambdaContext

WEBHOOK_QUEUE = "fileflow-webhooks"
USER = "alice"


def sqs_record(body: str, message_id: str | None = None) -> dict[str, Any]:
    return {
        "messageId": message_id or str(uuid.uuid4()),
        "receiptHandle": "receipt-" + uuid.uuid4().hex,
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1777888800100",
            "SenderId": "AROA4DJ4AJP3TEXAMPLE:fileflow",
            "ApproximateFirstReceiveTimestamp": "1777888800112",
        },
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:us-east-1:123456789012:{WEBHOOK_QUEUE}",
        "awsRegion": "us-east-1",
    }


@dataclass
class Sender:
    cloud: Cloud
    queue_url: str
    context: FakeLambdaContext

    def invoke(self, *bodies: str) -> dict[str, Any]:
        event = {"Records": [sqs_record(body) for body in bodies]}
        return dict(handler.lambda_handler(event, self.context))

    def queued(self) -> list[str]:
        """The messages waiting (and visible) on the webhook queue, taken off it."""
        bodies: list[str] = []
        while True:
            messages = self.cloud.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get(
                "Messages", []
            )
            if not messages:
                return bodies
            for message in messages:
                bodies.append(message["Body"])
                self.cloud.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])

    def drain(self, rounds: int = 20) -> int:
        """Feed the queued attempt messages back until none is left; returns how many were handled."""
        handled = 0
        for _ in range(rounds):
            bodies = self.queued()
            if not bodies:
                return handled
            response = self.invoke(*bodies)
            assert response == {"batchItemFailures": []}, response
            handled += len(bodies)
        raise AssertionError(f"the queue did not drain in {rounds} rounds")

    def delayed(self) -> int:
        attributes = self.cloud.sqs.get_queue_attributes(
            QueueUrl=self.queue_url, AttributeNames=["ApproximateNumberOfMessagesDelayed"]
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessagesDelayed"])

    # --- the table -----------------------------------------------------------------------------------------
    def add_endpoint(
        self, url: str, *, events: tuple[str, ...] = EVENT_TYPES, created_at: str | None = None
    ) -> tuple[str, str]:
        """An endpoint as the API stores it; returns (endpoint_id, secret)."""
        endpoint_id, secret, now = new_endpoint_id(), new_secret(), to_timestamp(utc_now())
        self.cloud.table.put_item(
            Item={
                "pk": f"USER#{USER}",
                "sk": f"WEBHOOK#{endpoint_id}",
                "entity": "webhook",
                "endpoint_id": endpoint_id,
                "user_id": USER,
                "url": url,
                "events": list(events),
                "description": "test endpoint",
                "status": "enabled",
                "secrets": [{"secret": secret, "created_at": now}],
                "consecutive_failures": 0,
                "created_at": created_at or now,
                "updated_at": now,
            }
        )
        return endpoint_id, secret

    def endpoint(self, endpoint_id: str) -> dict[str, Any]:
        item = self.cloud.table.get_item(Key={"pk": f"USER#{USER}", "sk": f"WEBHOOK#{endpoint_id}"})["Item"]
        return dict(item)

    def deliveries(self) -> list[dict[str, Any]]:
        return self._query(f"USER#{USER}", "DELIVERY#")

    def file_pointers(self, file_id: str) -> list[dict[str, Any]]:
        return self._query(f"FILE#{file_id}", "DELIVERY#")

    def file_events(self, file_id: str) -> list[dict[str, Any]]:
        return self._query(f"FILE#{file_id}", "EVENT#")

    def _query(self, pk: str, prefix: str) -> list[dict[str, Any]]:
        return list(
            self.cloud.table.query(KeyConditionExpression=Key("pk").eq(pk) & Key("sk").begins_with(prefix))[
                "Items"
            ]
        )


def file_event(
    file_id: str = "file-1", *, identity: str = "job-1", callback_url: str | None = None
) -> EventMessage:
    return new_event(
        user_id=USER,
        type=EventType.FILE_PROCESSED,
        data=EventData(file_id=file_id, status="processed", correlation_id="corr-" + identity),
        identity=(identity,),
        callback_url=callback_url,
    )


@pytest.fixture
def sender(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch, lambda_context: FakeLambdaContext
) -> Iterator[Sender]:
    # Given the webhook queue and the sender's environment: a schedule of four immediate retries (the
    # jitter of 0 s is 0 s, so no test waits), the local allowance, three failed deliveries to disable
    queue_url = cloud.sqs.create_queue(QueueName=WEBHOOK_QUEUE)["QueueUrl"]
    monkeypatch.setenv("WEBHOOK_QUEUE_URL", queue_url)
    monkeypatch.setenv("WEBHOOK_RETRY_SCHEDULE", "0,0,0,0")
    monkeypatch.setenv("WEBHOOK_DISABLE_AFTER", "3")
    monkeypatch.setenv("WEBHOOKS_ALLOW_LOCAL_HTTP", "true")
    handler.services.cache_clear()
    yield Sender(cloud, queue_url, lambda_context)
    handler.services.cache_clear()
