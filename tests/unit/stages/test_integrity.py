"""Whole-file integrity (issue #9 item 5): the declared SHA-256 against the bytes read, S3's stored checksum,
the stages that record it and the API's `integrity` value. No network: fakes and plain values."""

from __future__ import annotations

import base64
import hashlib
import io
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from fileflow_api.files.model import FileRecord
from fileflow_api.files.model import Integrity as ApiIntegrity
from fileflow_common.files import FileStatus
from fileflow_common.pipeline import Stage
from fileflow_stages._runtime.integrity import Integrity, IntegrityMismatchError, verify_integrity
from fileflow_stages._runtime.object_store import S3ObjectStore, StoredContent, stored_sha256
from fileflow_stages._runtime.stage import FileRejected, run_stage
from fileflow_stages._runtime.state import CaughtError, DeclaredFile
from fileflow_stages.failure.handler import record_failure
from fileflow_stages.image.handler import render
from tests import samples
from tests.unit.stage_fakes import SOURCE, FakeRecords, FakeStore, detected, install, payload, run_pipeline

DATA = b"the bytes of a file"
DIGEST = hashlib.sha256(DATA).hexdigest()
OTHER = hashlib.sha256(b"other bytes").hexdigest()


def b64(hex_digest: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_digest)).decode()


# --- the comparison -----------------------------------------------------------------------------------------


def test_nothing_declared_is_nothing_to_verify() -> None:
    assert verify_integrity(None, read_sha256=DIGEST, stored_sha256=None) is None


def test_the_bytes_read_matching_the_declaration_are_verified_by_the_pipeline() -> None:
    assert verify_integrity(DIGEST, read_sha256=DIGEST, stored_sha256=None) is Integrity.PIPELINE
    assert verify_integrity(DIGEST.upper(), read_sha256=DIGEST, stored_sha256=None) is Integrity.PIPELINE


def test_s3s_full_object_sha256_equal_to_the_declaration_means_the_storage_verified_it() -> None:
    assert verify_integrity(DIGEST, read_sha256=DIGEST, stored_sha256=DIGEST) is Integrity.STORAGE
    # Another stored checksum (of other bytes, or none) is no storage verification of this declaration
    assert verify_integrity(DIGEST, read_sha256=DIGEST, stored_sha256=OTHER) is Integrity.PIPELINE


@pytest.mark.parametrize(
    "stored", [None, OTHER, DIGEST], ids=["nothing-stored", "other-stored", "declared-stored"]
)
def test_other_bytes_than_the_declared_are_a_mismatch_whatever_s3_holds(stored: str | None) -> None:
    with pytest.raises(IntegrityMismatchError) as raised:
        verify_integrity(DIGEST, read_sha256=OTHER, stored_sha256=stored)
    assert raised.value.code == "IntegrityMismatch"
    assert OTHER in str(raised.value)
    assert DIGEST in str(raised.value)


# --- what S3 holds, and what the store hashes ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        ({"ChecksumSHA256": b64(DIGEST), "ChecksumType": "FULL_OBJECT"}, DIGEST),
        ({"ChecksumSHA256": b64(DIGEST)}, DIGEST),  # a response that names no type: a plain PUT's
        ({"ChecksumSHA256": b64(DIGEST) + "-3", "ChecksumType": "COMPOSITE"}, None),
        ({"ChecksumSHA256": b64(DIGEST), "ChecksumType": "COMPOSITE"}, None),
        ({"ChecksumCRC64NVME": "UpX9kykq4BQ=", "ChecksumType": "FULL_OBJECT"}, None),
        ({"ChecksumSHA256": "not base64!", "ChecksumType": "FULL_OBJECT"}, None),
        ({"ChecksumSHA256": "AAAA", "ChecksumType": "FULL_OBJECT"}, None),  # not 32 bytes
        ({}, None),
    ],
    ids=[
        "full-object",
        "untyped",
        "composite-suffix",
        "composite",
        "crc64nvme",
        "not-base64",
        "short",
        "none",
    ],
)
def test_only_a_full_object_sha256_that_s3_holds_counts(
    response: dict[str, Any], expected: str | None
) -> None:
    assert stored_sha256(response) == expected


def test_stored_content_hashes_every_byte_and_nothing_when_it_holds_only_the_first() -> None:
    assert StoredContent(DATA, len(DATA), complete=True).sha256 == DIGEST
    assert StoredContent(DATA[:4], 10**9, complete=False).sha256 is None


class _GetObjectClient:
    def __init__(self, data: bytes, **checksum: str) -> None:
        self.data, self.checksum = data, checksum
        self.asked: dict[str, Any] = {}

    def get_object(self, **params: Any) -> dict[str, Any]:
        self.asked = params
        return {"Body": io.BytesIO(self.data), "ContentLength": len(self.data), **self.checksum}


