"""Whole-file integrity of uploads (issue #9 item 5): the SHA-256 a client declares is verified by the
processor, which reads every byte anyway, and GET /v1/files/{id} says how it was verified (`integrity`).

Through the API's Lambda handler, moto's S3 (it checks no checksum, so the pipeline's own hash decides
here; S3's own check of a signed single PUT is the e2e test's), the starter and the workflow in-process.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from typing import Any, Literal

import pytest
import requests

from fileflow_api.uploads.part_plan import MiB
from tests import samples
from tests.integration.api_requests import ALICE, call
from tests.integration.conftest import BUCKET_NAME, Cloud, FakeLambdaContext
from tests.integration.processing import Uploaded, derivative_versions, file_item, jobs_of
from tests.integration.stages.conftest import (
    HANDLED_FAILURE_PATH,
    STANDARD_ENTRY,
    SUCCESS_PATH,
    process,
    rejection_code,
)


def large_zip() -> bytes:
    """A ZIP above the API's 16 MiB single-PUT threshold (random bytes, stored): a multipart upload."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("data.bin", hashlib.shake_256(b"fileflow").digest(16 * MiB + 4096))
    return buffer.getvalue()


def upload_through_the_api(
    cloud: Cloud,
    context: FakeLambdaContext,
    data: bytes,
    *,
    sha256: str | None,
    declared_at: Literal["initiate", "complete"] = "initiate",
) -> tuple[str, str, Uploaded]:
    """POST /v1/uploads, the parts (or the single PUT) as signed, then complete; `sha256` declared at
    initiate or (multipart) at complete.

    Returns the file id, the upload's mode and the stored object as its notification describes it.
    """
    body: dict[str, Any] = {"filename": "data.zip", "size": len(data), "content_type": "application/zip"}
    if sha256 is not None and declared_at == "initiate":
        body["sha256"] = sha256
    started = call(context, "POST", "/v1/uploads", body=body)
    assert started.status == 201, started.body
    upload_id, mode = started.body["upload_id"], started.body["mode"]
    if mode == "single":
        single = started.body["single"]
        assert requests.put(single["url"], data=data, headers=single["headers"], timeout=30).ok
    else:
        numbers = range(1, started.body["part_count"] + 1)
        parts = {"parts": [{"part_number": number} for number in numbers]}
        signed = call(context, "POST", f"/v1/uploads/{upload_id}/parts", body=parts)
        part_size = started.body["part_size"]
        for part in signed.body["parts"]:
            start = (part["part_number"] - 1) * part_size
            chunk = data[start : start + part["size"]]
            assert requests.put(part["url"], data=chunk, headers=part["headers"], timeout=30).ok
    at_complete = {"sha256": sha256} if sha256 is not None and declared_at == "complete" else None
    completed = call(context, "POST", f"/v1/uploads/{upload_id}/complete", body=at_complete)
    assert completed.status == 200, completed.body
    key = started.body["key"]
    head = cloud.s3.head_object(Bucket=BUCKET_NAME, Key=key)
    stored = Uploaded(
        started.body["file_id"],
        key,
        head["ContentLength"],
        head["ETag"].strip('"'),
        head.get("VersionId"),
        ALICE,
    )
    return started.body["file_id"], mode, stored


def test_a_multipart_upload_whose_bytes_hash_to_the_declared_sha256_is_processed_integrity_pipeline(
    cloud: Cloud, lambda_context: FakeLambdaContext
) -> None:
    # Given a multipart upload declaring the SHA-256 of exactly the bytes it sends
    data = large_zip()
    file_id, mode, stored = upload_through_the_api(
        cloud, lambda_context, data, sha256=hashlib.sha256(data).hexdigest()
    )
    assert mode == "multipart"
    # Then, completed but not processed yet, the API says the sha256 is only declared
    before = call(lambda_context, "GET", f"/v1/files/{file_id}").body
    assert (before["sha256"], before["integrity"]) == (hashlib.sha256(data).hexdigest(), "declared")
    # When its workflow runs
    execution = process(stored)
    # Then it is processed, and the pipeline's hash of every byte verified the declaration
    assert (execution.status, execution.caught) == ("SUCCEEDED", [])
    assert execution.visited == [*STANDARD_ENTRY, "Detect", "RouteByKind", "Archive", *SUCCESS_PATH]
    [job] = jobs_of(cloud, file_id)
    assert (job["status"], job["result"]["integrity"]) == ("succeeded", "pipeline")
    item = file_item(cloud, file_id, user=ALICE)
    assert (item["integrity"], item["integrity_source_object"]) == ("pipeline", stored.version.source_tag)
    shown = call(lambda_context, "GET", f"/v1/files/{file_id}").body
    assert (shown["status"], shown["sha256"], shown["integrity"]) == (
        "processed",
        hashlib.sha256(data).hexdigest(),
        "pipeline",
    )


