"""The Python SDK and the `fileflow` CLI against the deployed stack (API Gateway + authorizer + API
Lambda + S3 presigned URLs with SigV4 signatures checked).

- 1 GiB in parallel parts: the object streamed back from S3 has the file's SHA-256;
- an upload stopped after a few parts by one process is finished by another, which sends exactly
  the parts S3's own ListParts did not hold;
- the CLI explains a refused token.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests

from fileflow_client import FileflowClient
from fileflow_client.cli import EXIT_AUTH, EXIT_STOPPED
from infra import outputs as names
from tests.e2e.conftest import AwsClients
from tools.stack import StackOutputs
from tools.token import TokenFactory

ROOT = Path(__file__).resolve().parents[2]
MIB = 1024 * 1024
GIB = 1024 * MIB
CLI_TIMEOUT = 600


@pytest.fixture(scope="module")
def tokens(stack: StackOutputs) -> TokenFactory:
    """Tokens signed with the stack's key; the suite never goes around the authorizer."""
    assert names.SIGNING_SECRET_ARN in stack.values, "the deployed stack has no signing secret output"
    probe = requests.get(f"{stack.api_url}/v1/uploads/probe", timeout=30)
    assert probe.status_code == 401, (
        f"/v1/* answered a request without a token: {probe.status_code} {probe.text[:200]}"
    )
    return TokenFactory.for_stack(stack)


@pytest.fixture
def user_token(tokens: TokenFactory) -> str:
    """A user of its own for each test: its quota and rate limit start empty."""
    return tokens.valid(f"e2e-client-{uuid.uuid4().hex[:12]}")


@pytest.fixture
def stored_keys(stack: StackOutputs, aws: AwsClients) -> Iterator[list[str]]:
    """Keys a test wrote: their objects (every version) and unfinished uploads are removed after it."""
    keys: list[str] = []
    yield keys
    bucket = stack[names.BUCKET_NAME]
    for key in keys:
        for upload in aws.s3.list_multipart_uploads(Bucket=bucket, Prefix=key).get("Uploads", []):
            aws.s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload["UploadId"])
        versions = aws.s3.list_object_versions(Bucket=bucket, Prefix=key)
        for version in [*versions.get("Versions", []), *versions.get("DeleteMarkers", [])]:
            aws.s3.delete_object(Bucket=bucket, Key=key, VersionId=version["VersionId"])


def write_random_file(path: Path, size: int, *, seed: int) -> str:
    """Random bytes (every part differs), written in 8 MiB chunks; returns their SHA-256."""
    generator, digest = random.Random(seed), hashlib.sha256()
    with path.open("wb") as file:
        remaining = size
        while remaining:
            chunk = generator.randbytes(min(8 * MIB, remaining))
            digest.update(chunk)
            file.write(chunk)
            remaining -= len(chunk)
    return digest.hexdigest()


def stored_sha256(aws: AwsClients, bucket: str, key: str) -> tuple[str, int]:
    """SHA-256 and size of the object, streamed back from S3."""
    digest, size = hashlib.sha256(), 0
    body = aws.s3.get_object(Bucket=bucket, Key=key)["Body"]
    for chunk in body.iter_chunks(MIB):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def s3_held_parts(aws: AwsClients, bucket: str, key: str) -> list[int]:
    """The part numbers S3 holds for the key's multipart upload, from S3's own ListParts."""
    (upload,) = aws.s3.list_multipart_uploads(Bucket=bucket, Prefix=key)["Uploads"]
    numbers: list[int] = []
    for page in aws.s3.get_paginator("list_parts").paginate(
        Bucket=bucket, Key=key, UploadId=upload["UploadId"]
    ):
        numbers.extend(part["PartNumber"] for part in page.get("Parts", []))
    return sorted(numbers)


class PeakPutsTransport(httpx.BaseTransport):
    """The network, counting how many PUTs (part uploads) are in flight at once."""

    def __init__(self) -> None:
        self._network = httpx.HTTPTransport()
        self._lock = threading.Lock()
        self._in_flight = 0
        self.peak = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method != "PUT":
            return self._network.handle_request(request)
        with self._lock:
            self._in_flight += 1
            self.peak = max(self.peak, self._in_flight)
        try:
            return self._network.handle_request(request)
        finally:
            with self._lock:
                self._in_flight -= 1

    def close(self) -> None:
        self._network.close()


