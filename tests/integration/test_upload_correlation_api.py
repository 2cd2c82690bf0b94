"""The correlation id of an upload, through the Lambda handler, against moto: the initiating request's
API Gateway request id, kept on the session, the file item, the object's metadata and the audit event.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import requests

from fileflow_api.handler import lambda_handler
from fileflow_api.uploads.part_plan import MiB
from tests.integration.api_requests import ALICE, Answer, api_event, call
from tests.integration.conftest import AUDIT_TABLE_NAME, BUCKET_NAME, Cloud, FakeLambdaContext

REQUEST_ID = "9f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f"


@pytest.fixture
def api(cloud: Cloud, lambda_context: FakeLambdaContext) -> FakeLambdaContext:
    return lambda_context


def call_as_request(
    context: FakeLambdaContext, method: str, path: str, *, request_id: str | None, **kwargs: Any
) -> Answer:
    """A request with its own API Gateway request id (None: a request without one, e.g. a direct invoke)."""
    event = api_event(method, path, **kwargs)
    if request_id is None:
        del event["requestContext"]["requestId"]
    else:
        event["requestContext"]["requestId"] = request_id
    response = lambda_handler(event, context)
    return Answer(response["statusCode"], response["headers"], json.loads(response.get("body") or "null"))


def items(cloud: Cloud, file_id: str, upload_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    file = cloud.table.get_item(Key={"pk": f"USER#{ALICE}", "sk": f"FILE#{file_id}"})["Item"]
    session = cloud.table.get_item(Key={"pk": f"USER#{ALICE}", "sk": f"UPLOAD#{upload_id}"})["Item"]
    return file, session


def audited_initiations(cloud: Cloud) -> list[dict[str, Any]]:
    stored: list[dict[str, Any]] = cloud.table.meta.client.scan(TableName=AUDIT_TABLE_NAME)["Items"]
    return [item["details"] for item in stored if item["action"] == "upload.initiated"]


def test_a_single_put_upload_carries_its_initiating_request_id(api: FakeLambdaContext, cloud: Cloud) -> None:
    # When a file is initiated by a request API Gateway named REQUEST_ID
    data = b"id,name\n1,ana\n"
    body = {"filename": "a.csv", "size": len(data), "content_type": "text/csv"}
    started = call_as_request(api, "POST", "/v1/uploads", request_id=REQUEST_ID, body=body)
    # Then the answer, the session, the file item and the audit event carry it
    assert started.status == 201, started.body
    assert started.body["correlation_id"] == REQUEST_ID
    file, session = items(cloud, started.body["file_id"], started.body["upload_id"])
    assert file["correlation_id"] == session["correlation_id"] == REQUEST_ID
    assert audited_initiations(cloud)[0]["correlation_id"] == REQUEST_ID
    # And the single PUT needs no header more than before (none signed for it)
    assert set(started.body["single"]["headers"]) == {"Content-Length", "Content-Type"}
    single = started.body["single"]
    put = requests.put(single["url"], data=data, headers=single["headers"], timeout=30)
    assert put.status_code == 200
    # And it stays through complete, and GET /v1/files/{id} shows it
    assert call(api, "POST", f"/v1/uploads/{started.body['upload_id']}/complete").status == 200
    shown = call(api, "GET", f"/v1/files/{started.body['file_id']}")
    assert shown.body["correlation_id"] == REQUEST_ID


def test_a_multipart_object_carries_it_in_its_metadata(api: FakeLambdaContext, cloud: Cloud) -> None:
    # Given a multipart upload (above the 16 MiB single-PUT threshold) initiated by REQUEST_ID
    size = 16 * MiB + 1
    body = {"filename": "big.bin", "size": size, "content_type": "application/octet-stream"}
    started = call_as_request(api, "POST", "/v1/uploads", request_id=REQUEST_ID, body=body)
    assert (started.status, started.body["mode"], started.body["correlation_id"]) == (
        201,
        "multipart",
        REQUEST_ID,
    )
    upload_id, part_size = started.body["upload_id"], started.body["part_size"]
    numbers = list(range(1, started.body["part_count"] + 1))
    signed = call(
        api, "POST", f"/v1/uploads/{upload_id}/parts", body={"parts": [{"part_number": n} for n in numbers]}
    )
    for part in signed.body["parts"]:
        response = requests.put(part["url"], data=b"x" * part["size"], headers=part["headers"], timeout=30)
        assert response.status_code == 200
    assert part_size * (len(numbers) - 1) < size
    # When it completes / Then the object's user metadata holds the correlation id
    assert call(api, "POST", f"/v1/uploads/{upload_id}/complete").status == 200
    head = cloud.s3.head_object(Bucket=BUCKET_NAME, Key=started.body["key"])
    assert head["Metadata"] == {"correlation-id": REQUEST_ID}


def test_an_uppy_form_upload_carries_it_as_a_field_the_plugin_sends(
    api: FakeLambdaContext, cloud: Cloud
) -> None:
    token = call(api, "POST", "/v1/upload-tokens").body["token"]
    params = call_as_request(
        api,
        "GET",
        f"/uppy/{token}/s3/params",
        request_id=REQUEST_ID,
        query={"filename": "cat.png", "type": "image/png", "metadata[size]": "4"},
        user=None,
    )
    assert params.status == 200, params.body
    fields = params.body["fields"]
    assert fields["x-amz-meta-correlation-id"] == REQUEST_ID
    # When the plugin posts every field with the file (what @uppy/aws-s3 does) / Then S3 stores it
    posted = requests.post(
        params.body["url"], data=fields, files={"file": ("cat.png", b"\x89PNG")}, timeout=30
    )
    assert int(posted.status_code) == 201, posted.text
    head = cloud.s3.head_object(Bucket=BUCKET_NAME, Key=fields["key"])
    assert head["Metadata"] == {"correlation-id": REQUEST_ID}
    # And the file item and the audit event (via uppy) carry it
    file_id = fields["key"].rsplit("/", 1)[1]
    file = cloud.table.get_item(Key={"pk": f"USER#{ALICE}", "sk": f"FILE#{file_id}"})["Item"]
    assert file["correlation_id"] == REQUEST_ID
    assert audited_initiations(cloud) == [{"via": "uppy", "correlation_id": REQUEST_ID}]


def test_an_uppy_multipart_upload_carries_it_in_its_metadata(api: FakeLambdaContext, cloud: Cloud) -> None:
    s3 = f"/uppy/{call(api, 'POST', '/v1/upload-tokens').body['token']}/s3"
    created = call_as_request(
        api,
        "POST",
        f"{s3}/multipart",
        request_id=REQUEST_ID,
        body={"filename": "clip.mov", "type": "", "metadata": {}},
        user=None,
    )
    key, upload_id = created.body["key"], created.body["uploadId"]
    part = call(api, "GET", f"{s3}/multipart/{upload_id}/1", query={"key": key}, user=None)
    etag = requests.put(part.body["url"], data=b"a" * 1000, timeout=30).headers["ETag"]
    completed = call(
        api,
        "POST",
        f"{s3}/multipart/{upload_id}/complete",
        query={"key": key},
        body={"parts": [{"PartNumber": 1, "ETag": etag}]},
        user=None,
    )
    assert completed.status == 200, completed.body
    assert cloud.s3.head_object(Bucket=BUCKET_NAME, Key=key)["Metadata"] == {"correlation-id": REQUEST_ID}


def test_a_request_without_an_api_gateway_request_id_gets_a_new_correlation_id(
    api: FakeLambdaContext,
) -> None:
    body = {"filename": "a.txt", "size": 3, "content_type": "text/plain"}
    first = call_as_request(api, "POST", "/v1/uploads", request_id=None, body=body)
    second = call_as_request(api, "POST", "/v1/uploads", request_id="not a valid id\n", body=body)
    ids = [first.body["correlation_id"], second.body["correlation_id"]]
    assert all(re.fullmatch(r"[0-9a-f]{32}", value) for value in ids), ids
    assert ids[0] != ids[1]
