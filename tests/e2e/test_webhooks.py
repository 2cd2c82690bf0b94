"""Webhooks on the deployed stack (issue #12): a receiver on 127.0.0.1 gets signed events for uploads.

The e2e deploy turns the local-development allowance on (`webhooks_allow_local_http`) and shortens the
retry schedule (tests/e2e/conftest.py), so a retried delivery arrives within seconds. Every wait is on a
condition: a request at the receiver, a delivery's status, an endpoint's status.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from standardwebhooks import Webhook

from infra import outputs
from tests.e2e.conftest import AwsClients
from tests.e2e.polling import wait_for
from tests.e2e.test_isolation import Client
from tests.e2e.uploading import complete, send, upload
from tests.e2e.webhook_receiver import Receiver
from tools.stack import StackOutputs
from tools.token import TokenFactory

PROCESSED = ["file.processed", "file.failed"]


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with Receiver().running() as running:
        yield running


@pytest.fixture(scope="module")
def clients(stack: StackOutputs) -> tuple[Client, Client]:
    tokens = TokenFactory.for_stack(stack)
    run = uuid.uuid4().hex[:10]
    return (
        Client(stack.api_url, tokens.valid(f"e2e-wh-a-{run}")),
        Client(stack.api_url, tokens.valid(f"e2e-wh-b-{run}")),
    )


def register(client: Client, url: str, events: list[str] | None = None) -> dict[str, Any]:
    created: dict[str, Any] = client.ok(
        "POST",
        "/v1/webhooks",
        201,
        json={"url": url, "events": events or PROCESSED, "description": "e2e receiver"},
    )
    assert created["secret"].startswith("whsec_")
    return created


def text_upload(client: Client) -> str:
    data = f"webhook e2e {uuid.uuid4()}\n".encode()
    return upload(client, data, filename="note.txt", content_type="text/plain").file_id


def expected_signature(secret: str, received: Any) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{received.webhook_id}.{received.headers['webhook-timestamp']}.".encode() + received.body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def delivery_of(client: Client, endpoint_id: str, file_id: str, *, status: str) -> dict[str, Any]:
    """The endpoint's delivery for `file_id`, once it reached `status` (read through the delivery log)."""

    def probe() -> dict[str, Any] | None:
        log = client.ok("GET", f"/v1/webhooks/{endpoint_id}/deliveries")
        for item in log["deliveries"]:
            if item.get("file_id") == file_id and item["status"] == status:
                found: dict[str, Any] = client.ok(
                    "GET", f"/v1/webhooks/{endpoint_id}/deliveries/{item['delivery_id']}"
                )
                return found
        return None

    return wait_for(probe, timeout=120, what=f"a {status} delivery of {file_id} to {endpoint_id}")


def test_a_processed_upload_is_delivered_signed_and_redelivered_with_the_same_id(
    clients: tuple[Client, Client], receiver: Receiver
) -> None:
    alice, bob = clients
    # Given an endpoint of A's on the receiver, and one of B's
    endpoint = register(alice, receiver.url("/a-ok"))
    register(bob, receiver.url("/b-ok"))
    # When A uploads a file and it is processed
    file_id = text_upload(alice)
    (received,) = receiver.wait("/a-ok")
    # Then the receiver got file.processed, and the standardwebhooks library verifies its signature
    body = Webhook(endpoint["secret"]).verify(received.body, received.headers)
    assert body["type"] == "file.processed"
    assert body["data"]["file_id"] == file_id
    assert body["data"]["status"] == "processed"
    assert body["data"]["correlation_id"]
    assert set(body) == {"type", "timestamp", "data"}
    assert "http" not in received.body.decode()  # never a (presigned) URL in a payload
    # And B's endpoint gets B's events only (B's own upload arrives; A's never does)
    bobs = text_upload(bob)
    receiver.wait("/b-ok")
    assert [json.loads(request.body)["data"]["file_id"] for request in receiver.received("/b-ok")] == [bobs]
    # And the file shows the delivery
    delivered = delivery_of(alice, endpoint["endpoint_id"], file_id, status="succeeded")
    file = alice.ok("GET", f"/v1/files/{file_id}")
    assert [d["delivery_id"] for d in file["deliveries"]] == [delivered["delivery_id"]]
    # When A asks for a redelivery / Then the same webhook-id arrives again, newly signed
    alice.ok(
        "POST",
        f"/v1/webhooks/{endpoint['endpoint_id']}/deliveries/{delivered['delivery_id']}/redeliver",
        202,
    )
    first, again = receiver.wait("/a-ok", 2)
    assert again.webhook_id == first.webhook_id
    assert json.loads(again.body) == json.loads(first.body)
    Webhook(endpoint["secret"]).verify(again.body, again.headers)


