"""Issue #9 end to end on moto: the upload API, S3 and the starter together. Uploads of unknown size are
charged at complete; objects that no live or completed upload accounts for (a PUT after abort, a replayed
URL after complete) are refused by the starter: deleted, audited, never recorded."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from fileflow_api.uploads.part_plan import MiB
from tests.integration.api_requests import ALICE, call
from tests.integration.conftest import BUCKET_NAME, Cloud, FakeLambdaContext
from tests.integration.workflow import deliver, raw_message, s3_notification

QUOTA_BYTES = 6 * MiB


@pytest.fixture
def api(
    cloud: Cloud, lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> FakeLambdaContext:
    # Like the deployed bucket: versioned, so a replayed PUT is a version of its own
    cloud.s3.put_bucket_versioning(Bucket=BUCKET_NAME, VersioningConfiguration={"Status": "Enabled"})
    monkeypatch.setenv("QUOTA_MAX_BYTES", str(QUOTA_BYTES))
    return lambda_context


def usage(cloud: Cloud) -> tuple[int, int]:
    item = cloud.table.get_item(Key={"pk": f"USER#{ALICE}", "sk": "USAGE"}).get("Item") or {}
    return int(str(item.get("bytes", 0))), int(str(item.get("files", 0)))


def versions(cloud: Cloud, key: str) -> list[str]:
    listed = cloud.s3.list_object_versions(Bucket=BUCKET_NAME, Prefix=key).get("Versions", [])
    return sorted(str(version["VersionId"]) for version in listed)


def put(single: dict[str, Any], data: bytes) -> dict[str, str]:
    """PUT to a single-PUT URL with exactly its headers; S3's version id and ETag of what it stored."""
    response = requests.put(single["url"], data=data, headers=single["headers"], timeout=30)
    assert response.status_code == 200, response.text
    return {"version_id": response.headers["x-amz-version-id"], "etag": response.headers["ETag"].strip('"')}


def notify(context: FakeLambdaContext, key: str, stored: dict[str, str], size: int, sequencer: str) -> None:
    """S3's ObjectCreated for that version, through the queue to the starter."""
    body = s3_notification(
        key, size=size, etag=stored["etag"], version_id=stored["version_id"], sequencer=sequencer
    )
    assert deliver([raw_message(body)], context=context, run=False).response == {"batchItemFailures": []}


def executions(cloud: Cloud) -> list[str]:
    listed = cloud.sfn.list_executions(stateMachineArn=cloud.state_machine_arn)["executions"]
    return [execution["name"] for execution in listed]


def refusals(api: FakeLambdaContext) -> list[dict[str, Any]]:
    events = call(api, "GET", "/v1/audit").body["events"]
    return [event for event in events if event["action"] == "upload.object_refused"]


def initiate(api: FakeLambdaContext, size: int) -> dict[str, Any]:
    answer = call(
        api, "POST", "/v1/uploads", body={"filename": "notes.txt", "size": size, "content_type": "text/plain"}
    )
    assert answer.status == 201, answer.body
    return dict(answer.body)


# --- item 2: a PUT after abort --------------------------------------------------------------------------


def test_a_put_after_abort_is_deleted_audited_and_never_becomes_a_file(
    api: FakeLambdaContext, cloud: Cloud
) -> None:
    # Given a single-PUT upload, aborted while its URL is still valid
    upload = initiate(api, 5)
    assert call(api, "DELETE", f"/v1/uploads/{upload['upload_id']}").status == 200
    # When the URL is used anyway and S3 announces the object
    late = put(upload["single"], b"late!")
    notify(api, upload["key"], late, 5, "0065D3E5A8C9F1B2E4")
    # Then that version is gone, no file item exists, nothing started, and the usage is back to nothing
    assert versions(cloud, upload["key"]) == []
    assert "Item" not in cloud.table.get_item(Key={"pk": f"USER#{ALICE}", "sk": f"FILE#{upload['file_id']}"})
    assert executions(cloud) == []
    assert usage(cloud) == (0, 0)
    # And the owner's audit trail says what was refused (abort removed the file item: no upload names it)
    [event] = refusals(api)
    assert (event["resource_type"], event["resource_id"]) == ("file", upload["file_id"])
    assert event["details"] == {
        "reason": "no_upload",
        "file_id": upload["file_id"],
        "key": upload["key"],
        "version_id": late["version_id"],
        "etag": late["etag"],
        "size": 5,
    }


def test_a_single_put_announced_before_complete_is_still_adopted(
    api: FakeLambdaContext, cloud: Cloud
) -> None:
    # Given a single PUT whose ObjectCreated event arrives before the client calls complete
    upload = initiate(api, 5)
    stored = put(upload["single"], b"hello")
    notify(api, upload["key"], stored, 5, "0065D3E5A8C9F1B2E4")
    # Then it is recorded and processed, and complete still succeeds
    assert len(executions(cloud)) == 1
    assert refusals(api) == []
    assert call(api, "POST", f"/v1/uploads/{upload['upload_id']}/complete").status == 200
    assert versions(cloud, upload["key"]) == [stored["version_id"]]


# --- item 4: a replayed URL after complete -----------------------------------------------------------------


