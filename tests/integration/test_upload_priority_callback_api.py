"""Initiate's `priority` and `callback_url` (#12) through the API handler on moto: stored on the session
and the file item, shown by GET /v1/uploads/{id} and GET /v1/files/{id}, refused precisely (422)."""

from __future__ import annotations

from typing import Any

import pytest
from boto3.dynamodb.conditions import Key

from fileflow_api.handler import asgi_handler
from fileflow_common.webhooks.items import endpoint_sk, user_pk
from tests.integration.api_requests import ALICE, BOB, Answer, call
from tests.integration.conftest import BUCKET_NAME, Cloud, FakeLambdaContext

# A public address (an IP literal: no DNS in these tests).
CALLBACK = "https://8.8.8.8/fileflow/callback"
BODY = {"filename": "a.txt", "size": 3, "content_type": "text/plain"}


@pytest.fixture
def api(cloud: Cloud, lambda_context: FakeLambdaContext) -> FakeLambdaContext:
    return lambda_context


def endpoint(cloud: Cloud, user: str, endpoint_id: str, *, status: str = "enabled") -> None:
    """A webhook endpoint item as POST /v1/webhooks writes it (fileflow_common.webhooks.items)."""
    cloud.table.put_item(
        Item={
            "pk": user_pk(user),
            "sk": endpoint_sk(endpoint_id),
            "endpoint_id": endpoint_id,
            "user_id": user,
            "url": "https://8.8.4.4/hooks",
            "events": ["file.processed"],
            "status": status,
            "secrets": [{"secret": "whsec_" + "A" * 43 + "=", "created_at": "2026-12-01T00:00:00.000Z"}],
        }
    )


def initiate(api: FakeLambdaContext, **fields: Any) -> Answer:
    return call(api, "POST", "/v1/uploads", body={**BODY, **fields})


def test_initiate_stores_priority_and_callback_and_both_are_shown(
    api: FakeLambdaContext, cloud: Cloud
) -> None:
    # Given Alice has an enabled webhook endpoint
    endpoint(cloud, ALICE, "ep_" + "a" * 24)
    # When she initiates with a priority and a callback
    answer = initiate(api, priority=2, callback_url=CALLBACK)
    # Then both are in the answer, on the session item and on the file item
    assert answer.status == 201, answer.body
    upload = answer.body
    assert (upload["priority"], upload["callback_url"]) == (2, CALLBACK)
    session = cloud.table.get_item(Key={"pk": f"USER#{ALICE}", "sk": f"UPLOAD#{upload['upload_id']}"})["Item"]
    file = cloud.table.get_item(Key={"pk": f"USER#{ALICE}", "sk": f"FILE#{upload['file_id']}"})["Item"]
    assert (session["priority"], session["callback_url"]) == (2, CALLBACK)
    assert (file["priority"], file["callback_url"]) == (2, CALLBACK)
    # And the session status and the file show them
    status = call(api, "GET", f"/v1/uploads/{upload['upload_id']}").body
    assert (status["priority"], status["callback_url"]) == (2, CALLBACK)
    cloud.s3.put_object(Bucket=BUCKET_NAME, Key=upload["key"], Body=b"abc")
    assert call(api, "POST", f"/v1/uploads/{upload['upload_id']}/complete").status == 200
    shown = call(api, "GET", f"/v1/files/{upload['file_id']}")
    assert shown.status == 200, shown.body
    assert (shown.body["priority"], shown.body["callback_url"]) == (2, CALLBACK)


def test_without_them_the_priority_is_5_and_no_callback_is_stored(
    api: FakeLambdaContext, cloud: Cloud
) -> None:
    upload = initiate(api).body
    file = cloud.table.get_item(Key={"pk": f"USER#{ALICE}", "sk": f"FILE#{upload['file_id']}"})["Item"]
    assert (file["priority"], "callback_url" in file) == (5, False)
    shown = call(api, "GET", f"/v1/files/{upload['file_id']}").body
    assert (shown["priority"], shown["callback_url"]) == (5, None)


@pytest.mark.parametrize(
    ("fields", "code", "message"),
    [
        ({"priority": 0}, "InvalidRequest", "body.priority: Input should be greater than or equal to 1"),
        ({"priority": 10}, "InvalidRequest", "body.priority: Input should be less than or equal to 9"),
        ({"priority": "3"}, "InvalidRequest", "body.priority: Input should be a valid integer"),
        (
            {"callback_url": "http://127.0.0.1:8080/hook"},
            "UnsafeWebhookUrl",
            "webhook url must use https: http://127.0.0.1 and localhost are allowed only with the "
            "local-development setting (webhooks_allow_local_http), which is off",
        ),
        (
            {"callback_url": "https://10.0.0.5/"},
            "UnsafeWebhookUrl",
            "webhook url host 10.0.0.5 is a private address: webhooks go to public addresses only",
        ),
    ],
    ids=["priority-0", "priority-10", "priority-string", "local-http", "private-address"],
)
def test_bad_priorities_and_unsafe_callbacks_are_422_with_their_reason(
    api: FakeLambdaContext, cloud: Cloud, fields: dict[str, Any], code: str, message: str
) -> None:
    endpoint(cloud, ALICE, "ep_" + "a" * 24)
    answer = initiate(api, **fields)
    assert (answer.status, answer.error_code, answer.body["error"]["message"]) == (422, code, message)
    # And no session was created
    sessions = cloud.table.query(
        KeyConditionExpression=Key("pk").eq(f"USER#{ALICE}") & Key("sk").begins_with("UPLOAD#")
    )
    assert sessions["Items"] == []