def test_a_failing_receiver_gets_the_event_on_the_third_attempt(
    clients: tuple[Client, Client], receiver: Receiver
) -> None:
    alice, _ = clients
    # Given a receiver that answers 500 twice, then 200
    receiver.script("/flaky", 500, 500)
    endpoint = register(alice, receiver.url("/flaky"))
    # When a file is processed
    file_id = text_upload(alice)
    # Then the third attempt delivers it, with the same webhook-id each time
    requests_seen = receiver.wait("/flaky", 3)
    assert [request.answered for request in requests_seen] == [500, 500, 200]
    assert len({request.webhook_id for request in requests_seen}) == 1
    # And the delivery log shows the three attempts with their status codes
    delivery = delivery_of(alice, endpoint["endpoint_id"], file_id, status="succeeded")
    assert [attempt["status_code"] for attempt in delivery["attempts"]] == [500, 500, 200]
    assert all(attempt["duration_ms"] >= 0 for attempt in delivery["attempts"])
    assert alice.ok("GET", f"/v1/webhooks/{endpoint['endpoint_id']}")["status"] == "enabled"


def test_410_disables_the_endpoint(clients: tuple[Client, Client], receiver: Receiver) -> None:
    alice, _ = clients
    receiver.script("/gone", 410)
    endpoint = register(alice, receiver.url("/gone"))
    register(alice, receiver.url("/gone-control"))
    text_upload(alice)
    receiver.wait("/gone")

    def disabled() -> dict[str, Any] | None:
        found: dict[str, Any] = alice.ok("GET", f"/v1/webhooks/{endpoint['endpoint_id']}")
        return found if found["status"] == "disabled" else None

    found = wait_for(disabled, timeout=60, what="the endpoint to be disabled")
    assert "410" in found["disabled_reason"]
    assert found["disabled_at"]
    # And nothing more is sent to it: a later event reaches the control endpoint only
    later = text_upload(alice)
    wait_for(
        lambda: any(later.encode() in request.body for request in receiver.received("/gone-control")),
        timeout=120,
        what="the later event at the control endpoint",
    )
    assert len(receiver.received("/gone")) == 1
    assert len(receiver.received("/gone-control")) == 2


def test_during_rotation_a_delivery_carries_both_signatures(
    clients: tuple[Client, Client], receiver: Receiver
) -> None:
    alice, _ = clients
    endpoint = register(alice, receiver.url("/rotating"))
    rotated = alice.ok(
        "POST",
        f"/v1/webhooks/{endpoint['endpoint_id']}/rotate-secret",
        200,
        json={"overlap_seconds": 3600},
    )
    old, new = endpoint["secret"], rotated["secret"]
    assert new != old
    text_upload(alice)
    (received,) = receiver.wait("/rotating")
    # Each signature verifies with its own secret, and each secret verifies the delivery
    assert sorted(received.signatures) == sorted(
        [expected_signature(old, received), expected_signature(new, received)]
    )
    for secret in (old, new):
        Webhook(secret).verify(received.body, received.headers)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://10.0.0.5/hook", "private"),
        ("https://169.254.169.254/latest/meta-data/", "metadata"),
        ("https://[::ffff:192.168.0.1]/hook", "private"),
        ("ftp://127.0.0.1/hook", "https"),
    ],
)
def test_private_and_metadata_targets_are_refused(
    clients: tuple[Client, Client], url: str, reason: str
) -> None:
    alice, _ = clients
    response = alice("POST", "/v1/webhooks", json={"url": url, "events": PROCESSED})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "UnsafeWebhookUrl"
    assert reason in error["message"]


