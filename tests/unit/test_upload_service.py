"""UploadService against in-memory fakes: the state machine, the checks, and what every refusal leaves."""

import base64
import hashlib
from dataclasses import replace
from datetime import timedelta

import pytest

from fileflow_api.uploads.errors import (
    InvalidChecksumError,
    InvalidContentTypeError,
    InvalidPartRequestError,
    MissingPartsError,
    MultipartUploadGoneError,
    NotMultipartUploadError,
    NotUploadedError,
    PartMismatchError,
    PartNumberOutOfRangeError,
    PartSizeMismatchError,
    SizeMismatchError,
    UnsupportedContentTypeError,
    UploadAbortedError,
    UploadCompletedError,
    UploadExpiredError,
    UploadNotFoundError,
    UploadTooLargeError,
)
from fileflow_api.uploads.filenames import InvalidFilenameError
from fileflow_api.uploads.model import (
    BrowserUpload,
    Checksum,
    ChecksumAlgorithm,
    ClientPart,
    CompletedObject,
    NewUpload,
    PartRequest,
    UnknownSize,
    UploadMode,
    UploadSession,
    UploadStatus,
)
from fileflow_api.uploads.part_plan import MiB
from fileflow_api.usage.quotas import Quota, QuotaExceededError
from tests.unit.upload_fakes import POLICY, T0, World, make_world

ALICE, BOB = "alice", "bob"
SIZE = 20 * MiB + 5  # three 8 MiB parts: 8, 8, 4 MiB + 5 bytes
SHA256_OF_PART = base64.b64encode(hashlib.sha256(b"part").digest()).decode()
CRC32C_OF_PART = base64.b64encode(b"\x01\x02\x03\x04").decode()


@pytest.fixture
def world() -> World:
    return make_world()


def start_multipart(world: World, *, size: int = SIZE, **kwargs: object) -> UploadSession:
    new = NewUpload(filename="video.bin", size=size, content_type="application/octet-stream", **kwargs)  # type: ignore[arg-type]
    return world.service.initiate(ALICE, new).session


def start_uppy_multipart(world: World, filename: str) -> UploadSession:
    """Uppy's stock multipart flow: no declared size, parts sized by the browser."""
    new = BrowserUpload(filename, "application/octet-stream", UnknownSize(), form_post=False)
    return world.service.initiate(ALICE, new).session


def upload_all_parts(world: World, session: UploadSession) -> None:
    assert session.s3_upload_id is not None
    assert session.plan is not None
    for number in range(1, session.plan.part_count + 1):
        world.s3.put_part(session.s3_upload_id, number, session.plan.part_length(number))


# --- initiate ---------------------------------------------------------------------------------------------


def test_small_file_gets_one_presigned_put_bound_to_its_size_and_type(world: World) -> None:
    # Given a 1 KiB text file with its SHA-256
    digest = hashlib.sha256(b"x" * 1024).hexdigest()
    # When initiated
    initiated = world.service.initiate(
        ALICE, NewUpload(filename="notes.txt", size=1024, content_type="Text/Plain", sha256=digest.upper())
    )
    # Then one PUT whose signed headers pin the size, the type and the checksum
    session, single = initiated.session, initiated.single
    assert session.mode is UploadMode.SINGLE
    assert (session.part_size, session.part_count) == (1024, 1)
    assert single is not None
    assert single.headers == {
        "Content-Length": "1024",
        "Content-Type": "text/plain",
        "x-amz-checksum-sha256": base64.b64encode(bytes.fromhex(digest)).decode(),
    }
    # And the key is generated, never the filename, and the session lives as long as the URL
    assert session.key == f"uploads/{ALICE}/{session.file_id}"
    assert "notes" not in session.key
    assert session.expires_at == T0 + timedelta(minutes=15)
    assert session.sha256 == digest
    assert world.sessions.get(ALICE, session.upload_id) == session


