"""The whole file's SHA-256, computed while a multipart upload's parts go out and declared at complete
(against the in-memory Fileflow, tests/unit/fileflow_fake.py)."""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import fileflow_client.checksums
import fileflow_client.client
from fileflow_client import AsyncFileflowClient, FileChangedError, FileflowClient, Progress, RetryPolicy
from tests.unit.fileflow_fake import API_URL, TOKEN, FakeFileflow
from tests.unit.test_client_upload import PART, StoppedByCallbackError, random_file, stop_after


@pytest.fixture
def fake() -> FakeFileflow:
    return FakeFileflow(part_size=PART, single_limit=PART)


def fake_client(
    fake: FakeFileflow, state_dir: Path, *, single_put_threshold: int = PART + 1
) -> FileflowClient:
    """A client of the fake, as a new process has it (only the state directory survives); retries do
    not wait (its sleep returns at once)."""
    return FileflowClient(
        API_URL,
        TOKEN,
        transport=fake.transport(),
        state_dir=state_dir,
        retry=RetryPolicy(max_attempts=2, base_delay=0),
        sleep=lambda _: None,
        # the fake's single PUTs go up to PART bytes, included
        single_put_threshold=single_put_threshold,
    )


@pytest.fixture
def new_client(fake: FakeFileflow, tmp_path: Path) -> Callable[..., FileflowClient]:
    """A new client each call (a new process: only the state directory survives)."""

    def make(*, single_put_threshold: int = PART + 1) -> FileflowClient:
        return fake_client(fake, tmp_path / "state", single_put_threshold=single_put_threshold)

    return make


def bodies(fake: FakeFileflow, method: str, suffix: str) -> list[dict[str, Any]]:
    return [body for verb, path, body in fake.api_bodies if verb == method and path.endswith(suffix)]


@pytest.fixture
def no_hash_before_initiate(monkeypatch: pytest.MonkeyPatch) -> None:
    """The old pre-hash pass (the whole file read before initiate) fails the test if it happens."""

    def refused(*args: object, **kwargs: object) -> str:
        raise AssertionError("the whole file was hashed before the upload began")

    monkeypatch.setattr(fileflow_client.client, "file_sha256", refused)