def test_a_replayed_put_after_complete_is_refused_and_the_record_does_not_drift(
    api: FakeLambdaContext, cloud: Cloud
) -> None:
    # Given a completed single-PUT upload whose object was processed
    upload = initiate(api, 5)
    original = put(upload["single"], b"hello")
    assert call(api, "POST", f"/v1/uploads/{upload['upload_id']}/complete").status == 200
    notify(api, upload["key"], original, 5, "0065D3E5A8C9F1B2E4")
    file_key = {"pk": f"USER#{ALICE}", "sk": f"FILE#{upload['file_id']}"}
    before = cloud.table.get_item(Key=file_key)["Item"]
    # When the still-valid URL is replayed with other bytes, and S3 announces that new version
    replay = put(upload["single"], b"HELLO")
    notify(api, upload["key"], replay, 5, "0065D3E5FFFFFFFFFF")
    # Then the replay's version is deleted, the completed one stays, and the file record is unchanged
    assert versions(cloud, upload["key"]) == [original["version_id"]]
    after = cloud.table.get_item(Key=file_key)["Item"]
    assert (after["etag"], after["version_id"], after["size"]) == (
        original["etag"],
        original["version_id"],
        5,
    )
    assert after == before
    # And no second workflow started; the audit trail names the refused version
    assert len(executions(cloud)) == 1
    [event] = refusals(api)
    assert (event["details"]["reason"], event["details"]["version_id"]) == (
        "not_the_completed_object",
        replay["version_id"],
    )


# --- item 1: Uppy's uploads of unknown size ----------------------------------------------------------------


def uppy_multipart(api: FakeLambdaContext, sizes: list[int]) -> tuple[str, str, str, list[dict[str, Any]]]:
    """Uppy's stock plugin: a multipart upload, no size declared, its parts PUT: (prefix, key, id, parts)."""
    token = call(api, "POST", "/v1/upload-tokens").body["token"]
    s3 = f"/uppy/{token}/s3"
    created = call(
        api, "POST", f"{s3}/multipart", body={"filename": "clip.bin", "type": "", "metadata": {}}, user=None
    )
    key, upload_id = created.body["key"], created.body["uploadId"]
    parts = []
    for number, size in enumerate(sizes, start=1):
        signed = call(api, "GET", f"{s3}/multipart/{upload_id}/{number}", query={"key": key}, user=None)
        response = requests.put(signed.body["url"], data=b"x" * size, timeout=30)
        parts.append({"PartNumber": number, "ETag": response.headers["ETag"]})
    return s3, key, upload_id, parts


def test_an_uppy_multipart_of_unknown_size_is_charged_its_real_size_at_complete(
    api: FakeLambdaContext, cloud: Cloud
) -> None:
    # Given an Uppy multipart upload of 5 MiB + 1000 bytes, its size never declared
    s3, key, upload_id, parts = uppy_multipart(api, [5 * MiB, 1000])
    assert usage(cloud) == (0, 1)  # initiate counted the file, not its bytes
    # When it completes
    completed = call(
        api,
        "POST",
        f"{s3}/multipart/{upload_id}/complete",
        query={"key": key},
        body={"parts": parts},
        user=None,
    )
    # Then the quota counts the bytes S3 holds
    assert completed.status == 200, completed.body
    assert usage(cloud) == (5 * MiB + 1000, 1)
    # And deleting the file gives back exactly that
    file_id = key.rsplit("/", 1)[1]
    assert call(api, "DELETE", f"/v1/files/{file_id}").status == 204
    assert usage(cloud) == (0, 0)


def test_an_uppy_multipart_past_the_quota_is_refused_at_complete_and_aborted(
    api: FakeLambdaContext, cloud: Cloud
) -> None:
    # Given an Uppy multipart upload holding more than the 6 MiB quota (5 MiB + 2 MiB)
    s3, key, upload_id, parts = uppy_multipart(api, [5 * MiB, 2 * MiB])
    # When it completes
    refused = call(
        api,
        "POST",
        f"{s3}/multipart/{upload_id}/complete",
        query={"key": key},
        body={"parts": parts},
        user=None,
    )
    # Then 403 QuotaExceeded, S3 holds neither the object nor the parts, and the session is aborted
    assert (refused.status, refused.error_code) == (403, "QuotaExceeded")
    assert versions(cloud, key) == []
    assert cloud.s3.list_multipart_uploads(Bucket=BUCKET_NAME).get("Uploads", []) == []
    assert call(api, "GET", f"/v1/uploads/{upload_id}").body["status"] == "aborted"
    # And no byte was charged (the aborted session gives back its file, like any abort)
    assert usage(cloud) == (0, 0)


def test_an_uppy_form_post_must_declare_its_size(api: FakeLambdaContext, cloud: Cloud) -> None:
    # Given an upload token / When the plugin asks for form-POST parameters without metadata[size]
    token = call(api, "POST", "/v1/upload-tokens").body["token"]
    answer = call(
        api, "GET", f"/uppy/{token}/s3/params", query={"filename": "a.png", "type": "image/png"}, user=None
    )
    # Then 422 SizeRequired, and nothing was reserved
    assert (answer.status, answer.error_code) == (422, "SizeRequired")
    assert usage(cloud) == (0, 0)