def test_large_file_gets_a_planned_multipart_upload(world: World) -> None:
    # When a 20 MiB file is initiated with SHA-256 part checksums
    session = start_multipart(world, checksum_algorithm=ChecksumAlgorithm.SHA256)
    # Then S3's multipart upload exists with that algorithm, and the plan is 8 MiB parts
    assert session.mode is UploadMode.MULTIPART
    assert (session.part_size, session.part_count) == (8 * MiB, 3)
    assert session.s3_upload_id is not None
    assert world.s3.multipart[session.s3_upload_id].algorithm is ChecksumAlgorithm.SHA256
    assert session.expires_at == T0 + timedelta(hours=24)
    # And the declared size is reserved against the quota, the file item declared for the processor
    assert world.quotas.usage(ALICE).bytes == SIZE
    assert world.catalog.declared[session.file_id].filename == "video.bin"


def test_the_same_filename_twice_gets_two_keys(world: World) -> None:
    first = start_multipart(world)
    second = start_multipart(world)
    assert first.key != second.key
    assert first.upload_id != second.upload_id


@pytest.mark.parametrize(
    ("new", "error"),
    [
        pytest.param(
            NewUpload("a.exe", 10, "application/x-msdownload"), UnsupportedContentTypeError, id="415"
        ),
        pytest.param(NewUpload("a.txt", 10, "not a type"), InvalidContentTypeError, id="malformed type"),
        pytest.param(NewUpload("a.txt", 10, "text/plain; x=\u00e9"), InvalidContentTypeError, id="non-ASCII"),
        pytest.param(NewUpload("a.bin", 100 * 1024 * MiB + 1, "image/png"), UploadTooLargeError, id="413"),
        pytest.param(NewUpload("a\x00.txt", 10, "text/plain"), InvalidFilenameError, id="NUL in name"),
        pytest.param(
            NewUpload("a.txt", 10, "text/plain", sha256="xyz"), InvalidChecksumError, id="bad sha256"
        ),
    ],
)
def test_refused_initiates_create_nothing(world: World, new: NewUpload, error: type[Exception]) -> None:
    # When a bad initiate is refused
    with pytest.raises(error):
        world.service.initiate(ALICE, new)
    # Then nothing exists: no session, no S3 upload, no URL, no quota used
    assert world.sessions.items == {}
    assert world.catalog.declared == {}
    assert world.s3.multipart == {}
    assert world.s3.presigned == []
    assert world.quotas.usage(ALICE).files == 0


def test_content_type_parameters_are_kept_and_the_type_lower_cased(world: World) -> None:
    initiated = world.service.initiate(
        ALICE, NewUpload(filename="a.txt", size=3, content_type=" TEXT/Plain ; charset=utf-8")
    )
    assert initiated.session.content_type == "text/plain; charset=utf-8"


def test_initiate_over_quota_is_refused_and_leaves_nothing() -> None:
    # Given a user with a 10 MiB quota
    world = make_world(quota=Quota(max_bytes=10 * MiB, max_files=10))
    # When a 20 MiB file is initiated / Then QuotaExceeded, and no S3 upload was started
    with pytest.raises(QuotaExceededError):
        start_multipart(world)
    assert world.s3.multipart == {}


def test_quota_is_given_back_when_s3_fails_after_the_reservation(world: World) -> None:
    # Given S3 refusing to start multipart uploads
    def broken(*_: object, **__: object) -> str:
        raise RuntimeError("S3 is down")

    world.s3.create_multipart_upload = broken  # type: ignore[method-assign]
    # When initiating / Then the error surfaces and the reservation is released
    with pytest.raises(RuntimeError):
        start_multipart(world)
    assert world.quotas.usage(ALICE).files == 0
    assert world.quotas.usage(ALICE).bytes == 0


# --- sign parts -------------------------------------------------------------------------------------------