def test_a_multipart_upload_declares_its_sha256_at_complete_not_at_initiate(
    tmp_path: Path,
    fake: FakeFileflow,
    new_client: Callable[..., FileflowClient],
    no_hash_before_initiate: None,
) -> None:
    # Given a file of 3.5 parts
    data = random_file(tmp_path / "f.bin", 3 * PART + PART // 2)
    # When uploaded
    with new_client() as client:
        result = client.upload(tmp_path / "f.bin", concurrency=2)
    # Then initiate carried no sha256 and complete carried the file's
    digest = hashlib.sha256(data).hexdigest()
    [initiated] = bodies(fake, "POST", "/v1/uploads")
    assert "sha256" not in initiated
    assert bodies(fake, "POST", "/complete") == [{"sha256": digest}]
    assert result.sha256 == digest == fake.only_upload().sha256


@pytest.mark.parametrize("part_checksums", [True, False])
def test_the_first_part_is_sent_before_the_whole_file_is_hashed(
    tmp_path: Path,
    fake: FakeFileflow,
    new_client: Callable[..., FileflowClient],
    monkeypatch: pytest.MonkeyPatch,
    part_checksums: bool,
) -> None:
    # Given a hash of the whole file that cannot read a byte until a part is stored
    data = random_file(tmp_path / "f.bin", 4 * PART)
    part_stored = threading.Event()
    fake.before_store = part_stored.set
    read_range = fileflow_client.checksums.iter_range

    def gated(path: Path, offset: int, size: int, **kwargs: Any) -> Iterator[bytes]:
        if offset == 0 and size == len(data):  # the whole file's read, not a part's checksum
            assert part_stored.wait(timeout=10), "no part was sent while the file was being hashed"
        yield from read_range(path, offset, size, **kwargs)

    monkeypatch.setattr(fileflow_client.checksums, "iter_range", gated)
    # When uploaded / Then it completes, with the right SHA-256 (a pre-hash would have waited forever)
    with new_client() as client:
        result = client.upload(tmp_path / "f.bin", concurrency=2, part_checksums=part_checksums)
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    assert bodies(fake, "POST", "/complete") == [{"sha256": result.sha256}]


def test_a_resumed_upload_in_a_new_client_hashes_the_whole_file_again(
    tmp_path: Path,
    fake: FakeFileflow,
    new_client: Callable[..., FileflowClient],
    no_hash_before_initiate: None,
) -> None:
    # Given an upload interrupted after its first part was stored
    path = tmp_path / "f.bin"
    data = random_file(path, 5 * PART)
    with new_client() as client, pytest.raises(StoppedByCallbackError):
        client.upload(path, concurrency=1, progress=stop_after(1))
    # When a new client (a new process) uploads the same file
    with new_client() as client:
        result = client.upload(path, concurrency=2)
    # Then it resumed the one upload and completed it with the whole file's SHA-256
    assert result.resumed
    assert result.parts_reused == (1,)
    assert len(bodies(fake, "POST", "/v1/uploads")) == 1
    assert bodies(fake, "POST", "/complete") == [{"sha256": hashlib.sha256(data).hexdigest()}]
    assert fake.objects[result.key] == data


def test_a_single_put_is_hashed_first_and_declares_its_sha256_at_initiate(
    tmp_path: Path, fake: FakeFileflow, new_client: Callable[..., FileflowClient]
) -> None:
    # Given a file below the single-PUT threshold
    data = random_file(tmp_path / "note.bin", 1000)
    events: list[Progress] = []
    # When uploaded
    with new_client() as client:
        result = client.upload(tmp_path / "note.bin", progress=events.append)
    # Then its SHA-256 went to initiate (signed into the PUT URL), hashed first, and not to complete
    assert result.mode == "single"
    [initiated] = bodies(fake, "POST", "/v1/uploads")
    assert initiated["sha256"] == hashlib.sha256(data).hexdigest()
    assert bodies(fake, "POST", "/complete") == [{}]
    assert events[0].phase == "hashing"


def test_an_api_threshold_above_the_clients_starts_again_with_the_sha256_its_put_needs(
    tmp_path: Path, fake: FakeFileflow, new_client: Callable[..., FileflowClient]
) -> None:
    # Given a client that takes the API's single-PUT threshold to be lower than it is
    data = random_file(tmp_path / "note.bin", 1000)
    client = new_client(single_put_threshold=10)
    # When it uploads a file the API answers with a single PUT
    with client:
        result = client.upload(tmp_path / "note.bin")
    # Then that upload was aborted and a second one initiated with the file's SHA-256
    first, second = bodies(fake, "POST", "/v1/uploads")
    assert "sha256" not in first
    assert second["sha256"] == hashlib.sha256(data).hexdigest()
    assert [upload.status for upload in fake.uploads.values()] == ["aborted", "completed"]
    assert result.mode == "single"
    assert fake.objects[result.key] == data


def test_a_file_cut_short_while_it_is_hashed_is_not_completed(
    tmp_path: Path, fake: FakeFileflow, new_client: Callable[..., FileflowClient]
) -> None:
    # Given a file truncated once its first part is stored
    path = tmp_path / "f.bin"
    random_file(path, 4 * PART)

    def truncate() -> None:
        with path.open("r+b") as file:
            file.truncate(PART)

    fake.before_store = truncate
    # When uploaded / Then it fails without completing
    with new_client() as client, pytest.raises(FileChangedError):
        client.upload(path, concurrency=1)
    assert bodies(fake, "POST", "/complete") == []


def test_the_async_client_uploads_the_same_way(tmp_path: Path, fake: FakeFileflow) -> None:
    # Given a multipart file, uploaded by the async client without part checksums
    data = random_file(tmp_path / "f.bin", 3 * PART)

    async def upload() -> str:
        async with AsyncFileflowClient(
            API_URL,
            TOKEN,
            sync_transport=fake.transport(),
            state_dir=tmp_path / "state",
            single_put_threshold=PART + 1,
        ) as client:
            return (await client.upload(tmp_path / "f.bin", part_checksums=False)).sha256

    # Then its parts carried no checksum, and complete carried the file's SHA-256
    sha256 = asyncio.run(upload())
    assert sha256 == hashlib.sha256(data).hexdigest()
    assert all(part.checksum_sha256 is None for part in fake.only_upload().parts.values())
    assert bodies(fake, "POST", "/complete") == [{"sha256": sha256}]
