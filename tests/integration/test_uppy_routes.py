"""Uppy's Companion S3 routes under /uppy/{token}/s3, with Companion's shapes, against moto."""

from __future__ import annotations

import pytest
import requests

from fileflow_api.uploads.part_plan import MiB
from tests.integration.api_requests import ALICE, BOB, call
from tests.integration.conftest import BUCKET_NAME, Cloud, FakeLambdaContext


@pytest.fixture
def api(cloud: Cloud, lambda_context: FakeLambdaContext) -> FakeLambdaContext:
    return lambda_context


def upload_token(api: FakeLambdaContext, user: str) -> str:
    answer = call(api, "POST", "/v1/upload-tokens", user=user)
    assert answer.status == 201, answer.body
    return str(answer.body["token"])


def test_stock_plugin_multipart_flow(api: FakeLambdaContext, cloud: Cloud) -> None:
    # Given Alice's upload token (what the page puts in companionEndpoint)
    s3 = f"/uppy/{upload_token(api, ALICE)}/s3"
    # When the plugin creates a multipart upload (no size: the stock plugin never sends one)
    created = call(
        api, "POST", f"{s3}/multipart", body={"filename": "clip.mov", "type": "", "metadata": {}}, user=None
    )
    # Then Companion's answer: the key (generated), the upload id and the bucket
    assert created.status == 200, created.body
    assert set(created.body) == {"key", "uploadId", "bucket"}
    key, upload_id = created.body["key"], created.body["uploadId"]
    assert key.startswith(f"uploads/{ALICE}/")
    assert created.body["bucket"] == BUCKET_NAME

    # When it signs part 1 alone and part 2 in a batch, and PUTs them (its own 5 MiB+ chunk size)
    one = call(api, "GET", f"{s3}/multipart/{upload_id}/1", query={"key": key}, user=None)
    batch = call(
        api, "GET", f"{s3}/multipart/{upload_id}/batch", query={"key": key, "partNumbers": "2"}, user=None
    )
    assert one.status == 200, one.body
    assert set(one.body) == {"url", "expires"}
    assert one.body["expires"] == 900
    assert set(batch.body["presignedUrls"]) == {"2"}
    etags = []
    for url, chunk in [(one.body["url"], b"a" * 5 * MiB), (batch.body["presignedUrls"]["2"], b"b" * 1000)]:
        response = requests.put(url, data=chunk, timeout=30)
        assert response.status_code == 200
        etags.append(response.headers["ETag"])

    # When it lists the parts (after a reload) / Then S3's parts, Companion-shaped
    listed = call(api, "GET", f"{s3}/multipart/{upload_id}", query={"key": key}, user=None)
    assert listed.body == [
        {"PartNumber": 1, "Size": 5 * MiB, "ETag": etags[0]},
        {"PartNumber": 2, "Size": 1000, "ETag": etags[1]},
    ]

    # When it completes with the ETags it read
    completed = call(
        api,
        "POST",
        f"{s3}/multipart/{upload_id}/complete",
        query={"key": key},
        body={"parts": [{"PartNumber": 1, "ETag": etags[0]}, {"PartNumber": 2, "ETag": etags[1]}]},
        user=None,
    )
    # Then Companion's answer, the object in S3, and the session completed on the /v1 side too
    assert completed.status == 200, completed.body
    assert completed.body["key"] == key
    assert completed.body["bucket"] == BUCKET_NAME
    assert completed.body["location"].endswith(f"/{BUCKET_NAME}/{key}")
    assert cloud.s3.head_object(Bucket=BUCKET_NAME, Key=key)["ContentLength"] == 5 * MiB + 1000
    status = call(api, "GET", f"/v1/uploads/{upload_id}")
    assert (status.body["status"], status.body["size"], status.body["content_type"]) == (
        "completed",
        5 * MiB + 1000,
        "application/octet-stream",
    )


def test_abort_answers_an_empty_object_and_frees_the_parts(api: FakeLambdaContext, cloud: Cloud) -> None:
    s3 = f"/uppy/{upload_token(api, ALICE)}/s3"
    created = call(
        api, "POST", f"{s3}/multipart", body={"filename": "a.pdf", "type": "application/pdf"}, user=None
    )
    key, upload_id = created.body["key"], created.body["uploadId"]
    aborted = call(api, "DELETE", f"{s3}/multipart/{upload_id}", query={"key": key}, user=None)
    assert (aborted.status, aborted.body) == (200, {})
    assert cloud.s3.list_multipart_uploads(Bucket=BUCKET_NAME).get("Uploads", []) == []