def test_each_part_url_is_bound_to_its_exact_size_and_short_lived(world: World) -> None:
    session = start_multipart(world)
    # When the three parts are signed
    signed = world.service.sign_parts(ALICE, session.upload_id, [PartRequest(n) for n in (1, 2, 3)])
    # Then 8 MiB, 8 MiB and the remainder, each in a 15-minute URL
    assert [part.size for part in signed.parts] == [8 * MiB, 8 * MiB, 4 * MiB + 5]
    assert [p["size"] for p in world.s3.presigned] == [8 * MiB, 8 * MiB, 4 * MiB + 5]
    assert all(p["ttl"] == 900 for p in world.s3.presigned)
    assert signed.expires_at == T0 + timedelta(minutes=15)
    assert signed.parts[2].request.headers == {"Content-Length": str(4 * MiB + 5)}


@pytest.mark.parametrize("number", [0, -1, 4, 10_001])
def test_part_numbers_outside_the_plan_are_refused(world: World, number: int) -> None:
    session = start_multipart(world)
    with pytest.raises(PartNumberOutOfRangeError, match="parts 1 to 3"):
        world.service.sign_parts(ALICE, session.upload_id, [PartRequest(1), PartRequest(number)])
    assert world.s3.presigned == []


def test_duplicate_or_too_many_part_numbers_are_refused(world: World) -> None:
    session = start_multipart(world, size=2 * 1024 * MiB)
    with pytest.raises(InvalidPartRequestError, match="once"):
        world.service.sign_parts(ALICE, session.upload_id, [PartRequest(1), PartRequest(1)])
    with pytest.raises(InvalidPartRequestError, match="1 to 100"):
        world.service.sign_parts(ALICE, session.upload_id, [PartRequest(n) for n in range(1, 102)])


def test_checksums_are_signed_in_when_the_upload_announced_them(world: World) -> None:
    # Given an upload announcing CRC32C part checksums
    session = start_multipart(world, checksum_algorithm=ChecksumAlgorithm.CRC32C)
    crc = Checksum(ChecksumAlgorithm.CRC32C, CRC32C_OF_PART)
    # When a part is signed with its CRC32C / Then the checksum goes into the signature
    world.service.sign_parts(ALICE, session.upload_id, [PartRequest(1, crc)])
    assert world.s3.presigned[-1]["checksum"] == crc
    # And a part without it, with another algorithm, or with a malformed value is refused
    sha = Checksum(ChecksumAlgorithm.SHA256, SHA256_OF_PART)
    with pytest.raises(InvalidPartRequestError, match="CRC32C checksum"):
        world.service.sign_parts(ALICE, session.upload_id, [PartRequest(2)])
    with pytest.raises(InvalidPartRequestError, match="CRC32C checksum"):
        world.service.sign_parts(ALICE, session.upload_id, [PartRequest(2, sha)])
    with pytest.raises(InvalidChecksumError, match="4 bytes"):
        world.service.sign_parts(ALICE, session.upload_id, [PartRequest(2, Checksum(crc.algorithm, "AAAA"))])
    with pytest.raises(InvalidChecksumError, match="base64"):
        world.service.sign_parts(ALICE, session.upload_id, [PartRequest(2, Checksum(crc.algorithm, "!!!!"))])


def test_a_checksum_for_an_upload_without_checksums_is_refused(world: World) -> None:
    session = start_multipart(world)
    sha = Checksum(ChecksumAlgorithm.SHA256, SHA256_OF_PART)
    with pytest.raises(InvalidPartRequestError, match="without checksum_algorithm"):
        world.service.sign_parts(ALICE, session.upload_id, [PartRequest(1, sha)])


def test_no_url_outlives_its_session_and_an_expired_session_signs_nothing(world: World) -> None:
    session = start_multipart(world)
    # Given 5 minutes left of the session
    world.clock.advance(timedelta(hours=24) - timedelta(minutes=5))
    # When a part is signed / Then its URL expires with the session
    signed = world.service.sign_parts(ALICE, session.upload_id, [PartRequest(1)])
    assert signed.expires_at == session.expires_at
    assert world.s3.presigned[-1]["ttl"] == 300
    # And once the session has expired, signing is refused
    world.clock.advance(timedelta(minutes=5))
    with pytest.raises(UploadExpiredError):
        world.service.sign_parts(ALICE, session.upload_id, [PartRequest(1)])