@pytest.mark.parametrize("size", ["single", "multipart"])
def test_bytes_other_than_the_declared_sha256s_fail_the_file_with_integrity_mismatch(
    cloud: Cloud, lambda_context: FakeLambdaContext, size: str
) -> None:
    # Given an upload whose bytes are not the ones whose SHA-256 the client declared (moto, unlike S3,
    # accepts even a single PUT whose bytes do not match its signed checksum)
    data = large_zip() if size == "multipart" else samples.zip_file()
    declared = hashlib.sha256(b"other bytes" + data).hexdigest()
    file_id, mode, stored = upload_through_the_api(cloud, lambda_context, data, sha256=declared)
    assert mode == size
    # When its workflow runs
    execution = process(stored)
    # Then the content stage refused it before making anything of it, through the bad-file path: the
    # workflow succeeds at FileRejected (no operator alarm)
    assert execution.caught == [("Archive", "FileRejected")]
    assert execution.status == "SUCCEEDED"
    assert execution.visited[-len(HANDLED_FAILURE_PATH) :] == HANDLED_FAILURE_PATH
    assert rejection_code(execution) == "IntegrityMismatch"
    assert execution.state["failure"]["fatal"] is False
    assert derivative_versions(cloud, file_id, user=ALICE) == {}
    # And the job and the file say why, and the API says the declaration did not hold
    [job] = jobs_of(cloud, file_id)
    assert (job["status"], job["error"]["code"], job["error"]["retryable"]) == (
        "failed",
        "IntegrityMismatch",
        False,
    )
    assert hashlib.sha256(data).hexdigest() in job["error"]["message"]
    shown = call(lambda_context, "GET", f"/v1/files/{file_id}").body
    assert (shown["status"], shown["integrity"], shown["processing_error"]["code"]) == (
        "failed",
        "mismatch",
        "IntegrityMismatch",
    )


def test_a_file_without_a_declared_sha256_has_no_integrity(
    cloud: Cloud, lambda_context: FakeLambdaContext
) -> None:
    # Given an upload that declared no SHA-256
    file_id, _, stored = upload_through_the_api(cloud, lambda_context, samples.zip_file(), sha256=None)
    # When it is processed / Then there was nothing to verify: integrity is null, and nothing is recorded
    execution = process(stored)
    assert (execution.status, execution.caught) == ("SUCCEEDED", [])
    shown = call(lambda_context, "GET", f"/v1/files/{file_id}").body
    assert (shown["status"], shown["sha256"], shown["integrity"]) == ("processed", None, None)
    assert "integrity" not in file_item(cloud, file_id, user=ALICE)
    assert "integrity" not in jobs_of(cloud, file_id)[0]["result"]


def test_a_verification_of_an_older_version_is_not_shown_for_a_newer_one(
    cloud: Cloud, lambda_context: FakeLambdaContext
) -> None:
    # Given a file whose declared SHA-256 the pipeline verified for its version
    data = samples.zip_file()
    file_id, _, stored = upload_through_the_api(
        cloud, lambda_context, data, sha256=hashlib.sha256(data).hexdigest()
    )
    assert process(stored).status == "SUCCEEDED"
    assert call(lambda_context, "GET", f"/v1/files/{file_id}").body["integrity"] == "pipeline"
    # When the item comes to describe another version (the starter records it) before it is processed
    cloud.table.update_item(
        Key={"pk": f"USER#{ALICE}", "sk": f"FILE#{file_id}"},
        UpdateExpression="SET source_object = :newer",
        ExpressionAttributeValues={":newer": "0123456789abcdef#newer-version"},
    )
    # Then its sha256 is only declared again
    assert call(lambda_context, "GET", f"/v1/files/{file_id}").body["integrity"] == "declared"


def test_a_sha256_declared_at_complete_is_verified_by_the_pipeline(
    cloud: Cloud, lambda_context: FakeLambdaContext
) -> None:
    # Given a multipart upload that declared its SHA-256 at complete (a client that hashed while sending)
    data = large_zip()
    digest = hashlib.sha256(data).hexdigest()
    file_id, mode, stored = upload_through_the_api(
        cloud, lambda_context, data, sha256=digest, declared_at="complete"
    )
    assert mode == "multipart"
    assert call(lambda_context, "GET", f"/v1/files/{file_id}").body["integrity"] == "declared"
    # When its workflow runs / Then the pipeline verified it, as one declared at initiate
    execution = process(stored)
    assert (execution.status, execution.caught) == ("SUCCEEDED", [])
    [job] = jobs_of(cloud, file_id)
    assert job["result"]["integrity"] == "pipeline"
    shown = call(lambda_context, "GET", f"/v1/files/{file_id}").body
    assert (shown["status"], shown["sha256"], shown["integrity"]) == ("processed", digest, "pipeline")


def test_a_wrong_sha256_declared_at_complete_fails_the_file_with_integrity_mismatch(
    cloud: Cloud, lambda_context: FakeLambdaContext
) -> None:
    # Given a multipart upload whose complete declared the SHA-256 of other bytes
    data = large_zip()
    declared = hashlib.sha256(b"other bytes" + data).hexdigest()
    file_id, _, stored = upload_through_the_api(
        cloud, lambda_context, data, sha256=declared, declared_at="complete"
    )
    # When its workflow runs / Then the content stage refused it, and the API says the declaration failed
    execution = process(stored)
    assert rejection_code(execution) == "IntegrityMismatch"
    [job] = jobs_of(cloud, file_id)
    assert (job["status"], job["error"]["code"]) == ("failed", "IntegrityMismatch")
    shown = call(lambda_context, "GET", f"/v1/files/{file_id}").body
    assert (shown["status"], shown["sha256"], shown["integrity"]) == ("failed", declared, "mismatch")