def test_a_download_hashes_the_bytes_as_they_stream_and_asks_s3_for_its_checksum(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an object of several download chunks, whose FULL_OBJECT SHA-256 S3 holds
    monkeypatch.setattr("fileflow_stages._runtime.object_store.DOWNLOAD_CHUNK_BYTES", 7)
    client = _GetObjectClient(DATA, ChecksumSHA256=b64(DIGEST), ChecksumType="FULL_OBJECT")
    store = S3ObjectStore(client, "bucket")  # type: ignore[arg-type]
    # When it is streamed to disk
    downloaded = store.download(SOURCE, tmp_path / "source", max_bytes=1024)
    # Then the file holds it, hashed on the way, with S3's checksum beside it (asked for with ChecksumMode)
    assert (tmp_path / "source").read_bytes() == DATA
    assert (downloaded.size, downloaded.sha256, downloaded.stored_sha256) == (len(DATA), DIGEST, DIGEST)
    assert client.asked["ChecksumMode"] == "ENABLED"


# --- the stages ---------------------------------------------------------------------------------------------


@pytest.fixture
def jpeg() -> bytes:
    return samples.jpeg(320, 240)


def _run(
    monkeypatch: pytest.MonkeyPatch, data: bytes, declared: str | None, stored: str | None = None
) -> Any:
    store, records = FakeStore(data), FakeRecords(declared_file=DeclaredFile(sha256=declared))
    store.stored_sha256 = stored
    records.queue()
    install(monkeypatch, store, records)
    return store, records


@pytest.mark.parametrize(
    ("stored", "expected"),
    [(None, Integrity.PIPELINE), ("same", Integrity.STORAGE)],
    ids=["pipeline", "storage"],
)
def test_a_matching_file_is_processed_and_its_integrity_recorded_on_the_job_and_the_file(
    monkeypatch: pytest.MonkeyPatch, jpeg: bytes, stored: str | None, expected: Integrity
) -> None:
    digest = hashlib.sha256(jpeg).hexdigest()
    _, records = _run(monkeypatch, jpeg, digest, digest if stored else None)
    run_pipeline()
    assert records.job.result["integrity"] == expected.value
    assert (records.states[-1].status, records.states[-1].integrity) == (FileStatus.PROCESSED, expected)


def test_a_mismatching_file_is_rejected_before_anything_is_derived(
    monkeypatch: pytest.MonkeyPatch, jpeg: bytes
) -> None:
    store, records = _run(monkeypatch, jpeg, OTHER)
    with pytest.raises(FileRejected) as raised:
        run_stage(Stage.IMAGE, payload(detect=detected()), render)
    assert json.loads(str(raised.value))["code"] == "IntegrityMismatch"
    assert store.written == {}
    assert "integrity" not in records.job.result


def test_the_failure_path_records_a_mismatch_as_the_files_integrity(
    monkeypatch: pytest.MonkeyPatch, jpeg: bytes
) -> None:
    _, records = _run(monkeypatch, jpeg, OTHER)
    cause = json.dumps({"errorMessage": json.dumps({"code": "IntegrityMismatch", "message": "other bytes"})})
    caught = CaughtError(Error="FileRejected", Cause=cause)
    output = run_stage(
        Stage.FAILED, payload(error=caught.model_dump(by_alias=True)), record_failure, record_started=False
    )
    assert (output["outcome"], output["fatal"], output["code"]) == ("rejected", False, "IntegrityMismatch")
    assert (records.states[-1].status, records.states[-1].integrity) == (
        FileStatus.FAILED,
        Integrity.MISMATCH,
    )


def test_another_rejection_records_no_integrity(monkeypatch: pytest.MonkeyPatch, jpeg: bytes) -> None:
    _, records = _run(monkeypatch, jpeg, OTHER)
    cause = json.dumps({"errorMessage": json.dumps({"code": "CorruptFile", "message": "truncated"})})
    caught = CaughtError(Error="FileRejected", Cause=cause)
    run_stage(
        Stage.FAILED, payload(error=caught.model_dump(by_alias=True)), record_failure, record_started=False
    )
    assert records.states[-1].integrity is None


# --- the API's value ----------------------------------------------------------------------------------------

_FILE = FileRecord(
    user_id="user-alice",
    file_id="file-0001",
    key="uploads/user-alice/file-0001",
    filename="a.zip",
    content_type="application/zip",
    status="processed",
    created_at=None,
    sha256=DIGEST,
    source_object=SOURCE.source_tag,
)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"sha256": None}, None),
        ({}, ApiIntegrity.DECLARED),  # completed, not verified yet
        ({"integrity": "pipeline", "integrity_source_object": SOURCE.source_tag}, ApiIntegrity.PIPELINE),
        ({"integrity": "storage", "integrity_source_object": SOURCE.source_tag}, ApiIntegrity.STORAGE),
        ({"integrity": "mismatch", "integrity_source_object": SOURCE.source_tag}, ApiIntegrity.MISMATCH),
        ({"integrity": "pipeline", "integrity_source_object": "etag#older"}, ApiIntegrity.DECLARED),
        ({"integrity": "pipeline", "integrity_source_object": SOURCE.source_tag, "sha256": None}, None),
        (
            {"integrity": "something-else", "integrity_source_object": SOURCE.source_tag},
            ApiIntegrity.DECLARED,
        ),
    ],
    ids=[
        "nothing-declared",
        "declared",
        "pipeline",
        "storage",
        "mismatch",
        "older-version",
        "undeclared",
        "unknown",
    ],
)
def test_the_api_shows_a_verification_only_of_the_version_the_file_holds(
    changes: dict[str, Any], expected: ApiIntegrity | None
) -> None:
    assert replace(_FILE, **changes).verified_integrity is expected


def test_the_apis_values_are_the_processors_and_declared() -> None:
    assert {value.value for value in ApiIntegrity} == {value.value for value in Integrity} | {"declared"}
