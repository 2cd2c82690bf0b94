"""The upload API on the deployed stack: API Gateway + authorizer + API Lambda, S3 checking SigV4 signatures.

- a multipart upload through presigned URLs with real HTTP PUTs, completed, stored byte for byte;
- S3 itself refuses a part of the wrong size (the signed Content-Length) or with corrupted bytes (the
  signed SHA-256 / CRC32C);
- an expired session is swept: its parts are gone, its status is `expired`;
- the bucket's CORS lets an allowed origin PUT parts and read the ETag, and no other origin;
- Uppy's Companion routes, with the stock plugin's shapes and no Authorization header.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from fileflow_common.clock import to_timestamp
from infra import outputs as names
from infra.context import DEFAULT_ALLOWED_ORIGINS
from tests.e2e.conftest import AwsClients
from tools.stack import StackOutputs
from tools.token import TokenFactory

MIB = 1024 * 1024
# Three parts of the API's 8 MiB plan, the last one short.
SIZE = 16 * MIB + 4321
TIMEOUT = 60


class Api:
    """One user's calls to the deployed API, with a bearer token minted for the stack."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def __call__(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.session.request(method, f"{self.base_url}{path}", timeout=TIMEOUT, **kwargs)


@pytest.fixture(scope="module")
def tokens(stack: StackOutputs) -> TokenFactory:
    return TokenFactory.for_stack(stack)


@pytest.fixture
def api(stack: StackOutputs, tokens: TokenFactory) -> Iterator[Api]:
    """A user of its own per test: its quota and rate limit start empty."""
    client = Api(stack.api_url, tokens.valid(f"e2e-uploads-{uuid.uuid4().hex[:12]}"))
    yield client
    client.session.close()


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli), the checksum S3 calls CRC32C; bitwise table, fine for a few MiB."""
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    crc = 0xFFFFFFFF
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def b64_sha256(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def b64_crc32c(data: bytes) -> str:
    return base64.b64encode(struct.pack(">I", crc32c(data))).decode()


def initiate(api: Api, data: bytes, **fields: Any) -> dict[str, Any]:
    body = {"filename": "e2e.bin", "size": len(data), "content_type": "application/octet-stream", **fields}
    response = api("POST", "/v1/uploads", json=body)
    assert response.status_code == 201, response.text
    upload: dict[str, Any] = response.json()
    return upload


def sign(api: Api, upload: dict[str, Any], parts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    response = api("POST", f"/v1/uploads/{upload['upload_id']}/parts", json={"parts": parts})
    assert response.status_code == 200, response.text
    signed: list[dict[str, Any]] = response.json()["parts"]
    return signed


def part_bytes(data: bytes, upload: dict[str, Any], number: int) -> bytes:
    start = (number - 1) * upload["part_size"]
    return data[start : start + upload["part_size"]]


def held_parts(aws: AwsClients, stack: StackOutputs, key: str) -> list[int] | None:
    """The part numbers S3 holds for the key's multipart upload; None when it has none."""
    uploads = aws.s3.list_multipart_uploads(Bucket=stack[names.BUCKET_NAME], Prefix=key).get("Uploads", [])
    if not uploads:
        return None
    parts = aws.s3.list_parts(Bucket=stack[names.BUCKET_NAME], Key=key, UploadId=uploads[0]["UploadId"])
    return [part["PartNumber"] for part in parts.get("Parts", [])]


