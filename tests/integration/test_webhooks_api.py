"""/v1/webhooks through the Lambda handler, against moto: endpoints (create, list, read, change, delete,
rotate), their delivery logs and redelivery, GET /v1/files/{id}'s deliveries, and one user's requests
never reaching another's endpoints or deliveries.

Deliveries are written the way the sender writes them (fileflow_common.webhooks.items' layout), straight
into the table. Targets are IP literals: a registration resolves no name, so these tests need no DNS.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from boto3.dynamodb.conditions import Key

from fileflow_common.clock import from_timestamp, to_timestamp
from fileflow_common.webhooks.events import AttemptMessage
from fileflow_common.webhooks.items import (
    delivery_id_for,
    delivery_sk,
    endpoint_sk,
    file_delivery_sk,
    file_pk,
    user_pk,
    webhook_id,
)
from fileflow_common.webhooks.targets import TargetPolicy, UnsafeTargetError, check_target
from tests.integration.api_requests import ALICE, BOB, Answer, call
from tests.integration.conftest import Cloud, FakeLambdaContext

PUBLIC_URL = "https://93.184.215.14/fileflow"  # a public address: accepted without a DNS lookup
EVENTS = ["file.processed", "file.failed"]
T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


@pytest.fixture
def queue_url(cloud: Cloud, monkeypatch: pytest.MonkeyPatch) -> str:
    """The sender's queue, named to the API as the stack does (WEBHOOK_QUEUE_URL)."""
    url = cloud.sqs.create_queue(QueueName="fileflow-webhooks")["QueueUrl"]
    monkeypatch.setenv("WEBHOOK_QUEUE_URL", url)
    return url


@pytest.fixture
def api(cloud: Cloud, queue_url: str, lambda_context: FakeLambdaContext) -> FakeLambdaContext:
    return lambda_context


def create(
    api: FakeLambdaContext, *, url: str = PUBLIC_URL, user: str = ALICE, description: str = "orders"
) -> dict[str, Any]:
    answer = call(
        api,
        "POST",
        "/v1/webhooks",
        body={"url": url, "events": EVENTS, "description": description},
        user=user,
    )
    assert answer.status == 201, answer.body
    return dict(answer.body)


def stored_endpoint(cloud: Cloud, user: str, endpoint_id: str) -> dict[str, Any]:
    item = cloud.table.get_item(Key={"pk": user_pk(user), "sk": endpoint_sk(endpoint_id)}).get("Item")
    assert item is not None
    return dict(item)


def seed_delivery(
    cloud: Cloud,
    user: str,
    endpoint_id: str,
    n: int,
    *,
    status: str = "succeeded",
    codes: tuple[int | None, ...] = (200,),
    file_id: str | None = None,
) -> str:
    """A delivery as the sender's fan-out and attempts leave it (created n minutes after T0)."""
    created = T0 + timedelta(minutes=n)
    event_id = f"evt_{n:032x}"
    delivery_id = delivery_id_for(event_id, endpoint_id, created_ms=int(created.timestamp() * 1000))
    body = {"type": "file.processed", "timestamp": to_timestamp(created), "data": {"status": "processed"}}
    if file_id:
        body["data"] = {"file_id": file_id, "status": "processed"}
    cloud.table.put_item(
        Item={
            "pk": user_pk(user),
            "sk": delivery_sk(endpoint_id, delivery_id),
            "delivery_id": delivery_id,
            "webhook_id": webhook_id(delivery_id),
            "endpoint_id": endpoint_id,
            "user_id": user,
            "event_id": event_id,
            "event_type": "file.processed",
            **({"file_id": file_id} if file_id else {}),
            "payload": json.dumps(body, separators=(",", ":"), sort_keys=True),
            "status": status,
            "attempts": [
                {
                    "attempt": index + 1,
                    "at": to_timestamp(created + timedelta(seconds=index)),
                    "status_code": code,
                    "duration_ms": 40 + index,
                    "error": None if code else "connection refused",
                    "next_attempt_at": None,
                }
                for index, code in enumerate(codes)
            ],
            "created_at": to_timestamp(created),
            "updated_at": to_timestamp(created + timedelta(seconds=len(codes))),
        }
    )
    return delivery_id