def test_a_single_put_upload_has_no_parts(world: World) -> None:
    session = world.service.initiate(ALICE, NewUpload("a.txt", 3, "text/plain")).session
    with pytest.raises(NotMultipartUploadError):
        world.service.sign_parts(ALICE, session.upload_id, [PartRequest(1)])
    with pytest.raises(NotMultipartUploadError):
        world.service.list_parts(ALICE, session.upload_id)


@pytest.mark.parametrize("upload_id", ["nope", "../x", "a" * 65, "id\n"])
def test_unknown_upload_ids_are_not_found(world: World, upload_id: str) -> None:
    with pytest.raises(UploadNotFoundError):
        world.service.progress(ALICE, upload_id)


def test_another_users_upload_is_not_found_for_every_operation(world: World) -> None:
    # Given Alice's upload
    session = start_multipart(world)
    upload_all_parts(world, session)
    # When Bob uses its id / Then "not found" everywhere, and Alice's upload is untouched
    for attempt in (
        lambda: world.service.sign_parts(BOB, session.upload_id, [PartRequest(1)]),
        lambda: world.service.list_parts(BOB, session.upload_id),
        lambda: world.service.complete(BOB, session.upload_id),
        lambda: world.service.abort(BOB, session.upload_id),
        lambda: world.service.progress(BOB, session.upload_id),
    ):
        with pytest.raises(UploadNotFoundError):
            attempt()
    assert world.sessions.get(ALICE, session.upload_id) == session
    assert session.s3_upload_id in world.s3.multipart


def test_a_key_that_is_not_the_uploads_own_is_not_found(world: World) -> None:
    session = start_multipart(world)
    with pytest.raises(UploadNotFoundError):
        world.service.all_parts(ALICE, session.upload_id, key=f"uploads/{ALICE}/other")


# --- list parts -------------------------------------------------------------------------------------------


def test_parts_are_listed_a_page_at_a_time(world: World) -> None:
    session = start_multipart(world, size=30 * 8 * MiB)
    assert session.s3_upload_id is not None
    for number in (1, 2, 5):
        world.s3.put_part(session.s3_upload_id, number, 8 * MiB)
    first = world.service.list_parts(ALICE, session.upload_id)
    assert [p.part_number for p in first.parts] == [1, 2, 5]
    second = world.service.list_parts(ALICE, session.upload_id, after=2)
    assert [p.part_number for p in second.parts] == [5]
    with pytest.raises(PartNumberOutOfRangeError):
        world.service.list_parts(ALICE, session.upload_id, after=10_000)


# --- complete ---------------------------------------------------------------------------------------------


def test_complete_checks_every_part_then_completes_once(world: World) -> None:
    # Given all three parts in S3
    session = start_multipart(world, sha256="ab" * 32)
    upload_all_parts(world, session)
    # When completed
    completed = world.service.complete(ALICE, session.upload_id)
    # Then S3 completed the object, the session and the file item say so
    assert completed.status is UploadStatus.COMPLETED
    assert completed.result is not None
    assert completed.result.size == SIZE
    assert world.s3.objects[session.key].size == SIZE
    assert [record.upload_id for record in world.catalog.records] == [session.upload_id]
    assert world.sessions.get(ALICE, session.upload_id) == completed
    # And repeating it answers the same, without touching S3 or the file item again
    assert world.service.complete(ALICE, session.upload_id) == completed
    assert len(world.s3.completed) == 1
    assert len(world.catalog.records) == 1


def test_complete_with_missing_parts_says_which_and_loses_nothing(world: World) -> None:
    session = start_multipart(world)
    assert session.s3_upload_id is not None
    world.s3.put_part(session.s3_upload_id, 2, 8 * MiB)
    with pytest.raises(MissingPartsError, match="2 of 3 parts are missing: 1, 3"):
        world.service.complete(ALICE, session.upload_id)
    # Then the part already uploaded is still there, and the session is still open
    assert 2 in world.s3.multipart[session.s3_upload_id].parts
    assert world.sessions.get(ALICE, session.upload_id) == session