def test_multipart_upload_through_presigned_urls_stores_the_files_bytes(
    stack: StackOutputs, api: Api, aws: AwsClients
) -> None:
    # Given a file of three parts, announced with SHA-256 part checksums
    data = os.urandom(SIZE)
    digest = hashlib.sha256(data).hexdigest()
    upload = initiate(api, data, sha256=digest, checksum_algorithm="SHA256")
    assert (upload["mode"], upload["part_count"]) == ("multipart", 3)
    # When each part is signed with its checksum and PUT with real HTTP
    numbers = range(1, upload["part_count"] + 1)
    signed = sign(
        api,
        upload,
        [{"part_number": n, "checksum_sha256": b64_sha256(part_bytes(data, upload, n))} for n in numbers],
    )
    for part in signed:
        response = requests.put(
            part["url"],
            data=part_bytes(data, upload, part["part_number"]),
            headers=part["headers"],
            timeout=TIMEOUT,
        )
        assert response.status_code == 200, response.text
    # And S3's parts are listed through the API, then the upload is completed
    listed = api("GET", f"/v1/uploads/{upload['upload_id']}/parts").json()
    assert [(p["part_number"], p["size"]) for p in listed["parts"]] == [
        (1, 8 * MIB),
        (2, 8 * MIB),
        (3, SIZE - 16 * MIB),
    ]
    completed = api("POST", f"/v1/uploads/{upload['upload_id']}/complete", json={})
    # Then the object S3 stored is the file, byte for byte, under its generated key
    assert completed.status_code == 200, completed.text
    body = completed.json()
    assert (body["status"], body["size"], body["sha256"]) == ("completed", SIZE, digest)
    stored = aws.s3.get_object(Bucket=stack[names.BUCKET_NAME], Key=upload["key"])
    assert hashlib.sha256(stored["Body"].read()).hexdigest() == digest
    assert body["etag"] == stored["ETag"].strip('"')
    # And completing again answers the same
    assert api("POST", f"/v1/uploads/{upload['upload_id']}/complete", json={}).json() == body


@pytest.mark.parametrize("delta", [1, -1], ids=["one byte more", "one byte less"])
def test_s3_refuses_a_part_of_another_size_than_signed(
    stack: StackOutputs, api: Api, aws: AwsClients, delta: int
) -> None:
    # Given part 1's URL, signed for exactly 8 MiB
    data = os.urandom(SIZE)
    upload = initiate(api, data)
    (part,) = sign(api, upload, [{"part_number": 1}])
    assert part["headers"]["Content-Length"] == str(8 * MIB)
    # When another size is PUT (its true Content-Length, as any HTTP client sends)
    body = os.urandom(8 * MIB + delta)
    headers = {name: value for name, value in part["headers"].items() if name != "Content-Length"}
    response = requests.put(part["url"], data=body, headers=headers, timeout=TIMEOUT)
    # Then S3 itself refuses it (the signature covers the Content-Length) and holds nothing
    assert response.status_code == 403, response.text
    assert "SignatureDoesNotMatch" in response.text
    assert held_parts(aws, stack, upload["key"]) == []


@pytest.mark.parametrize(
    ("algorithm", "field", "checksum", "name"),
    [
        ("SHA256", "checksum_sha256", b64_sha256, "SHA256"),
        ("CRC32C", "checksum_crc32c", b64_crc32c, "CRC32C"),
    ],
)
def test_s3_refuses_a_corrupted_part(
    stack: StackOutputs, api: Api, aws: AwsClients, algorithm: str, field: str, checksum: Any, name: str
) -> None:
    # Given part 1 signed with the checksum of its true bytes
    data = os.urandom(SIZE)
    upload = initiate(api, data, checksum_algorithm=algorithm)
    good = part_bytes(data, upload, 1)
    (part,) = sign(api, upload, [{"part_number": 1, field: checksum(good)}])
    # When bytes of the same length but one flipped bit are PUT
    corrupted = bytes([good[0] ^ 1]) + good[1:]
    response = requests.put(part["url"], data=corrupted, headers=part["headers"], timeout=TIMEOUT)
    # Then S3 refuses them (BadDigest) and holds nothing
    assert response.status_code == 400, response.text
    assert "BadDigest" in response.text
    assert name in response.text
    assert held_parts(aws, stack, upload["key"]) == []
    # And the true bytes go through the same URL
    assert requests.put(part["url"], data=good, headers=part["headers"], timeout=TIMEOUT).status_code == 200


