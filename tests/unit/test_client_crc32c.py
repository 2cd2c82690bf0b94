"""CRC32C part checksums (`checksum_algorithm="CRC32C"`): the storage verifies each part's CRC32C, the
client checks S3's composite of them, and a resume compares held parts by CRC32C (against the
in-memory Fileflow, tests/unit/fileflow_fake.py)."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from fileflow_client import FileflowClient, IntegrityError
from fileflow_client.localfile import composite_checksum, part_checksum
from tests.unit.fileflow_fake import FakeFileflow
from tests.unit.test_client_hash_while_sending import fake_client
from tests.unit.test_client_upload import (
    PART,
    StoppedByCallbackError,
    overwrite_keeping_mtime,
    random_file,
    stop_after,
)


@pytest.fixture
def fake() -> FakeFileflow:
    return FakeFileflow(part_size=PART, single_limit=PART)


@pytest.fixture
def new_client(fake: FakeFileflow, tmp_path: Path) -> Callable[[], FileflowClient]:
    """A new client each call (a new process: only the state directory survives)."""
    return lambda: fake_client(fake, tmp_path / "state")


def test_a_part_checksum_is_the_standard_crc32c_big_endian_in_base64(tmp_path: Path) -> None:
    # The CRC-32C check value of "123456789" (RFC 3720, iSCSI) is 0xE3069283; S3 sends it base64
    path = tmp_path / "check.txt"
    path.write_bytes(b"xx123456789yy")
    assert part_checksum(path, 2, 9, "CRC32C") == base64.b64encode(bytes.fromhex("e3069283")).decode()
    # and S3's composite is the CRC32C of the parts' 4-byte checksums, joined in order, "-<count>"
    parts = [base64.b64encode(bytes.fromhex(h)).decode() for h in ("e3069283", "00000000")]
    assert composite_checksum(parts, "CRC32C").endswith("-2")
    assert composite_checksum(parts, "CRC32C") != composite_checksum(parts[::-1], "CRC32C")


def test_every_part_is_signed_and_stored_with_its_crc32c(
    tmp_path: Path, fake: FakeFileflow, new_client: Callable[[], FileflowClient]
) -> None:
    # Given a file of 3 parts
    data = random_file(tmp_path / "f.bin", 3 * PART)
    # When uploaded with CRC32C part checksums
    with new_client() as client:
        result = client.upload(tmp_path / "f.bin", checksum_algorithm="CRC32C")
    upload = fake.only_upload()
    # Then the upload was initiated for CRC32C and each part carried the CRC32C of its bytes (which the
    # storage checked), and no SHA-256
    assert upload.checksum_algorithm == "CRC32C"
    assert {n: (p.checksum_crc32c, p.checksum_sha256) for n, p in upload.parts.items()} == {
        n: (part_checksum(tmp_path / "f.bin", (n - 1) * PART, PART, "CRC32C"), None) for n in (1, 2, 3)
    }
    # And the whole file's SHA-256 was still declared at complete, and the object is the file
    assert result.sha256 == hashlib.sha256(data).hexdigest() == upload.sha256
    assert fake.objects[result.key] == data


def test_a_wrong_composite_crc32c_from_the_storage_fails_verification(
    tmp_path: Path,
    fake: FakeFileflow,
    new_client: Callable[[], FileflowClient],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a completion whose composite CRC32C is not that of the parts sent
    random_file(tmp_path / "f.bin", 3 * PART)
    complete = fake._complete

    def complete_reporting_another_checksum(upload_id: str, sha256: str | None) -> httpx.Response:
        body = complete(upload_id, sha256).json()
        assert body["checksum"]["algorithm"] == "CRC32C"
        body["checksum"]["value"] = "AAAAAA==-3"
        return httpx.Response(200, json=body)

    monkeypatch.setattr(fake, "_complete", complete_reporting_another_checksum)
    # Then the upload fails, naming the algorithm
    with new_client() as client, pytest.raises(IntegrityError, match="S3's CRC32C of the stored object"):
        client.upload(tmp_path / "f.bin", checksum_algorithm="CRC32C")


def test_a_resume_compares_held_parts_by_crc32c_and_keeps_the_algorithm(
    tmp_path: Path, fake: FakeFileflow, new_client: Callable[[], FileflowClient]
) -> None:
    # Given a CRC32C upload interrupted after 3 parts, then part 1 of the file rewritten, mtime kept
    path = tmp_path / "f.bin"
    random_file(path, 6 * PART)
    with new_client() as client, pytest.raises(StoppedByCallbackError):
        client.upload(path, concurrency=1, checksum_algorithm="CRC32C", progress=stop_after(3))
    assert 1 in fake.only_upload().parts
    overwrite_keeping_mtime(path, b"\xff" * 100)
    # When resumed by a caller that did not say which algorithm
    with new_client() as client:
        result = client.upload(path)
    # Then the CRC32C ListParts gave for part 1 did not match: it was sent again; the others were kept
    assert result.resumed
    assert 1 in result.parts_sent
    assert set(result.parts_reused) == set(range(2, 4))
    # And every part carries its CRC32C, as the upload was initiated (the API requires it)
    assert all(p.checksum_crc32c and not p.checksum_sha256 for p in fake.only_upload().parts.values())
    assert fake.objects[result.key] == path.read_bytes()


def test_an_unknown_algorithm_is_refused_before_any_request(
    tmp_path: Path, fake: FakeFileflow, new_client: Callable[[], FileflowClient]
) -> None:
    random_file(tmp_path / "f.bin", 3 * PART)
    with new_client() as client, pytest.raises(ValueError, match="SHA256, CRC32C, not 'MD5'"):
        client.upload(tmp_path / "f.bin", checksum_algorithm="MD5")
    assert fake.api_bodies == []
