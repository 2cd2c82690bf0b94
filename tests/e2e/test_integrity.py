"""Whole-file integrity on the local cloud (issue #9 item 5): S3 refuses a signed single PUT of other bytes,
keeps the declared SHA-256 of the ones it took (`integrity: storage`); a multipart upload's SHA-256, declared
at initiate or at complete, is checked by the pipeline's hash of its bytes (`pipeline`), and other bytes than
declared fail the file (`IntegrityMismatch`)."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import requests

from tests import samples
from tests.e2e.polling import wait_for
from tests.e2e.test_isolation import Client
from tools.stack import StackOutputs
from tools.token import TokenFactory

MIB = 1024 * 1024
FINAL = {"processed", "needs_review", "failed", "rejected"}


def _client(stack: StackOutputs) -> Client:
    return Client(
        stack.api_url, TokenFactory.for_stack(stack).valid(f"e2e-integrity-{uuid.uuid4().hex[:10]}")
    )


def _initiate(
    client: Client, data: bytes, sha256: str | None, filename: str, content_type: str
) -> dict[str, Any]:
    body = {"filename": filename, "size": len(data), "content_type": content_type}
    if sha256 is not None:
        body["sha256"] = sha256
    started: dict[str, Any] = client.ok("POST", "/v1/uploads", 201, json=body)
    return started


def _final(client: Client, file_id: str) -> dict[str, Any]:
    def ended() -> dict[str, Any] | None:
        body: dict[str, Any] = client("GET", f"/v1/files/{file_id}").json()
        return body if body.get("status") in FINAL and body.get("stage") == "notify" else None

    return wait_for(ended, timeout=180, what=f"file {file_id} to end its processing")


def _assert_failed_as_mismatched(file: dict[str, Any]) -> None:
    """The file failed, for good, because its bytes are not the ones declared."""
    assert (file["status"], file["integrity"], file["processing_error"]["code"]) == (
        "failed",
        "mismatch",
        "IntegrityMismatch",
    ), file
    assert file["processing_error"]["retryable"] is False


def _upload_parts(
    client: Client, started: dict[str, Any], data: bytes, *, sha256_at_complete: str | None = None
) -> None:
    numbers = range(1, started["part_count"] + 1)
    signed = client.ok(
        "POST",
        f"/v1/uploads/{started['upload_id']}/parts",
        json={"parts": [{"part_number": n} for n in numbers]},
    )
    for part in signed["parts"]:
        start = (part["part_number"] - 1) * started["part_size"]
        put = requests.put(
            part["url"], data=data[start : start + part["size"]], headers=part["headers"], timeout=60
        )
        assert put.status_code == 200, put.text
    body = {"sha256": sha256_at_complete} if sha256_at_complete is not None else {}
    client.ok("POST", f"/v1/uploads/{started['upload_id']}/complete", json=body)


def test_s3_refuses_other_bytes_on_a_signed_single_put_and_the_file_shows_integrity_storage(
    stack: StackOutputs,
) -> None:
    client = _client(stack)
    data = samples.png()
    started = _initiate(client, data, hashlib.sha256(data).hexdigest(), "dot.png", "image/png")
    single = started["single"]
    # When other bytes of the same size are PUT to the URL / Then S3 refuses them (BadDigest)
    refused = requests.put(single["url"], data=bytes(reversed(data)), headers=single["headers"], timeout=30)
    assert (refused.status_code, "BadDigest" in refused.text) == (400, True), refused.text
    # When the declared bytes are PUT / Then S3 keeps them, and the file is processed, verified by S3
    assert requests.put(single["url"], data=data, headers=single["headers"], timeout=30).status_code == 200
    client.ok("POST", f"/v1/uploads/{started['upload_id']}/complete")
    detail = _final(client, started["file_id"])
    assert (detail["status"], detail["integrity"]) == ("processed", "storage"), detail


def test_a_multipart_upload_is_verified_by_the_pipeline_and_other_bytes_fail_the_file(
    stack: StackOutputs,
) -> None:
    client = _client(stack)
    data = samples.zip_file({"data.bin": hashlib.shake_256(b"e2e").digest(17 * MIB)})
    # Given two multipart uploads of the same bytes: one declaring their SHA-256, one another's
    matching = _initiate(client, data, hashlib.sha256(data).hexdigest(), "ok.zip", "application/zip")
    lying = _initiate(
        client, data, hashlib.sha256(b"not these" + data).hexdigest(), "bad.zip", "application/zip"
    )
    assert (matching["mode"], lying["mode"]) == ("multipart", "multipart")
    for started in (matching, lying):
        _upload_parts(client, started, data)
    # Then the one is processed, its bytes hashed by the pipeline; the other failed with the reason
    ok = _final(client, matching["file_id"])
    assert (ok["status"], ok["integrity"]) == ("processed", "pipeline"), ok
    _assert_failed_as_mismatched(_final(client, lying["file_id"]))


def test_a_sha256_declared_at_complete_is_verified_by_the_pipeline_as_one_declared_at_initiate(
    stack: StackOutputs,
) -> None:
    client = _client(stack)
    data = samples.zip_file({"data.bin": hashlib.shake_256(b"e2e-complete").digest(17 * MIB)})
    # Given two multipart uploads, each declaring a sha256 at complete only: their bytes', other bytes'
    matching = _initiate(client, data, None, "ok.zip", "application/zip")
    lying = _initiate(client, data, None, "bad.zip", "application/zip")
    _upload_parts(client, matching, data, sha256_at_complete=hashlib.sha256(data).hexdigest())
    _upload_parts(client, lying, data, sha256_at_complete=hashlib.sha256(b"not these" + data).hexdigest())
    # Then the pipeline verified the one and failed the other
    ok = _final(client, matching["file_id"])
    assert (ok["status"], ok["sha256"], ok["integrity"]) == (
        "processed",
        hashlib.sha256(data).hexdigest(),
        "pipeline",
    )
    _assert_failed_as_mismatched(_final(client, lying["file_id"]))