def test_complete_with_a_wrong_sized_part_says_which(world: World) -> None:
    session = start_multipart(world)
    upload_all_parts(world, session)
    assert session.s3_upload_id is not None
    world.s3.put_part(session.s3_upload_id, 2, 8 * MiB - 1)
    with pytest.raises(PartSizeMismatchError, match=f"part 2 holds {8 * MiB - 1} bytes, not {8 * MiB}"):
        world.service.complete(ALICE, session.upload_id)
    assert world.s3.completed == []


def test_a_part_beyond_the_plan_is_refused(world: World) -> None:
    session = start_multipart(world)
    upload_all_parts(world, session)
    assert session.s3_upload_id is not None
    world.s3.put_part(session.s3_upload_id, 4, 1)
    with pytest.raises(PartSizeMismatchError, match="beyond the 3 planned parts"):
        world.service.complete(ALICE, session.upload_id)


def test_single_put_complete_needs_the_object(world: World) -> None:
    session = world.service.initiate(ALICE, NewUpload("a.txt", 3, "text/plain")).session
    with pytest.raises(NotUploadedError):
        world.service.complete(ALICE, session.upload_id)
    world.s3.put_object(session.key, 3)
    completed = world.service.complete(ALICE, session.upload_id)
    assert completed.status is UploadStatus.COMPLETED
    assert completed.result is not None
    assert completed.result.etag == "etag-3"


def test_single_put_of_another_size_is_a_size_mismatch(world: World) -> None:
    session = world.service.initiate(ALICE, NewUpload("a.txt", 3, "text/plain")).session
    world.s3.put_object(session.key, 4)
    with pytest.raises(SizeMismatchError, match="4 bytes; the upload declared 3"):
        world.service.complete(ALICE, session.upload_id)


def test_complete_after_abort_is_a_conflict(world: World) -> None:
    session = start_multipart(world)
    world.service.abort(ALICE, session.upload_id)
    with pytest.raises(UploadAbortedError, match="cannot complete"):
        world.service.complete(ALICE, session.upload_id)


def test_complete_finds_an_object_s3_already_assembled(world: World) -> None:
    # Given S3 completed the upload but the session was never updated (a crash, a concurrent call)
    session = start_multipart(world)
    upload_all_parts(world, session)
    assert session.s3_upload_id is not None
    world.s3.complete_multipart_upload(session.key, session.s3_upload_id, [])
    world.s3.objects[session.key] = CompletedObject(size=SIZE, etag="final")
    # When completed / Then the object is recorded
    completed = world.service.complete(ALICE, session.upload_id)
    assert completed.result is not None
    assert completed.result.etag == "final"


def test_complete_of_parts_s3_no_longer_holds_is_a_conflict(world: World) -> None:
    # Given the lifecycle rule removed the multipart upload
    session = start_multipart(world)
    assert session.s3_upload_id is not None
    del world.s3.multipart[session.s3_upload_id]
    with pytest.raises(MultipartUploadGoneError):
        world.service.complete(ALICE, session.upload_id)


def test_uppy_complete_uses_the_parts_the_browser_lists(world: World) -> None:
    # Given an Uppy upload (no declared size) with two parts in S3
    session = start_uppy_multipart(world, "clip.mov")
    assert session.s3_upload_id is not None
    assert session.plan is None
    etag1 = world.s3.put_part(session.s3_upload_id, 1, 6 * MiB)
    etag2 = world.s3.put_part(session.s3_upload_id, 2, 100)
    # When the browser lists a part with another ETag / Then refused
    with pytest.raises(PartMismatchError, match="parts 2"):
        world.service.complete(
            ALICE, session.upload_id, client_parts=[ClientPart(1, etag1), ClientPart(2, "other")]
        )
    with pytest.raises(MissingPartsError, match="3"):
        world.service.complete(ALICE, session.upload_id, client_parts=[ClientPart(3, etag1)])
    # When it lists S3's parts (quoted, as browsers read them) / Then completed with them
    completed = world.service.complete(
        ALICE, session.upload_id, client_parts=[ClientPart(2, f'"{etag2}"'), ClientPart(1, etag1)]
    )
    assert completed.result is not None
    assert completed.result.size == 6 * MiB + 100