def seed_file_pointer(cloud: Cloud, user: str, file_id: str, endpoint_id: str, delivery_id: str) -> None:
    """The `FILE#{f}`/`DELIVERY#{d}` pointer the sender keeps next to a file's delivery."""
    cloud.table.put_item(
        Item={
            "pk": file_pk(file_id),
            "sk": file_delivery_sk(delivery_id),
            "delivery_id": delivery_id,
            "endpoint_id": endpoint_id,
            "user_id": user,
            "event_type": "file.processed",
            "status": "retrying",
            "attempt_count": 2,
            "last_status_code": 503,
            "updated_at": "2026-12-01T10:00:05.000Z",
        }
    )


def queued(cloud: Cloud, queue_url: str) -> list[dict[str, Any]]:
    messages = cloud.sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(message["Body"]) for message in messages]


def guard_message(url: str) -> str:
    try:
        check_target(url, TargetPolicy())
    except UnsafeTargetError as exc:
        return str(exc)
    raise AssertionError(f"{url} passed the guard")


# --- create, read, list -------------------------------------------------------------------------------------


def test_a_created_endpoint_shows_its_secret_once_and_never_again(
    api: FakeLambdaContext, cloud: Cloud
) -> None:
    # Given an endpoint created by A
    created = create(api)
    secret = created["secret"]
    # Then the create answers the endpoint and a Standard Webhooks secret: whsec_ + 32 random bytes
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 32
    assert created["endpoint_id"].startswith("ep_")
    assert (created["url"], created["events"], created["description"], created["status"]) == (
        PUBLIC_URL,
        EVENTS,
        "orders",
        "enabled",
    )
    assert created["consecutive_failures"] == 0
    assert created["secrets"] == [{"created_at": created["created_at"], "expires_at": None}]
    # And the table holds it in A's partition, with the secret the sender signs with
    assert stored_endpoint(cloud, ALICE, created["endpoint_id"])["secrets"][0]["secret"] == secret
    # And neither GET, the list nor a PATCH answer shows the secret again
    path = f"/v1/webhooks/{created['endpoint_id']}"
    answers = [
        call(api, "GET", path),
        call(api, "GET", "/v1/webhooks"),
        call(api, "PATCH", path, body={"description": "renamed"}),
    ]
    assert [answer.status for answer in answers] == [200, 200, 200]
    for answer in answers:
        assert secret not in json.dumps(answer.body)
        assert secret.removeprefix("whsec_") not in json.dumps(answer.body)
    got, listed, patched = (answer.body for answer in answers)
    assert "secret" not in got
    assert "secret" not in patched
    assert [endpoint["endpoint_id"] for endpoint in listed["webhooks"]] == [created["endpoint_id"]]
    assert all("secret" not in endpoint for endpoint in listed["webhooks"])
    assert got == {name: value for name, value in created.items() if name != "secret"}
    assert patched["description"] == "renamed"


def test_the_list_holds_the_callers_endpoints_oldest_first(api: FakeLambdaContext) -> None:
    first = create(api, description="first")
    second = create(api, description="second")
    create(api, user=BOB, description="bob's")
    listed = call(api, "GET", "/v1/webhooks")
    assert listed.status == 200, listed.body
    assert [endpoint["endpoint_id"] for endpoint in listed.body["webhooks"]] == [
        first["endpoint_id"],
        second["endpoint_id"],
    ]


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8080/hook", "https://10.0.0.5/hook", "https://169.254.169.254/latest/meta-data/"],
)
def test_unsafe_urls_are_refused_with_the_guards_reason(
    api: FakeLambdaContext, cloud: Cloud, url: str
) -> None:
    # When an endpoint is registered for a loopback (without the allowance), private or metadata address
    answer = call(api, "POST", "/v1/webhooks", body={"url": url, "events": EVENTS})
    # Then 422 UnsafeWebhookUrl with the SSRF guard's own message, and nothing is stored
    assert (answer.status, answer.error_code) == (422, "UnsafeWebhookUrl"), answer.body
    assert answer.body["error"]["message"] == guard_message(url)
    assert call(api, "GET", "/v1/webhooks").body["webhooks"] == []