def run_cli(api_url: str, token: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m fileflow_client ...` in a process of its own, configured as a user would."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "client"),
        "FILEFLOW_API_URL": api_url,
        "FILEFLOW_TOKEN": token,
    }
    return subprocess.run(
        [sys.executable, "-m", "fileflow_client", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT,
        check=False,
    )


@pytest.fixture
def one_gib_file(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """1 GiB of random bytes and their SHA-256; removed after the test (pytest keeps tmp dirs)."""
    path = tmp_path / "one-gib.bin"
    sha256 = write_random_file(path, GIB, seed=1)
    yield path, sha256
    path.unlink()


def test_one_gib_upload_in_parallel_parts_stores_the_files_exact_bytes(
    stack: StackOutputs,
    aws: AwsClients,
    user_token: str,
    stored_keys: list[str],
    one_gib_file: tuple[Path, str],
    tmp_path: Path,
):
    # Given a 1 GiB file of random bytes
    path, sha256 = one_gib_file
    network = PeakPutsTransport()
    # When the SDK uploads it, 8 parts at a time
    with FileflowClient(stack.api_url, user_token, state_dir=tmp_path / "state", transport=network) as client:
        started = time.monotonic()
        result = client.upload(path, concurrency=8)
        elapsed = time.monotonic() - started
    stored_keys.append(result.key)
    rate = GIB / elapsed / 1e6
    print(f"\n1 GiB: {elapsed:.1f} s, {rate:.0f} MB/s, {result.part_count} parts, {network.peak} at once")
    # Then it went as parts of the API's plan, several in flight at once, each sent once
    assert result.mode == "multipart"
    assert result.part_count == -(-GIB // result.part_size) > 1
    assert result.parts_sent == tuple(range(1, result.part_count + 1))
    assert network.peak >= 4
    assert result.sha256 == sha256
    # And the object S3 stored, streamed back, is the file
    assert stored_sha256(aws, stack[names.BUCKET_NAME], result.key) == (sha256, GIB)


def test_interrupted_upload_resumes_in_a_new_process_sending_only_the_missing_parts(
    stack: StackOutputs, aws: AwsClients, user_token: str, stored_keys: list[str], tmp_path: Path
):
    # Given a file of a dozen parts or so, whose last part is short
    path = tmp_path / "resumable.bin"
    sha256 = write_random_file(path, 100 * MIB + 12_345, seed=2)
    state = tmp_path / "upload-state.json"
    # When a first process stops dead (os._exit, like a crash) once 3 parts are confirmed
    first = run_cli(
        stack.api_url, user_token, "upload", str(path), "--concurrency", "4", "--state-file", str(state),
        "--stop-after-parts", "3",
    )  # fmt: skip
    assert first.returncode == EXIT_STOPPED, first.stderr
    recorded: dict[str, Any] = json.loads(state.read_text())
    stored_keys.append(recorded["key"])
    part_count = recorded["part_count"]
    # Then S3's own ListParts shows the upload half-done: some parts, not all
    held = s3_held_parts(aws, stack[names.BUCKET_NAME], recorded["key"])
    assert 3 <= len(held) < part_count, (held, part_count)

    # When another process uploads the same file
    second = run_cli(stack.api_url, user_token, "upload", str(path), "--json", "--state-file", str(state))
    assert second.returncode == 0, second.stderr
    report: dict[str, Any] = json.loads(second.stdout)
    # Then it continued the same upload, sending exactly the parts S3 lacked
    assert report["upload_id"] == recorded["upload_id"]
    assert report["resumed"] is True
    assert report["parts_reused"] == held
    assert report["parts_sent"] == [n for n in range(1, part_count + 1) if n not in held]
    # And it hashed the whole file again while it sent them, and declared that SHA-256 at complete
    assert report["sha256"] == sha256
    # And the object S3 stored is the file
    assert stored_sha256(aws, stack[names.BUCKET_NAME], recorded["key"]) == (sha256, path.stat().st_size)
    assert not state.exists()


def test_cli_explains_a_refused_token(stack: StackOutputs, tokens: TokenFactory, tmp_path: Path):
    # Given an expired token
    path = tmp_path / "note.txt"
    path.write_text("hello")
    # When the CLI uploads with it
    result = run_cli(stack.api_url, tokens.expired("e2e-client"), "upload", str(path))
    # Then the authorizer refuses it and the CLI says what to do
    assert result.returncode == EXIT_AUTH
    assert "authentication failed (401)" in result.stderr
    assert "FILEFLOW_TOKEN" in result.stderr


def test_crc32c_part_checksums_are_verified_and_composed_by_the_storage(
    stack: StackOutputs, aws: AwsClients, user_token: str, stored_keys: list[str], tmp_path: Path
):
    # Given a file of a few parts, its last one short
    path = tmp_path / "crc32c.bin"
    sha256 = write_random_file(path, 40 * MIB + 999, seed=3)
    # When the SDK uploads it with a CRC32C per part
    with FileflowClient(stack.api_url, user_token, state_dir=tmp_path / "state") as client:
        result = client.upload(path, concurrency=4, checksum_algorithm="CRC32C")
    stored_keys.append(result.key)
    assert result.part_count > 1
    # Then S3 holds the object with its composite CRC32C of those parts, which the client checked
    head = aws.s3.head_object(Bucket=stack[names.BUCKET_NAME], Key=result.key, ChecksumMode="ENABLED")
    assert head["ChecksumCRC32C"].endswith(f"-{result.part_count}")
    assert "ChecksumSHA256" not in head
    # And the whole file's SHA-256 was declared at complete, and the stored bytes are the file's
    assert result.sha256 == sha256
    assert stored_sha256(aws, stack[names.BUCKET_NAME], result.key) == (sha256, path.stat().st_size)