def test_uppy_parts_under_5_mib_but_the_last_are_refused(world: World) -> None:
    session = start_uppy_multipart(world, "clip.mov")
    assert session.s3_upload_id is not None
    parts = [ClientPart(n, world.s3.put_part(session.s3_upload_id, n, MiB)) for n in (1, 2)]
    with pytest.raises(PartSizeMismatchError, match="at least 5 MiB"):
        world.service.complete(ALICE, session.upload_id, client_parts=parts)


def test_uppy_upload_over_the_maximum_is_refused_at_complete() -> None:
    world = make_world(policy=replace(POLICY, max_upload_size=10 * MiB))
    session = start_uppy_multipart(world, "big.bin")
    assert session.s3_upload_id is not None
    parts = [ClientPart(n, world.s3.put_part(session.s3_upload_id, n, 6 * MiB)) for n in (1, 2)]
    with pytest.raises(UploadTooLargeError):
        world.service.complete(ALICE, session.upload_id, client_parts=parts)
    assert session.s3_upload_id in world.s3.multipart  # nothing lost


# --- abort and progress -----------------------------------------------------------------------------------


def test_abort_frees_the_parts_and_the_quota_and_is_repeatable(world: World) -> None:
    session = start_multipart(world)
    upload_all_parts(world, session)
    # When aborted (twice)
    aborted = world.service.abort(ALICE, session.upload_id)
    again = world.service.abort(ALICE, session.upload_id)
    # Then S3 dropped the parts, the session is aborted, the file item and the quota are gone
    assert aborted.status is UploadStatus.ABORTED
    assert world.catalog.declared == {}
    assert again == aborted
    assert session.s3_upload_id not in world.s3.multipart
    assert world.quotas.usage(ALICE).bytes == 0
    assert world.quotas.usage(ALICE).files == 0


def test_abort_after_complete_is_a_conflict_and_keeps_the_file(world: World) -> None:
    session = start_multipart(world)
    upload_all_parts(world, session)
    world.service.complete(ALICE, session.upload_id)
    with pytest.raises(UploadCompletedError, match="cannot abort"):
        world.service.abort(ALICE, session.upload_id)
    assert session.key in world.s3.objects
    assert world.quotas.usage(ALICE).files == 1


def test_abort_of_an_upload_s3_already_assembled_records_it_as_completed(world: World) -> None:
    # Given a single PUT that reached S3 but was never completed through the API
    session = world.service.initiate(ALICE, NewUpload("a.txt", 3, "text/plain")).session
    world.s3.put_object(session.key, 3)
    # When aborted / Then 409 completed: the file exists and is recorded, not forgotten
    with pytest.raises(UploadCompletedError):
        world.service.abort(ALICE, session.upload_id)
    current = world.sessions.get(ALICE, session.upload_id)
    assert current is not None
    assert current.status is UploadStatus.COMPLETED
    assert len(world.catalog.records) == 1


def test_progress_counts_what_s3_holds(world: World) -> None:
    session = start_multipart(world)
    assert session.s3_upload_id is not None
    world.s3.put_part(session.s3_upload_id, 1, 8 * MiB)
    progress = world.service.progress(ALICE, session.upload_id)
    assert (progress.bytes_received, progress.parts_received) == (8 * MiB, 1)
    world.service.abort(ALICE, session.upload_id)
    progress = world.service.progress(ALICE, session.upload_id)
    assert (progress.session.status, progress.bytes_received, progress.parts_received) == (
        UploadStatus.ABORTED,
        0,
        0,
    )