def test_the_refusals_name_the_reason(api: FakeLambdaContext) -> None:
    reasons = {
        url: call(api, "POST", "/v1/webhooks", body={"url": url, "events": EVENTS}).body["error"]["message"]
        for url in ("http://127.0.0.1:8080/hook", "https://10.0.0.5/hook", "https://169.254.169.254/")
    }
    assert "webhooks_allow_local_http" in reasons["http://127.0.0.1:8080/hook"]
    assert "private" in reasons["https://10.0.0.5/hook"]
    assert "metadata" in reasons["https://169.254.169.254/"]


def test_local_http_is_accepted_with_the_local_development_allowance(
    cloud: Cloud, queue_url: str, lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEBHOOKS_ALLOW_LOCAL_HTTP", "true")
    created = create(lambda_context, url="http://127.0.0.1:8080/hook")
    assert created["url"] == "http://127.0.0.1:8080/hook"
    # but nothing else private
    refused = call(
        lambda_context, "POST", "/v1/webhooks", body={"url": "https://10.0.0.5/", "events": EVENTS}
    )
    assert (refused.status, refused.error_code) == (422, "UnsafeWebhookUrl")


@pytest.mark.parametrize(
    ("body", "location"),
    [
        ({"url": PUBLIC_URL, "events": []}, "body.events"),
        ({"url": PUBLIC_URL, "events": ["file.processed", "file.processed"]}, "body.events"),
        ({"url": PUBLIC_URL, "events": ["file.deleted"]}, "body.events.0"),
        ({"url": PUBLIC_URL, "events": EVENTS, "description": "x" * 201}, "body.description"),
        ({"events": EVENTS}, "body.url"),
        ({"url": PUBLIC_URL, "events": EVENTS, "secret": "whsec_mine"}, "body.secret"),
    ],
)
def test_invalid_registrations_are_refused(
    api: FakeLambdaContext, body: dict[str, Any], location: str
) -> None:
    answer = call(api, "POST", "/v1/webhooks", body=body)
    assert (answer.status, answer.error_code) == (422, "InvalidRequest"), answer.body
    assert answer.body["error"]["message"].startswith(location + ":")


def test_the_21st_endpoint_is_refused_until_one_is_deleted(api: FakeLambdaContext) -> None:
    ids = [create(api)["endpoint_id"] for _ in range(20)]
    refused = call(api, "POST", "/v1/webhooks", body={"url": PUBLIC_URL, "events": EVENTS})
    assert (refused.status, refused.error_code) == (409, "WebhookLimitReached"), refused.body
    assert "at most 20 webhook endpoints per user" in refused.body["error"]["message"]
    assert len(call(api, "GET", "/v1/webhooks").body["webhooks"]) == 20
    # Another user's limit is their own
    create(api, user=BOB)
    # When one is deleted / Then there is room for one more, and one only
    assert call(api, "DELETE", f"/v1/webhooks/{ids[0]}").status == 204
    create(api)
    assert call(api, "POST", "/v1/webhooks", body={"url": PUBLIC_URL, "events": EVENTS}).status == 409


# --- change, delete, rotate ---------------------------------------------------------------------------------


def test_patch_changes_only_the_given_fields(api: FakeLambdaContext) -> None:
    created = create(api)
    path = f"/v1/webhooks/{created['endpoint_id']}"
    answer = call(api, "PATCH", path, body={"events": ["upload.expired"], "url": "https://93.184.215.15/new"})
    assert answer.status == 200, answer.body
    assert (answer.body["events"], answer.body["url"], answer.body["description"]) == (
        ["upload.expired"],
        "https://93.184.215.15/new",
        "orders",
    )
    assert call(api, "GET", path).body["events"] == ["upload.expired"]
    # An unsafe URL or an empty change is refused, and changes nothing
    unsafe = call(api, "PATCH", path, body={"url": "https://10.0.0.5/hook"})
    assert (unsafe.status, unsafe.error_code) == (422, "UnsafeWebhookUrl")
    empty = call(api, "PATCH", path, body={})
    assert (empty.status, empty.error_code) == (422, "InvalidRequest")
    assert call(api, "GET", path).body["url"] == "https://93.184.215.15/new"


def test_re_enabling_clears_the_reason_and_the_failure_count(api: FakeLambdaContext, cloud: Cloud) -> None:
    # Given an endpoint the sender disabled after failures
    created = create(api)
    cloud.table.update_item(
        Key={"pk": user_pk(ALICE), "sk": endpoint_sk(created["endpoint_id"])},
        UpdateExpression="SET #s = :d, disabled_reason = :r, disabled_at = :at, consecutive_failures = :n",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={
            ":d": "disabled",
            ":r": "5 consecutive deliveries failed; last: 500",
            ":at": "2026-12-01T10:00:00.000Z",
            ":n": 5,
        },
    )
    path = f"/v1/webhooks/{created['endpoint_id']}"
    shown = call(api, "GET", path).body
    assert (shown["status"], shown["disabled_reason"], shown["consecutive_failures"]) == (
        "disabled",
        "5 consecutive deliveries failed; last: 500",
        5,
    )
    # When its owner re-enables it
    answer = call(api, "PATCH", path, body={"enabled": True})
    # Then it is enabled, without a reason, a date or failures, in the answer and in the table
    assert answer.status == 200, answer.body
    expected = ("enabled", None, None, 0)
    fields = ("status", "disabled_reason", "disabled_at", "consecutive_failures")
    assert tuple(answer.body[name] for name in fields) == expected
    item = stored_endpoint(cloud, ALICE, created["endpoint_id"])
    assert tuple(item.get(name) for name in fields) == expected
    # And disabling it names its owner as the reason
    disabled = call(api, "PATCH", path, body={"enabled": False}).body
    assert (disabled["status"], disabled["disabled_reason"]) == (
        "disabled",
        "disabled by its owner (PATCH enabled=false)",
    )
    assert disabled["disabled_at"]


def test_a_deleted_endpoint_is_gone(api: FakeLambdaContext, cloud: Cloud) -> None:
    created = create(api)
    path = f"/v1/webhooks/{created['endpoint_id']}"
    deleted = call(api, "DELETE", path)
    assert (deleted.status, deleted.body) == (204, None)
    assert call(api, "GET", path).error_code == "WebhookNotFound"
    assert call(api, "GET", "/v1/webhooks").body["webhooks"] == []
    assert (
        cloud.table.get_item(Key={"pk": user_pk(ALICE), "sk": endpoint_sk(created["endpoint_id"])}).get(
            "Item"
        )
        is None
    )
    again = call(api, "DELETE", path)
    assert (again.status, again.error_code) == (404, "WebhookNotFound")


def test_rotation_shows_the_new_secret_once_and_the_old_one_expires_after_the_overlap(
    api: FakeLambdaContext, cloud: Cloud
) -> None:
    created = create(api)
    path = f"/v1/webhooks/{created['endpoint_id']}"
    before = datetime.now(UTC)
    rotated = call(api, "POST", f"{path}/rotate-secret", body={"overlap_seconds": 3600})
    assert rotated.status == 200, rotated.body
    new = rotated.body["secret"]
    assert new.startswith("whsec_")
    assert new != created["secret"]
    # The new secret is current; the old one signs until now + 1 h
    current, old = rotated.body["secrets"]
    assert current["expires_at"] is None
    expires = from_timestamp(old["expires_at"])
    assert before + timedelta(seconds=3600) <= expires <= datetime.now(UTC) + timedelta(seconds=3600)
    assert old["created_at"] == created["created_at"]
    # The table holds both (the sender signs with each), the new one first
    stored = stored_endpoint(cloud, ALICE, created["endpoint_id"])["secrets"]
    assert [(entry["secret"], entry.get("expires_at")) for entry in stored] == [
        (new, None),
        (created["secret"], old["expires_at"]),
    ]
    # And GET shows their dates, never a value
    got = call(api, "GET", path).body
    assert got["secrets"] == rotated.body["secrets"]
    assert new not in json.dumps(got)
    assert created["secret"] not in json.dumps(got)


def test_rotation_without_a_body_uses_the_configured_overlap_and_zero_retires_the_old_secret_now(
    cloud: Cloud, queue_url: str, lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEBHOOK_ROTATION_OVERLAP_SECONDS", "120")
    created = create(lambda_context)
    path = f"/v1/webhooks/{created['endpoint_id']}/rotate-secret"
    before = datetime.now(UTC)
    rotated = call(lambda_context, "POST", path)
    assert rotated.status == 200, rotated.body
    expires = from_timestamp(rotated.body["secrets"][1]["expires_at"])
    assert before + timedelta(seconds=120) <= expires <= datetime.now(UTC) + timedelta(seconds=120)
    # With no overlap the secret rotated out stops signing at once; the one still in its overlap stays
    final = call(lambda_context, "POST", path, body={"overlap_seconds": 0})
    assert final.status == 200, final.body
    assert final.body["secrets"] == [
        {"created_at": final.body["secrets"][0]["created_at"], "expires_at": None},
        rotated.body["secrets"][1],
    ]
    too_long = call(lambda_context, "POST", path, body={"overlap_seconds": 604801})
    assert (too_long.status, too_long.error_code) == (422, "InvalidRequest")


# --- deliveries ---------------------------------------------------------------------------------------------


def test_deliveries_read_newest_first_page_by_page(api: FakeLambdaContext, cloud: Cloud) -> None:
    endpoint_id = create(api)["endpoint_id"]
    other = create(api)["endpoint_id"]
    ids = [seed_delivery(cloud, ALICE, endpoint_id, n, codes=(500, 200)) for n in range(5)]
    seed_delivery(cloud, ALICE, other, 9)  # another endpoint's: never in this log
    pages: list[list[str]] = []
    cursor: str | None = None
    while True:
        query = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        answer = call(api, "GET", f"/v1/webhooks/{endpoint_id}/deliveries", query=query)
        assert answer.status == 200, answer.body
        pages.append([delivery["delivery_id"] for delivery in answer.body["deliveries"]])
        cursor = answer.body["next_cursor"]
        if cursor is None:
            break
    assert pages == [[ids[4], ids[3]], [ids[2], ids[1]], [ids[0]]]
    first = call(api, "GET", f"/v1/webhooks/{endpoint_id}/deliveries", query={"limit": "1"}).body[
        "deliveries"
    ][0]
    assert (first["webhook_id"], first["status"], first["attempt_count"], first["last_status_code"]) == (
        f"msg_{ids[4]}",
        "succeeded",
        2,
        200,
    )
    assert "payload" not in first
    assert "attempts" not in first


def test_the_status_filter_and_its_cursor(api: FakeLambdaContext, cloud: Cloud) -> None:
    endpoint_id = create(api)["endpoint_id"]
    failed = [seed_delivery(cloud, ALICE, endpoint_id, n, status="failed", codes=(None,)) for n in (0, 2, 4)]
    for n in (1, 3, 5):
        seed_delivery(cloud, ALICE, endpoint_id, n)
    path = f"/v1/webhooks/{endpoint_id}/deliveries"
    page = call(api, "GET", path, query={"status": "failed", "limit": "2"})
    assert [d["delivery_id"] for d in page.body["deliveries"]] == [failed[2], failed[1]]
    rest = call(
        api, "GET", path, query={"status": "failed", "limit": "2", "cursor": page.body["next_cursor"]}
    )
    assert [d["delivery_id"] for d in rest.body["deliveries"]] == [failed[0]]
    # A cursor is bound to its filter
    other = call(api, "GET", path, query={"status": "succeeded", "cursor": page.body["next_cursor"]})
    assert (other.status, other.error_code) == (400, "InvalidCursor")


def test_a_delivery_shows_its_attempts_and_payload(api: FakeLambdaContext, cloud: Cloud) -> None:
    endpoint_id = create(api)["endpoint_id"]
    delivery_id = seed_delivery(
        cloud, ALICE, endpoint_id, 1, status="succeeded", codes=(None, 503, 200), file_id="f1"
    )
    answer = call(api, "GET", f"/v1/webhooks/{endpoint_id}/deliveries/{delivery_id}")
    assert answer.status == 200, answer.body
    body = answer.body
    assert (body["delivery_id"], body["webhook_id"], body["endpoint_id"], body["file_id"]) == (
        delivery_id,
        f"msg_{delivery_id}",
        endpoint_id,
        "f1",
    )
    assert [(a["attempt"], a["status_code"], a["duration_ms"], a["error"]) for a in body["attempts"]] == [
        (1, None, 40, "connection refused"),
        (2, 503, 41, None),
        (3, 200, 42, None),
    ]
    assert body["payload"] == {
        "type": "file.processed",
        "timestamp": "2026-12-01T10:01:00.000Z",
        "data": {"file_id": "f1", "status": "processed"},
    }
    missing = call(api, "GET", f"/v1/webhooks/{endpoint_id}/deliveries/{'0' * 13}{'a' * 16}")
    assert (missing.status, missing.error_code) == (404, "DeliveryNotFound")
    malformed = call(api, "GET", f"/v1/webhooks/{endpoint_id}/deliveries/not-a-delivery")
    assert malformed.status == 404


def test_redeliver_queues_a_manual_attempt_of_the_same_delivery(
    api: FakeLambdaContext, cloud: Cloud, queue_url: str
) -> None:
    endpoint_id = create(api)["endpoint_id"]
    delivery_id = seed_delivery(cloud, ALICE, endpoint_id, 1, status="failed", codes=(500,))
    answer = call(api, "POST", f"/v1/webhooks/{endpoint_id}/deliveries/{delivery_id}/redeliver")
    assert answer.status == 202, answer.body
    assert answer.body == {"delivery_id": delivery_id, "webhook_id": f"msg_{delivery_id}", "status": "queued"}
    expected = AttemptMessage(user_id=ALICE, endpoint_id=endpoint_id, delivery_id=delivery_id, manual=True)
    assert queued(cloud, queue_url) == [json.loads(expected.model_dump_json())]


def test_redeliver_without_a_webhook_queue_is_unavailable(
    cloud: Cloud, lambda_context: FakeLambdaContext
) -> None:
    endpoint_id = create(lambda_context)["endpoint_id"]
    delivery_id = seed_delivery(cloud, ALICE, endpoint_id, 1)
    answer = call(lambda_context, "POST", f"/v1/webhooks/{endpoint_id}/deliveries/{delivery_id}/redeliver")
    assert (answer.status, answer.error_code) == (503, "WebhooksUnavailable"), answer.body


# --- isolation ----------------------------------------------------------------------------------------------


def test_another_user_gets_404_for_each_of_the_owners_endpoints_and_deliveries(
    api: FakeLambdaContext, cloud: Cloud, queue_url: str
) -> None:
    # Given A's endpoint with a delivery, and B's own endpoint
    mine = create(api, description="a's")
    endpoint_id = mine["endpoint_id"]
    delivery_id = seed_delivery(cloud, ALICE, endpoint_id, 1)
    bobs = create(api, user=BOB)
    base = f"/v1/webhooks/{endpoint_id}"
    # When B tries every route on them
    attempts: dict[str, Answer] = {
        "GET endpoint": call(api, "GET", base, user=BOB),
        "PATCH endpoint": call(api, "PATCH", base, body={"description": "mine", "enabled": False}, user=BOB),
        "rotate secret": call(api, "POST", f"{base}/rotate-secret", body={}, user=BOB),
        "list deliveries": call(api, "GET", f"{base}/deliveries", user=BOB),
        "GET delivery": call(api, "GET", f"{base}/deliveries/{delivery_id}", user=BOB),
        "redeliver": call(api, "POST", f"{base}/deliveries/{delivery_id}/redeliver", user=BOB),
        "GET via own endpoint": call(
            api, "GET", f"/v1/webhooks/{bobs['endpoint_id']}/deliveries/{delivery_id}", user=BOB
        ),
        "DELETE endpoint": call(api, "DELETE", base, user=BOB),
    }
    # Then each is 404, as for an absent one, and nothing of A's shows in the answers
    assert {what: (a.status, a.error_code) for what, a in attempts.items()} == {
        **dict.fromkeys(attempts, (404, "WebhookNotFound")),
        "GET via own endpoint": (404, "DeliveryNotFound"),
    }
    assert all(mine["secret"] not in json.dumps(a.body) for a in attempts.values())
    # And B's list holds B's endpoint only
    listed = call(api, "GET", "/v1/webhooks", user=BOB).body
    assert [endpoint["endpoint_id"] for endpoint in listed["webhooks"]] == [bobs["endpoint_id"]]
    # And A's endpoint is unchanged, its secret not rotated, and nothing was queued
    after = call(api, "GET", base).body
    assert (after["status"], after["description"], after["secrets"]) == ("enabled", "a's", mine["secrets"])
    assert stored_endpoint(cloud, ALICE, endpoint_id)["secrets"][0]["secret"] == mine["secret"]
    assert queued(cloud, queue_url) == []


# --- a file's deliveries ------------------------------------------------------------------------------------


def uploaded(api: FakeLambdaContext, *, user: str = ALICE) -> str:
    data = b"id,name\n1,ana\n"
    started = call(
        api,
        "POST",
        "/v1/uploads",
        body={"filename": "a.csv", "size": len(data), "content_type": "text/csv"},
        user=user,
    )
    assert started.status == 201, started.body
    single = started.body["single"]
    assert requests.put(single["url"], data=data, headers=single["headers"], timeout=30).status_code == 200
    assert call(api, "POST", f"/v1/uploads/{started.body['upload_id']}/complete", user=user).status == 200
    return str(started.body["file_id"])


def file_pointers(cloud: Cloud, file_id: str) -> list[str]:
    items = cloud.table.query(KeyConditionExpression=Key("pk").eq(file_pk(file_id)))["Items"]
    return [str(item["sk"]) for item in items if str(item["sk"]).startswith("DELIVERY#")]


def test_a_file_shows_its_deliveries_and_deleting_it_removes_their_pointers(
    api: FakeLambdaContext, cloud: Cloud
) -> None:
    # Given A's file with two deliveries (the sender's pointers), and a pointer of another user's
    file_id = uploaded(api)
    endpoint_id = create(api)["endpoint_id"]
    first = seed_delivery(cloud, ALICE, endpoint_id, 1, file_id=file_id)
    second = seed_delivery(cloud, ALICE, endpoint_id, 2, file_id=file_id)
    for delivery_id in (first, second):
        seed_file_pointer(cloud, ALICE, file_id, endpoint_id, delivery_id)
    bobs = seed_delivery(cloud, BOB, "ep_" + "b" * 24, 3)
    seed_file_pointer(cloud, BOB, file_id, "ep_" + "b" * 24, bobs)
    assert len(file_pointers(cloud, file_id)) == 3
    # When A reads the file
    answer = call(api, "GET", f"/v1/files/{file_id}")
    # Then its deliveries are there, oldest first, with their state
    assert answer.status == 200, answer.body
    assert answer.body["deliveries"] == [
        {
            "delivery_id": delivery_id,
            "endpoint_id": endpoint_id,
            "event_type": "file.processed",
            "status": "retrying",
            "attempt_count": 2,
            "last_status_code": 503,
            "updated_at": "2026-12-01T10:00:05.000Z",
        }
        for delivery_id in (first, second)
    ]
    # And B cannot read the file, deliveries or not
    assert call(api, "GET", f"/v1/files/{file_id}", user=BOB).status == 404
    # When A deletes the file / Then its delivery pointers go with it (the deliveries expire on their own)
    assert call(api, "DELETE", f"/v1/files/{file_id}").status == 204
    assert file_pointers(cloud, file_id) == [f"DELIVERY#{bobs}"]  # not A's to delete
