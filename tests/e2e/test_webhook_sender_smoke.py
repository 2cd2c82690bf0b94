"""The deployed sender on the local cloud: an event queued to the webhook queue reaches a receiver on
127.0.0.1, signed, and a failed attempt is retried (the e2e deploy: local http, a 1 s schedule)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import boto3
import pytest
from boto3.dynamodb.conditions import Key
from standardwebhooks import Webhook

from fileflow_common.clock import to_timestamp, utc_now
from fileflow_common.webhooks.events import EVENT_TYPES, EventData, EventType, new_event
from fileflow_common.webhooks.items import new_endpoint_id, new_secret
from infra import outputs
from tests.e2e.conftest import AwsClients
from tests.e2e.polling import wait_for
from tests.webhook_receiver import Reply, receiver
from tools.stack import StackOutputs, client_kwargs, endpoint_url

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(endpoint_url() is None, reason="webhooks to 127.0.0.1 need the local cloud"),
]


def _add_endpoint(aws: AwsClients, table: str, user_id: str, url: str) -> str:
    """An endpoint as the API stores it (the API's own tests create theirs through the routes)."""
    secret, now = new_secret(), to_timestamp(utc_now())
    endpoint_id = new_endpoint_id()
    item: dict[str, Any] = {
        "pk": {"S": f"USER#{user_id}"},
        "sk": {"S": f"WEBHOOK#{endpoint_id}"},
        "entity": {"S": "webhook_endpoint"},
        "endpoint_id": {"S": endpoint_id},
        "user_id": {"S": user_id},
        "url": {"S": url},
        "events": {"L": [{"S": event} for event in EVENT_TYPES]},
        "description": {"S": "sender smoke test"},
        "status": {"S": "enabled"},
        "secrets": {"L": [{"M": {"secret": {"S": secret}, "created_at": {"S": now}}}]},
        "consecutive_failures": {"N": "0"},
        "created_at": {"S": now},
        "updated_at": {"S": now},
    }
    aws.dynamodb.put_item(TableName=table, Item=item)
    return secret


def test_a_queued_event_reaches_a_local_receiver_signed_after_one_retry(
    stack: StackOutputs, aws: AwsClients
) -> None:
    table_name = stack[outputs.TABLE_NAME]
    user_id = f"smoke-{uuid.uuid4().hex[:12]}"
    with receiver([Reply(500)]) as hook:
        # Given an endpoint of a fresh user whose receiver (on this host) fails once, then accepts
        secret = _add_endpoint(aws, table_name, user_id, hook.url())
        event = new_event(
            user_id=user_id,
            type=EventType.FILE_PROCESSED,
            data=EventData(
                file_id=f"file-{uuid.uuid4().hex[:8]}", status="processed", correlation_id="smoke"
            ),
            identity=(user_id,),
        )
        # When a producer queues the event
        aws.sqs.send_message(QueueUrl=stack[outputs.WEBHOOK_QUEUE_URL], MessageBody=event.model_dump_json())
        # Then the receiver gets it twice (500, then the retry 1 s later), each request verified
        requests = wait_for(
            lambda: hook.requests if len(hook.requests) >= 2 else None,
            timeout=90,
            what="two webhook requests",
        )
    for request in requests:
        assert Webhook(secret).verify(request.body, request.headers)["data"]["correlation_id"] == "smoke"
    assert len({request.headers["webhook-id"] for request in requests}) == 1
    # And the delivery records both attempts and succeeded
    table = boto3.resource("dynamodb", **client_kwargs()).Table(table_name)

    def succeeded() -> dict[str, Any] | None:
        items = table.query(
            KeyConditionExpression=Key("pk").eq(f"USER#{user_id}") & Key("sk").begins_with("DELIVERY#")
        )["Items"]
        return items[0] if items and items[0]["status"] == "succeeded" else None

    delivery = wait_for(succeeded, timeout=30, what="the delivery to succeed")
    assert [int(a["status_code"]) for a in delivery["attempts"]] == [500, 200]
    assert json.loads(str(delivery["payload"]))["type"] == "file.processed"
