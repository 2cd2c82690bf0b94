"""FileflowClient.upload against the in-memory Fileflow (tests/unit/fileflow_fake.py)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import threading
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from fileflow_client import (
    AuthenticationError,
    FileChangedError,
    FileflowClient,
    FileTooLargeError,
    IntegrityError,
    Progress,
    RetryPolicy,
    ServerError,
    TransferError,
    UnsupportedMediaTypeError,
)
from fileflow_client.state import load_state
from tests.unit.fileflow_fake import API_URL, TOKEN, FakeFileflow, FakePart, Fault

PART = 64 * 1024


class StoppedByCallbackError(Exception):
    """Raised by a progress callback: the upload stops as if the process were interrupted."""


@pytest.fixture
def fake() -> FakeFileflow:
    return FakeFileflow(part_size=PART, single_limit=PART)


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
def new_client(fake: FakeFileflow, tmp_path: Path, waits: list[float]) -> Callable[..., FileflowClient]:
    """A new client each call: what a new process would have (only the state directory survives)."""

    def make(token: str = TOKEN, retry: RetryPolicy | None = None) -> FileflowClient:
        return FileflowClient(
            API_URL,
            token,
            transport=fake.transport(),
            state_dir=tmp_path / "state",
            retry=retry or RetryPolicy(max_attempts=4, base_delay=0.5, max_delay=4.0),
            sleep=waits.append,
            # the fake's single PUTs go up to PART bytes, included
            single_put_threshold=PART + 1,
        )

    return make


def random_file(path: Path, size: int, seed: int = 7) -> bytes:
    data = random.Random(seed).randbytes(size)
    path.write_bytes(data)
    return data


def overwrite_keeping_mtime(path: Path, data: bytes) -> None:
    """Write `data` over the start of the file and keep its mtime: the same file to the client's
    identity check, other bytes in its first part."""
    stat = path.stat()
    with path.open("r+b") as file:
        file.write(data)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def stop_after(parts: int) -> Callable[[Progress], None]:
    confirmed = 0

    def on_progress(event: Progress) -> None:
        nonlocal confirmed
        if event.part_number is not None and event.phase == "uploading":
            confirmed += 1
            if confirmed >= parts:
                raise StoppedByCallbackError

    return on_progress


def sha256_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


# --- a whole upload ------------------------------------------------------------------------------


def test_multipart_upload_stores_the_file_and_verifies_it(tmp_path, fake, new_client):
    # Given a file of 5.5 parts
    data = random_file(tmp_path / "video.mp4", 5 * PART + PART // 2)
    events: list[Progress] = []
    # When uploaded
    with new_client() as client:
        result = client.upload(tmp_path / "video.mp4", concurrency=3, progress=events.append)
    # Then the stored object is the file, and the result describes it
    assert fake.objects[result.key] == data
    assert result.mode == "multipart"
    assert result.size == len(data)
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    assert result.parts_sent == (1, 2, 3, 4, 5, 6)
    assert result.parts_reused == ()
    assert result.etag.endswith("-6")
    assert result.content_type == "video/mp4"
    # And the API was told the file's SHA-256 at complete (hashed while the parts went out)
    assert fake.only_upload().sha256 == hashlib.sha256(data).hexdigest()
    # And progress went from the first part through every part to completed, with no hashing first
    assert events[0] == Progress("uploading", 0, len(data), 0, 6)
    assert sorted(e.part_number for e in events if e.part_number is not None) == [1, 2, 3, 4, 5, 6]
    assert events[-1] == Progress("completed", len(data), len(data), 6, 6)
    # And nothing is left to resume
    assert list((tmp_path / "state").iterdir()) == []


def test_every_part_carries_its_own_signed_sha256(tmp_path, fake, new_client):
    data = random_file(tmp_path / "f.bin", 3 * PART)
    with new_client() as client:
        client.upload(tmp_path / "f.bin")
    parts = fake.only_upload().parts
    assert {n: p.checksum_sha256 for n, p in parts.items()} == {
        n: sha256_b64(data[(n - 1) * PART : n * PART]) for n in (1, 2, 3)
    }


def test_part_checksums_can_be_left_out(tmp_path, fake, new_client):
    random_file(tmp_path / "f.bin", 3 * PART)
    with new_client() as client:
        client.upload(tmp_path / "f.bin", part_checksums=False)
    assert all(p.checksum_sha256 is None for p in fake.only_upload().parts.values())


def test_parts_are_sent_in_parallel(tmp_path, fake, new_client):
    # Given a storage that stores no part until 4 PUTs are in flight together
    data = random_file(tmp_path / "f.bin", 8 * PART)
    fake.before_store = threading.Barrier(4, timeout=10).wait
    # When uploaded 4 at a time / Then it completes (a client sending fewer at once breaks the barrier)
    with new_client() as client:
        result = client.upload(tmp_path / "f.bin", concurrency=4)
    assert fake.objects[result.key] == data


def test_part_urls_are_asked_for_in_batches_not_one_call_per_part(tmp_path, fake, new_client):
    # Given 40 parts and 2 workers
    random_file(tmp_path / "f.bin", 40 * PART)
    with new_client() as client:
        client.upload(tmp_path / "f.bin", concurrency=2)
    # Then each part was signed once: first as many as there are workers, then batches of 8
    # (2 x concurrency, at least 8)
    signed = [n for batch in fake.signed_batches for n in batch]
    assert sorted(signed) == list(range(1, 41))
    assert [len(batch) for batch in fake.signed_batches] == [2, 8, 8, 8, 8, 6]


def test_small_file_goes_in_one_signed_put(tmp_path, fake, new_client):
    data = random_file(tmp_path / "note.txt", 1000)
    with new_client() as client:
        result = client.upload(tmp_path / "note.txt")
    assert result.mode == "single"
    assert fake.objects[result.key] == data
    assert result.etag == hashlib.md5(data, usedforsecurity=False).hexdigest()
    assert result.content_type == "text/plain"


def test_empty_file_uploads(tmp_path, fake, new_client):
    (tmp_path / "empty").write_bytes(b"")
    with new_client() as client:
        result = client.upload(tmp_path / "empty")
    assert fake.objects[result.key] == b""
    assert result.size == 0


# --- failures and retries ------------------------------------------------------------------------


def test_transient_storage_failures_are_retried_with_backoff(tmp_path, fake, new_client, waits):
    # Given the storage fails three requests in a row (503, a refused connection, 500)
    data = random_file(tmp_path / "f.bin", 2 * PART)
    fake.fail_storage(Fault(503), Fault(exception=httpx.ConnectError), Fault(500))
    # When uploaded one part at a time
    with new_client() as client:
        result = client.upload(tmp_path / "f.bin", concurrency=1)
    # Then it completed, after three waits of growing ceilings
    assert fake.objects[result.key] == data
    assert len(waits) == 3
    assert all(0 <= wait <= 4.0 for wait in waits)
    assert fake.put_attempts[1] == 4


def test_a_part_stored_whose_answer_was_lost_is_sent_again_safely(tmp_path, fake, new_client):
    data = random_file(tmp_path / "f.bin", 2 * PART)
    fake.fail_storage(Fault(exception=httpx.ReadError, after_store=True))
    with new_client() as client:
        result = client.upload(tmp_path / "f.bin", concurrency=1)
    assert fake.objects[result.key] == data
    assert fake.parts_sent_to(result.upload_id) == [1, 1, 2]


def test_storage_that_keeps_failing_raises_a_transfer_error_and_stays_resumable(tmp_path, fake, new_client):
    # Given the storage fails every attempt at the second part
    data = random_file(tmp_path / "g.bin", 3 * PART)

    def fail_after_first_part(event: Progress) -> None:
        if event.part_number == 1:
            fake.fail_storage(*[Fault(503)] * 4)

    with new_client() as client, pytest.raises(TransferError) as raised:
        client.upload(tmp_path / "g.bin", concurrency=1, progress=fail_after_first_part)
    # Then the error names the part and the storage's answer
    assert raised.value.part_number == 2
    assert raised.value.status == 503
    # And a later run finishes the upload, sending only what is missing
    with new_client() as client:
        result = client.upload(tmp_path / "g.bin")
    assert result.parts_reused == (1,)
    assert result.parts_sent == (2, 3)
    assert fake.objects[result.key] == data


def test_bytes_that_changed_after_signing_are_refused_by_storage_and_not_retried(tmp_path, fake, new_client):
    # Given the file's third part changes (same size) after its checksum was signed
    path = tmp_path / "f.bin"
    random_file(path, 4 * PART)

    def change_part_3(event: Progress) -> None:
        if event.part_number == 2:  # part 3 was signed before part 2 was sent
            with path.open("r+b") as file:
                file.seek(2 * PART)
                file.write(b"\0" * 10)

    # When uploaded
    with new_client() as client, pytest.raises(TransferError) as raised:
        client.upload(path, concurrency=1, progress=change_part_3)
    # Then the storage's BadDigest stops it at once: the data is not what was signed
    assert raised.value.code == "BadDigest"
    assert fake.put_attempts[3] == 1


def test_an_expired_part_url_is_signed_again(tmp_path, fake, new_client):
    # Given URLs that expire while earlier parts are sent
    data = random_file(tmp_path / "f.bin", 4 * PART)
    fake.url_ttl = 60

    def time_passes(event: Progress) -> None:
        if event.part_number == 2:  # parts 3 and 4 were signed before part 2 was sent
            fake.now += 120

    with new_client() as client:
        result = client.upload(tmp_path / "f.bin", concurrency=1, progress=time_passes)
    # Then the parts whose URLs expired were signed again, one by one, and the upload completed
    assert fake.objects[result.key] == data
    assert fake.signed_batches == [[1], [2, 3, 4], [3], [4]]


def test_throttled_api_is_retried_after_its_retry_after(tmp_path, fake, new_client, waits):
    data = random_file(tmp_path / "f.bin", 2 * PART)
    fake.fail_api(Fault(503, retry_after="2"))
    with new_client() as client:
        result = client.upload(tmp_path / "f.bin")
    assert fake.objects[result.key] == data
    assert waits == [2.0]


def test_an_ambiguous_initiate_failure_is_not_repeated(tmp_path, fake, new_client):
    # Given the API fails the initiate with a 500 (it may have created the upload)
    random_file(tmp_path / "f.bin", 2 * PART)
    fake.fail_api(Fault(500))
    # Then the client does not create a second one behind the caller's back
    with new_client() as client, pytest.raises(ServerError):
        client.upload(tmp_path / "f.bin")
    assert fake.api_calls == [("POST", "/v1/uploads")]


def test_idempotent_calls_are_retried_on_5xx_and_dropped_connections(tmp_path, fake, new_client, waits):
    data = random_file(tmp_path / "f.bin", 2 * PART)

    def fail_signing_and_completion(event: Progress) -> None:
        if event.phase == "uploading" and event.part_number is None:
            fake.fail_api(Fault(502), Fault(exception=httpx.ReadError))
        if event.phase == "completing":
            fake.fail_api(Fault(504))

    with new_client() as client:
        result = client.upload(tmp_path / "f.bin", progress=fail_signing_and_completion)
    assert fake.objects[result.key] == data
    assert len(waits) == 3


def test_a_refused_token_is_an_authentication_error_without_retries(tmp_path, fake, new_client, waits):
    random_file(tmp_path / "f.bin", 100)
    with new_client(token="expired") as client, pytest.raises(AuthenticationError) as raised:
        client.upload(tmp_path / "f.bin")
    assert raised.value.status == 401
    assert waits == []


def test_a_file_too_large_is_refused_with_a_typed_error(tmp_path, fake, new_client):
    fake.max_size = 100
    random_file(tmp_path / "f.bin", 101)
    with new_client() as client, pytest.raises(FileTooLargeError) as raised:
        client.upload(tmp_path / "f.bin")
    assert raised.value.code == "UploadTooLarge"


def test_a_refused_content_type_is_a_typed_error(tmp_path, fake, new_client):
    fake.accepted_types = ("image/png",)
    random_file(tmp_path / "f.exe", 10)
    with new_client() as client, pytest.raises(UnsupportedMediaTypeError):
        client.upload(tmp_path / "f.exe", content_type="application/x-msdownload")
    assert fake.uploads == {}


def test_a_file_that_changes_during_the_upload_is_not_completed(tmp_path, fake, new_client):
    path = tmp_path / "f.bin"
    random_file(path, 3 * PART)

    def append(event: Progress) -> None:
        if event.part_number == 1:
            with path.open("ab") as file:
                file.write(b"more")

    with new_client() as client, pytest.raises(FileChangedError):
        client.upload(path, concurrency=1, progress=append)
    assert fake.only_upload().status == "initiated"
    assert fake.objects == {}


def test_an_object_that_is_not_made_of_the_parts_sent_fails_verification(tmp_path, fake, new_client):
    # Given another writer replaces part 2 between our PUT and the completion
    path = tmp_path / "f.bin"
    random_file(path, 3 * PART)

    def overwrite_part_2(event: Progress) -> None:
        if event.phase == "completing":
            other = b"\1" * PART
            fake.only_upload().parts[2] = FakePart(
                other, f'"{hashlib.md5(other, usedforsecurity=False).hexdigest()}"', None
            )

    # Then the completed object's ETag betrays it
    with new_client() as client, pytest.raises(IntegrityError, match="ETag"):
        client.upload(path, progress=overwrite_part_2)


@pytest.mark.parametrize(("size", "reported"), [(3 * PART, "AAAA-3"), (1000, "AAAA")])
def test_s3s_own_sha256_of_the_object_is_checked(tmp_path, fake, new_client, monkeypatch, size, reported):
    # Given a completion whose S3 checksum (composite for parts, whole for a single PUT) is not the file's
    random_file(tmp_path / "f.bin", size)
    complete = fake._complete

    def complete_reporting_another_checksum(upload_id: str, sha256: str | None) -> httpx.Response:
        body = complete(upload_id, sha256).json()
        assert body["checksum"] is not None
        body["checksum"]["value"] = reported
        return httpx.Response(200, json=body)

    monkeypatch.setattr(fake, "_complete", complete_reporting_another_checksum)
    # Then the upload fails its verification
    with new_client() as client, pytest.raises(IntegrityError, match="S3's SHA-256"):
        client.upload(tmp_path / "f.bin")


# --- resume ----------------------------------------------------------------------------------------


def interrupt(client: FileflowClient, path: Path, *, after: int, concurrency: int = 2) -> None:
    with pytest.raises(StoppedByCallbackError):
        client.upload(path, concurrency=concurrency, progress=stop_after(after))


def test_an_interrupted_upload_resumes_in_a_new_client_sending_only_missing_parts(tmp_path, fake, new_client):
    # Given an upload of 10 parts interrupted after 4 were confirmed
    path = tmp_path / "f.bin"
    data = random_file(path, 10 * PART)
    with new_client() as client:
        interrupt(client, path, after=4)
    upload = fake.only_upload()
    held = sorted(upload.parts)
    assert 4 <= len(held) < 10
    first_run = len(fake.stored_parts)
    # When a new client (a new process) uploads the same file
    with new_client() as client:
        result = client.upload(path)
    # Then it continued the same upload, sending exactly the parts the storage lacked
    assert result.upload_id == upload.upload_id
    assert result.resumed
    assert result.parts_reused == tuple(held)
    assert result.parts_sent == tuple(n for n in range(1, 11) if n not in held)
    assert sorted(n for _, n in fake.stored_parts[first_run:]) == list(result.parts_sent)
    assert result.bytes_sent == len(result.parts_sent) * PART
    assert fake.objects[result.key] == data


def test_the_upload_is_recorded_before_its_first_part_is_sent(tmp_path, fake, new_client):
    path = tmp_path / "f.bin"
    random_file(path, 3 * PART)
    recorded: list[str] = []

    def look_at_state(event: Progress) -> None:
        if event.phase == "uploading" and event.part_number is None:
            (state_file,) = (tmp_path / "state").iterdir()
            state = load_state(state_file)
            assert state is not None
            recorded.append(state.upload_id)
            assert fake.stored_parts == []

    with new_client() as client:
        result = client.upload(path, progress=look_at_state)
    assert recorded == [result.upload_id]


def test_resume_reads_every_page_of_the_held_parts(tmp_path, fake, new_client):
    # Given the storage lists 2 parts a page
    fake.page_size = 2
    path = tmp_path / "f.bin"
    data = random_file(path, 9 * PART)
    with new_client() as client:
        interrupt(client, path, after=6, concurrency=1)
    held = sorted(fake.only_upload().parts)
    calls_before = len(fake.api_calls)
    # When resumed
    with new_client() as client:
        result = client.upload(path)
    # Then every page was read, and no held part was sent again
    list_calls = [c for c in fake.api_calls[calls_before:] if c[0] == "GET" and c[1].endswith("/parts")]
    assert len(held) >= 6
    assert len(list_calls) == -(-len(held) // 2)
    assert result.parts_reused == tuple(held)
    assert fake.objects[result.key] == data


def test_a_held_part_whose_bytes_differ_from_the_local_file_is_sent_again(tmp_path, fake, new_client):
    # Given an interrupted upload, then part 1 of the file rewritten with other bytes, mtime kept
    path = tmp_path / "f.bin"
    random_file(path, 6 * PART)
    with new_client() as client:
        interrupt(client, path, after=3, concurrency=1)
    assert 1 in fake.only_upload().parts
    overwrite_keeping_mtime(path, b"\xff" * 100)
    # When resumed
    with new_client() as client:
        result = client.upload(path)
    # Then the checksum ListParts gave for part 1 did not match: it was sent again
    assert 1 in result.parts_sent
    assert 1 not in result.parts_reused
    assert fake.objects[result.key] == path.read_bytes()


def test_an_aborted_upload_is_not_resumed(tmp_path, fake, new_client):
    path = tmp_path / "f.bin"
    data = random_file(path, 4 * PART)
    with new_client() as client:
        interrupt(client, path, after=1, concurrency=1)
        first = fake.only_upload().upload_id
        client.abort(first)
        result = client.upload(path)
    assert result.upload_id != first
    assert not result.resumed
    assert result.parts_sent == (1, 2, 3, 4)
    assert fake.objects[result.key] == data


def test_no_resume_aborts_the_recorded_upload_and_starts_afresh(tmp_path, fake, new_client):
    path = tmp_path / "f.bin"
    random_file(path, 4 * PART)
    with new_client() as client:
        interrupt(client, path, after=1, concurrency=1)
        first = fake.only_upload().upload_id
        result = client.upload(path, resume=False)
    assert result.upload_id != first
    assert fake.uploads[first].status == "aborted"
    assert result.parts_sent == (1, 2, 3, 4)


def test_a_modified_file_starts_a_new_upload(tmp_path, fake, new_client):
    path = tmp_path / "f.bin"
    random_file(path, 4 * PART)
    with new_client() as client:
        interrupt(client, path, after=1, concurrency=1)
    first = fake.only_upload().upload_id
    data = random_file(path, 4 * PART, seed=8)
    with new_client() as client:
        result = client.upload(path)
    assert result.upload_id != first
    assert result.parts_sent == (1, 2, 3, 4)
    assert fake.objects[result.key] == data


def test_an_upload_about_to_expire_is_started_afresh(tmp_path, fake, new_client):
    path = tmp_path / "f.bin"
    random_file(path, 4 * PART)
    with new_client() as client:
        interrupt(client, path, after=1, concurrency=1)
    first = fake.only_upload()
    first.expires_at = "2020-01-01T00:00:00+00:00"
    with new_client() as client:
        result = client.upload(path)
    assert result.upload_id != first.upload_id
    assert result.parts_sent == (1, 2, 3, 4)


def test_a_resumed_upload_keeps_signing_checksums_as_it_was_initiated(tmp_path, fake, new_client):
    # Given an upload initiated with per-part checksums, interrupted
    path = tmp_path / "f.bin"
    data = random_file(path, 4 * PART)
    with new_client() as client:
        interrupt(client, path, after=1, concurrency=1)
    # When resumed by a caller that asks for no checksums
    with new_client() as client:
        result = client.upload(path, part_checksums=False)
    # Then the parts still carry them (the API requires them of this upload)
    assert result.resumed
    assert all(part.checksum_sha256 for part in fake.only_upload().parts.values())
    assert fake.objects[result.key] == data


def test_an_explicit_state_file_is_used(tmp_path, fake, new_client):
    path = tmp_path / "f.bin"
    random_file(path, 4 * PART)
    state_file = tmp_path / "mine.json"
    with new_client() as client, pytest.raises(StoppedByCallbackError):
        client.upload(path, concurrency=1, state_file=state_file, progress=stop_after(1))
    assert json.loads(state_file.read_text())["upload_id"] == fake.only_upload().upload_id
    with new_client() as client:
        result = client.upload(path, state_file=state_file)
    assert result.parts_reused == (1,)
    assert not state_file.exists()


# --- the other routes ------------------------------------------------------------------------------


def test_status_parts_and_abort(tmp_path, fake, new_client):
    fake.page_size = 1
    path = tmp_path / "f.bin"
    random_file(path, 4 * PART)
    with new_client() as client:
        interrupt(client, path, after=2, concurrency=1)
        upload_id = fake.only_upload().upload_id
        status = client.status(upload_id)
        parts = client.list_parts(upload_id)
        aborted = client.abort(upload_id)
    assert status.status == "initiated"
    assert status.parts_received == 2
    assert status.part_count == 4
    assert [p.part_number for p in parts] == [1, 2]
    assert all(p.size == PART for p in parts)
    assert aborted.status == "aborted"