def test_expired_session_is_swept_and_its_parts_are_gone(
    stack: StackOutputs, api: Api, aws: AwsClients
) -> None:
    # Given an upload with one part sent, then abandoned
    data = os.urandom(SIZE)
    upload = initiate(api, data)
    (part,) = sign(api, upload, [{"part_number": 1}])
    assert requests.put(
        part["url"], data=part_bytes(data, upload, 1), headers=part["headers"], timeout=TIMEOUT
    ).ok
    assert held_parts(aws, stack, upload["key"]) == [1]
    # And its expiry moved into the past (as if a day had gone by)
    user_id = upload["key"].split("/")[1]
    past = to_timestamp(datetime.now(UTC) - timedelta(hours=2))
    aws.dynamodb.update_item(
        TableName=stack[names.TABLE_NAME],
        Key={"pk": {"S": f"USER#{user_id}"}, "sk": {"S": f"UPLOAD#{upload['upload_id']}"}},
        UpdateExpression="SET session_expires_at = :past, gsi1sk = :past",
        ExpressionAttributeValues={":past": {"S": past}},
    )
    # When the sweeper runs (invoked directly rather than waiting for its schedule)
    invoked = aws.lambda_.invoke(FunctionName=stack[names.SWEEPER_FUNCTION_NAME], Payload=b"{}")
    report = json.loads(invoked["Payload"].read())
    assert "FunctionError" not in invoked, report
    assert report["expired"] >= 1
    # Then S3 no longer holds the upload or its parts, and the session says expired
    assert held_parts(aws, stack, upload["key"]) is None
    status = api("GET", f"/v1/uploads/{upload['upload_id']}").json()
    assert (status["status"], status["bytes_received"]) == ("expired", 0)
    # And a late complete is a precise 409
    late = api("POST", f"/v1/uploads/{upload['upload_id']}/complete", json={})
    assert (late.status_code, late.json()["error"]["code"]) == (409, "UploadExpired")


def test_cors_lets_allowed_origins_put_parts_and_read_the_etag(api: Api) -> None:
    # Given a presigned part URL
    data = os.urandom(SIZE)
    upload = initiate(api, data)
    (part,) = sign(api, upload, [{"part_number": 1}])
    preflight = {"Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "content-type"}
    # When an allowed origin asks the browser's preflight / Then allowed, for that origin
    allowed = DEFAULT_ALLOWED_ORIGINS[0]
    response = requests.options(part["url"], headers={"Origin": allowed, **preflight}, timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == allowed
    assert "PUT" in response.headers["Access-Control-Allow-Methods"]
    # And the PUT itself exposes the ETag to the page
    put = requests.put(
        part["url"],
        data=part_bytes(data, upload, 1),
        headers={"Origin": allowed, **part["headers"]},
        timeout=TIMEOUT,
    )
    assert put.status_code == 200
    assert "ETag" in put.headers["Access-Control-Expose-Headers"]
    # When another origin asks / Then refused
    refused = requests.options(
        part["url"], headers={"Origin": "https://evil.example", **preflight}, timeout=TIMEOUT
    )
    assert refused.status_code == 403
    assert "Access-Control-Allow-Origin" not in refused.headers


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (
            {"filename": "a.exe", "size": 1, "content_type": "application/x-msdownload"},
            415,
            "UnsupportedContentType",
        ),
        ({"filename": "a.bin", "size": 6 * 1024**4, "content_type": "image/png"}, 413, "UploadTooLarge"),
        ({"filename": "a\r\nb.txt", "size": 1, "content_type": "text/plain"}, 422, "InvalidFilename"),
    ],
)
def test_bad_initiates_are_answered_precisely_through_the_gateway(
    api: Api, body: dict[str, Any], status: int, code: str
) -> None:
    response = api("POST", "/v1/uploads", json=body)
    assert (response.status_code, response.json()["error"]["code"]) == (status, code)