def test_one_user_cannot_reach_another_users_endpoints_or_deliveries(
    clients: tuple[Client, Client], receiver: Receiver
) -> None:
    alice, bob = clients
    endpoint = register(alice, receiver.url("/a-private"))
    file_id = text_upload(alice)
    delivery = delivery_of(alice, endpoint["endpoint_id"], file_id, status="succeeded")
    base = f"/v1/webhooks/{endpoint['endpoint_id']}"
    attempts = {
        "GET endpoint": bob("GET", base),
        "PATCH endpoint": bob("PATCH", base, json={"description": "mine"}),
        "rotate secret": bob("POST", f"{base}/rotate-secret", json={}),
        "list deliveries": bob("GET", f"{base}/deliveries"),
        "GET delivery": bob("GET", f"{base}/deliveries/{delivery['delivery_id']}"),
        "redeliver": bob("POST", f"{base}/deliveries/{delivery['delivery_id']}/redeliver"),
        "DELETE endpoint": bob("DELETE", base),
    }
    assert {what: response.status_code for what, response in attempts.items()} == dict.fromkeys(attempts, 404)
    listed = bob.ok("GET", "/v1/webhooks")
    assert endpoint["endpoint_id"] not in json.dumps(listed)
    # And A's endpoint is unchanged, its secret never shown again
    after = alice.ok("GET", base)
    assert (after["status"], after["description"]) == ("enabled", "e2e receiver")
    assert "secret" not in after


def test_an_uploads_callback_url_gets_its_events_signed_with_the_default_endpoint_secret(
    stack: StackOutputs, receiver: Receiver
) -> None:
    tokens = TokenFactory.for_stack(stack)
    run = uuid.uuid4().hex[:8]
    carol = Client(stack.api_url, tokens.valid(f"e2e-wh-c-{run}"))
    dave = Client(stack.api_url, tokens.valid(f"e2e-wh-d-{run}"))
    body = {"filename": "cb.txt", "content_type": "text/plain", "callback_url": receiver.url("/cb")}
    # Given a user without an endpoint: a callback_url is refused (nothing could sign its deliveries)
    refused = dave("POST", "/v1/uploads", json={**body, "size": 3})
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["code"] == "CallbackWithoutEndpoint"
    # And a user with two endpoints: the oldest is the default
    default = register(carol, receiver.url("/cb-default"))
    newer = register(carol, receiver.url("/cb-newer"))
    # When carol uploads with a one-off callback_url
    data = f"callback {run}\n".encode()
    session = carol.ok("POST", "/v1/uploads", 201, json={**body, "size": len(data)})
    send(carol, session, data)
    complete(carol, session)
    # Then the callback gets the file's event, signed with the default endpoint's secret only
    (received,) = receiver.wait("/cb")
    event = Webhook(default["secret"]).verify(received.body, received.headers)
    assert (event["type"], event["data"]["file_id"]) == ("file.processed", session["file_id"])
    assert received.signatures == [expected_signature(default["secret"], received)]
    assert expected_signature(newer["secret"], received) not in received.signatures
    # And the file shows its callback_url; the endpoints got the event too, each its own delivery
    assert carol.ok("GET", f"/v1/files/{session['file_id']}")["callback_url"] == receiver.url("/cb")
    receiver.wait("/cb-default")
    receiver.wait("/cb-newer")


@pytest.fixture
def without_local_allowance(stack: StackOutputs, aws: AwsClients) -> Iterator[None]:
    """The deployed API as `make up` deploys it by default: WEBHOOKS_ALLOW_LOCAL_HTTP off (restored after)."""
    name = stack[outputs.API_FUNCTION_NAME]
    before = aws.lambda_.get_function_configuration(FunctionName=name)["Environment"]["Variables"]
    assert before["WEBHOOKS_ALLOW_LOCAL_HTTP"] == "true"  # the e2e deploy's context

    def configure(variables: dict[str, str]) -> None:
        aws.lambda_.update_function_configuration(FunctionName=name, Environment={"Variables": variables})
        aws.lambda_.get_waiter("function_updated_v2").wait(FunctionName=name)

    configure({**before, "WEBHOOKS_ALLOW_LOCAL_HTTP": "false"})
    try:
        yield
    finally:
        configure(before)


@pytest.mark.usefixtures("without_local_allowance")
@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/hook", "http://localhost:9000/hook"])
def test_without_the_allowance_local_http_targets_are_refused(stack: StackOutputs, url: str) -> None:
    user = Client(stack.api_url, TokenFactory.for_stack(stack).valid(f"e2e-wh-e-{uuid.uuid4().hex[:8]}"))
    response = user("POST", "/v1/webhooks", json={"url": url, "events": PROCESSED})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "UnsafeWebhookUrl"
    assert "allowed only with the local-development setting" in error["message"]