def test_local_http_callbacks_are_allowed_with_the_local_development_setting(
    api: FakeLambdaContext, cloud: Cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEBHOOKS_ALLOW_LOCAL_HTTP", "true")
    asgi_handler.cache_clear()
    endpoint(cloud, ALICE, "ep_" + "a" * 24)
    answer = initiate(api, callback_url="http://127.0.0.1:8080/hook")
    assert (answer.status, answer.body["callback_url"]) == (201, "http://127.0.0.1:8080/hook")


@pytest.mark.parametrize("others", [[], [BOB], ["disabled"]], ids=["none", "another-users", "disabled-only"])
def test_a_callback_without_an_enabled_endpoint_of_ones_own_is_refused(
    api: FakeLambdaContext, cloud: Cloud, others: list[str]
) -> None:
    # Given Alice has no enabled endpoint (Bob may have one; hers may be disabled)
    for other in others:
        if other == "disabled":
            endpoint(cloud, ALICE, "ep_" + "d" * 24, status="disabled")
        else:
            endpoint(cloud, other, "ep_" + "b" * 24)
    # When she initiates with a callback / Then 422 CallbackWithoutEndpoint, and without one she may upload
    answer = initiate(api, callback_url=CALLBACK)
    assert (answer.status, answer.error_code, answer.body["error"]["message"]) == (
        422,
        "CallbackWithoutEndpoint",
        "callback_url needs an enabled webhook endpoint (POST /v1/webhooks), whose secret signs the callback",
    )
    assert initiate(api).status == 201


# --- Uppy: the file's metadata --------------------------------------------------------------------------


def upload_token(api: FakeLambdaContext) -> str:
    answer = call(api, "POST", "/v1/upload-tokens", user=ALICE)
    assert answer.status == 201, answer.body
    return str(answer.body["token"])


def test_uppy_metadata_carries_priority_and_callback(api: FakeLambdaContext, cloud: Cloud) -> None:
    endpoint(cloud, ALICE, "ep_" + "a" * 24)
    s3 = f"/uppy/{upload_token(api)}/s3"
    # When the plugin creates a multipart upload, and asks for form-POST parameters, with them in metadata
    metadata = {"priority": 1, "callback_url": CALLBACK, "name": "clip.mov"}
    created = call(
        api,
        "POST",
        f"{s3}/multipart",
        body={"filename": "clip.mov", "type": "", "metadata": metadata},
        user=None,
    )
    query = {"filename": "cat.png", "type": "image/png", "metadata[size]": "4", "metadata[priority]": "8"}
    posted = call(api, "GET", f"{s3}/params", query=query, user=None)
    # Then the sessions hold them
    assert (created.status, posted.status) == (200, 200), (created.body, posted.body)
    multipart = call(api, "GET", f"/v1/uploads/{created.body['uploadId']}").body
    assert (multipart["priority"], multipart["callback_url"]) == (1, CALLBACK)
    [form] = [
        item
        for item in cloud.table.query(
            KeyConditionExpression=Key("pk").eq(f"USER#{ALICE}") & Key("sk").begins_with("UPLOAD#")
        )["Items"]
        if item["upload_id"] != created.body["uploadId"]
    ]
    assert (form["priority"], "callback_url" in form) == (8, False)


@pytest.mark.parametrize(
    ("priority", "message"),
    [
        ("0", "priority must be an integer from 1 to 9, not 0"),
        ("10", "priority must be an integer from 1 to 9, not 10"),
        ("high", "metadata priority must be an integer from 1 to 9, not 'high'"),
    ],
)
def test_uppy_metadata_priority_outside_1_to_9_is_a_422(
    api: FakeLambdaContext, priority: str, message: str
) -> None:
    s3 = f"/uppy/{upload_token(api)}/s3"
    query = {
        "filename": "cat.png",
        "type": "image/png",
        "metadata[size]": "4",
        "metadata[priority]": priority,
    }
    answer = call(api, "GET", f"{s3}/params", query=query, user=None)
    assert (answer.status, answer.error_code, answer.body["error"]["message"]) == (
        422,
        "InvalidPriority",
        message,
    )