def test_another_users_upload_is_not_found(stack: StackOutputs, api: Api, tokens: TokenFactory) -> None:
    upload = initiate(api, os.urandom(SIZE))
    other = Api(stack.api_url, tokens.valid(f"e2e-uploads-{uuid.uuid4().hex[:12]}"))
    response = other("GET", f"/v1/uploads/{upload['upload_id']}")
    assert (response.status_code, response.json()["error"]["code"]) == (404, "UploadNotFound")


def test_uppy_companion_routes_with_the_stock_plugins_shapes(
    stack: StackOutputs, api: Api, aws: AwsClients
) -> None:
    # Given the Companion endpoint of an upload token (the page's companionEndpoint)
    minted = api("POST", "/v1/upload-tokens")
    assert minted.status_code == 201, minted.text
    s3 = f"{minted.json()['uppy_endpoint']}/s3"

    def uppy(method: str, path: str, **kwargs: Any) -> requests.Response:
        # The stock plugin sends no Authorization header: the token is in the path
        return requests.request(method, f"{s3}{path}", timeout=TIMEOUT, **kwargs)

    # When the plugin creates a multipart upload, signs its parts and PUTs them
    created = uppy(
        "POST",
        "/multipart",
        json={"filename": "setup.exe", "type": "application/x-msdownload", "metadata": {}},
    )
    assert created.status_code == 415  # the same limits as /v1: not an allowed type
    created = uppy("POST", "/multipart", json={"filename": "clip.bin", "type": "", "metadata": {}})
    assert created.status_code == 200, created.text
    assert set(created.json()) == {"key", "uploadId", "bucket"}
    key, upload_id = created.json()["key"], created.json()["uploadId"]
    chunks = [os.urandom(5 * MIB), os.urandom(1234)]
    one = uppy("GET", f"/multipart/{upload_id}/1", params={"key": key}).json()
    batch = uppy("GET", f"/multipart/{upload_id}/batch", params={"key": key, "partNumbers": "2"}).json()
    assert set(one) == {"url", "expires"}
    etags = [
        requests.put(url, data=chunk, timeout=TIMEOUT).headers["ETag"]
        for url, chunk in zip([one["url"], batch["presignedUrls"]["2"]], chunks, strict=True)
    ]
    # Then listing answers S3's parts in Companion's shape, and complete its {location, key, bucket}
    listed = uppy("GET", f"/multipart/{upload_id}", params={"key": key}).json()
    assert [(p["PartNumber"], p["Size"], p["ETag"]) for p in listed] == [
        (1, 5 * MIB, etags[0]),
        (2, 1234, etags[1]),
    ]
    completed = uppy(
        "POST",
        f"/multipart/{upload_id}/complete",
        params={"key": key},
        json={"parts": [{"PartNumber": n, "ETag": etag} for n, etag in enumerate(etags, start=1)]},
    )
    assert completed.status_code == 200, completed.text
    assert completed.json()["key"] == key
    assert completed.json()["bucket"] == stack[names.BUCKET_NAME]
    stored = aws.s3.get_object(Bucket=stack[names.BUCKET_NAME], Key=key)["Body"].read()
    assert stored == b"".join(chunks)
    # And a simple upload of a declared size gets a presigned form POST that S3 accepts
    unsized = uppy("GET", "/params", params={"filename": "note.txt", "type": "text/plain"})
    assert unsized.status_code == 422
    assert unsized.json()["error"]["code"] == "SizeRequired"
    query = {"filename": "note.txt", "type": "text/plain", "metadata[size]": "2"}
    params = uppy("GET", "/params", params=query).json()
    assert params["method"] == "POST"
    posted = requests.post(
        params["url"], data=params["fields"], files={"file": ("note.txt", b"hi")}, timeout=TIMEOUT
    )
    assert posted.status_code == 201, posted.text
    # And a forged token is refused
    forged_endpoint = s3.replace(minted.json()["token"], "forged")
    forged = requests.post(
        f"{forged_endpoint}/multipart", json={"filename": "a", "type": ""}, timeout=TIMEOUT
    )
    assert forged.status_code == 401