def test_params_answers_a_presigned_form_post(api: FakeLambdaContext, cloud: Cloud) -> None:
    # Given a token / When the plugin asks for simple-upload parameters
    s3 = f"/uppy/{upload_token(api, ALICE)}/s3"
    answer = call(
        api,
        "GET",
        f"{s3}/params",
        query={"filename": "cat.png", "type": "image/png", "metadata[size]": "4"},
        user=None,
    )
    # Then Companion's shape: POST the fields and the file to the bucket's URL
    assert answer.status == 200, answer.body
    assert answer.body["method"] == "POST"
    assert answer.body["url"].endswith("/")
    assert answer.body["expires"] == 900
    fields = answer.body["fields"]
    assert fields["key"].startswith(f"uploads/{ALICE}/")
    assert fields["Content-Type"] == "image/png"
    # And the form upload works
    response = requests.post(
        answer.body["url"], data=fields, files={"file": ("cat.png", b"\x89PNG")}, timeout=30
    )
    assert int(response.status_code) == 201, response.text  # moto answers form POSTs with a str status
    assert cloud.s3.head_object(Bucket=BUCKET_NAME, Key=fields["key"])["ContentType"] == "image/png"


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        pytest.param({"filename": "a.exe", "type": "application/x-msdownload"}, 415, "UnsupportedContentType",
                     id="type"),
        pytest.param({"filename": "a.bin", "type": "image/png", "metadata[size]": "999999999999999"}, 413,
                     "UploadTooLarge", id="declared oversize"),
        pytest.param({"filename": "a\nb.png", "type": "image/png"}, 422, "InvalidFilename",
                     id="newline in name"),
    ],
)  # fmt: skip
def test_uppy_routes_apply_the_same_limits(
    api: FakeLambdaContext, query: dict[str, str], status: int, code: str
) -> None:
    answer = call(api, "GET", f"/uppy/{upload_token(api, ALICE)}/s3/params", query=query, user=None)
    assert (answer.status, answer.error_code) == (status, code)


def test_another_users_upload_or_a_wrong_key_is_not_found(api: FakeLambdaContext) -> None:
    # Given Alice's Uppy upload
    alice = f"/uppy/{upload_token(api, ALICE)}/s3"
    created = call(
        api, "POST", f"{alice}/multipart", body={"filename": "a.pdf", "type": "application/pdf"}, user=None
    )
    key, upload_id = created.body["key"], created.body["uploadId"]
    bob = f"/uppy/{upload_token(api, BOB)}/s3"
    # When Bob's token, or Alice's with another key, reaches for it / Then 404
    for prefix, query_key in [(bob, key), (alice, f"uploads/{ALICE}/someone-else")]:
        for method, path in [
            ("GET", f"{prefix}/multipart/{upload_id}"),
            ("GET", f"{prefix}/multipart/{upload_id}/1"),
            ("DELETE", f"{prefix}/multipart/{upload_id}"),
        ]:
            answer = call(api, method, path, query={"key": query_key}, user=None)
            assert (answer.status, answer.error_code) == (404, "UploadNotFound"), (prefix, path)


def test_a_bad_token_is_a_401(api: FakeLambdaContext) -> None:
    answer = call(
        api, "POST", "/uppy/not-a-token/s3/multipart", body={"filename": "a", "type": ""}, user=None
    )
    assert answer.status == 401


def test_complete_with_an_etag_s3_does_not_hold_is_a_409(api: FakeLambdaContext) -> None:
    s3 = f"/uppy/{upload_token(api, ALICE)}/s3"
    created = call(api, "POST", f"{s3}/multipart", body={"filename": "a.bin", "type": ""}, user=None)
    key, upload_id = created.body["key"], created.body["uploadId"]
    url = call(api, "GET", f"{s3}/multipart/{upload_id}/1", query={"key": key}, user=None).body["url"]
    assert requests.put(url, data=b"x" * 10, timeout=30).status_code == 200
    answer = call(
        api,
        "POST",
        f"{s3}/multipart/{upload_id}/complete",
        query={"key": key},
        body={"parts": [{"PartNumber": 1, "ETag": '"0000"'}]},
        user=None,
    )
    assert (answer.status, answer.error_code) == (409, "PartMismatch")
