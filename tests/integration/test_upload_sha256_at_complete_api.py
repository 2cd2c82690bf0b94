"""POST /v1/uploads/{id}/complete with `sha256`: through the Lambda handler, against moto (DynamoDB, S3)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import pytest
import requests

from fileflow_api.uploads.table import DynamoFileCatalog
from fileflow_common.keys import UploadKey
from fileflow_stages._runtime.records import DynamoRecords
from tests.integration.api_requests import ALICE, call
from tests.integration.conftest import Cloud, FakeLambdaContext
from tests.integration.test_upload_api import SIZE, initiate, payload, put_parts


@pytest.fixture
def api(cloud: Cloud, lambda_context: FakeLambdaContext) -> FakeLambdaContext:
    return lambda_context


def file_item(cloud: Cloud, file_id: str) -> Mapping[str, object]:
    return cloud.table.get_item(Key={"pk": f"USER#{ALICE}", "sk": f"FILE#{file_id}"})["Item"]


def test_a_sha256_declared_at_complete_is_the_uploads_and_the_files(
    api: FakeLambdaContext, cloud: Cloud
) -> None:
    # Given a multipart upload initiated without a sha256, every part sent
    data = payload(SIZE)
    digest = hashlib.sha256(data).hexdigest()
    upload = initiate(api, data).body
    put_parts(api, upload, data, [1, 2, 3])
    # When complete declares the file's SHA-256
    completed = call(api, "POST", f"/v1/uploads/{upload['upload_id']}/complete", body={"sha256": digest})
    # Then the answer, the file item and GET /v1/files/{id} carry it as an initiate-declared one
    assert completed.status == 200, completed.body
    assert completed.body["sha256"] == digest
    assert file_item(cloud, upload["file_id"])["sha256"] == digest
    detail = call(api, "GET", f"/v1/files/{upload['file_id']}")
    assert (detail.body["sha256"], detail.body["integrity"]) == (digest, "declared")
    # And a repeated complete, with or without it, answers the same
    assert call(api, "POST", f"/v1/uploads/{upload['upload_id']}/complete", body={"sha256": digest}).body == (
        completed.body
    )
    assert call(api, "POST", f"/v1/uploads/{upload['upload_id']}/complete").body == completed.body


def test_another_sha256_at_complete_than_at_initiate_is_409_sha256_mismatch(api: FakeLambdaContext) -> None:
    data = payload(SIZE)
    digest = hashlib.sha256(data).hexdigest()
    upload = initiate(api, data, sha256=digest).body
    put_parts(api, upload, data, [1, 2, 3])
    refused = call(api, "POST", f"/v1/uploads/{upload['upload_id']}/complete", body={"sha256": "0" * 64})
    assert refused.status == 409
    assert refused.body["error"]["code"] == "Sha256Mismatch"
    assert refused.body["error"]["message"] == (
        f"sha256 {'0' * 64} is not the {digest} that upload {upload['upload_id']} declared"
    )
    # the upload is still there to complete with the right one
    status = call(api, "GET", f"/v1/uploads/{upload['upload_id']}")
    assert status.body["status"] == "initiated"


@pytest.mark.parametrize("bad", ["f" * 63, "g" * 64, "f" * 65])
def test_a_sha256_at_complete_that_is_not_64_hex_digits_is_422_invalid_checksum(
    api: FakeLambdaContext, cloud: Cloud, bad: str
) -> None:
    data = payload(SIZE)
    upload = initiate(api, data).body
    put_parts(api, upload, data, [1, 2, 3])
    refused = call(api, "POST", f"/v1/uploads/{upload['upload_id']}/complete", body={"sha256": bad})
    assert refused.status == 422
    assert refused.body["error"] == {
        "code": "InvalidChecksum",
        "message": "sha256 must be the 64 hex digits of the file's SHA-256",
    }
    assert "sha256" not in file_item(cloud, upload["file_id"])


def test_a_single_put_refuses_a_sha256_at_complete_with_409_sha256_too_late(api: FakeLambdaContext) -> None:
    data = b"id,name\n1,ana\n"
    upload = initiate(api, data, filename="people.csv", content_type="text/csv").body
    response = requests.put(
        upload["single"]["url"], data=data, headers=upload["single"]["headers"], timeout=30
    )
    assert response.status_code == 200
    refused = call(
        api,
        "POST",
        f"/v1/uploads/{upload['upload_id']}/complete",
        body={"sha256": hashlib.sha256(data).hexdigest()},
    )
    assert refused.status == 409
    assert refused.body["error"]["code"] == "Sha256TooLate"


def test_the_processor_finds_a_complete_declared_sha256_as_soon_as_the_object_exists(
    api: FakeLambdaContext, cloud: Cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given complete's last write, after S3 has the object, does not happen (the processor ran first)
    monkeypatch.setattr(DynamoFileCatalog, "record_upload", lambda self, session, *, at: None)
    data = payload(SIZE)
    digest = hashlib.sha256(data).hexdigest()
    upload = initiate(api, data).body
    put_parts(api, upload, data, [1, 2, 3])
    # When complete declares the SHA-256
    completed = call(api, "POST", f"/v1/uploads/{upload['upload_id']}/complete", body={"sha256": digest})
    assert completed.status == 200, completed.body
    # Then what the processor reads of the file item already holds it
    assert DynamoRecords(cloud.table).declared(UploadKey(ALICE, upload["file_id"])).sha256 == digest
