"""The whole-file SHA-256 declared at complete instead of initiate (UploadService.complete's `sha256`)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from fileflow_api.uploads.errors import (
    InvalidChecksumError,
    MissingPartsError,
    Sha256MismatchError,
    Sha256TooLateError,
)
from fileflow_api.uploads.model import CompletedObject, NewUpload, StoredPart, UploadSession, UploadStatus
from tests.unit.test_upload_service import ALICE, start_multipart, upload_all_parts
from tests.unit.upload_fakes import World, make_world

DIGEST = "ab" * 32
OTHER = "cd" * 32


@pytest.fixture
def world() -> World:
    return make_world()


def test_a_sha256_declared_at_complete_is_stored_before_s3_completes_the_object(world: World) -> None:
    # Given a multipart upload initiated without a sha256, all its parts in S3
    session = start_multipart(world)
    upload_all_parts(world, session)
    seen_by_s3_complete: list[str | None] = []
    complete_in_s3 = world.s3.complete_multipart_upload

    def spying_complete(key: str, s3_upload_id: str, parts: Sequence[StoredPart]) -> CompletedObject:
        # what the processor would read once the object exists: the file item's and the session's sha256
        stored = world.sessions.get(ALICE, session.upload_id)
        assert stored is not None
        seen_by_s3_complete.extend([world.catalog.declared[session.file_id].sha256, stored.sha256])
        return complete_in_s3(key, s3_upload_id, parts)

    world.s3.complete_multipart_upload = spying_complete  # type: ignore[method-assign]
    # When complete declares the file's SHA-256 (upper case hex is normalised)
    completed = world.service.complete(ALICE, session.upload_id, sha256=DIGEST.upper())
    # Then the file item and the session held it before S3 completed the object
    assert seen_by_s3_complete == [DIGEST, DIGEST]
    # And the completed session and the file item's record carry it, as an initiate-declared one
    assert completed.sha256 == DIGEST
    assert [record.sha256 for record in world.catalog.records] == [DIGEST]
    # And repeating the complete with it answers the same
    assert world.service.complete(ALICE, session.upload_id, sha256=DIGEST) == completed


def test_the_same_sha256_at_initiate_and_complete_is_accepted(world: World) -> None:
    session = start_multipart(world, sha256=DIGEST)
    upload_all_parts(world, session)
    assert world.service.complete(ALICE, session.upload_id, sha256=DIGEST).sha256 == DIGEST


def test_another_sha256_at_complete_than_at_initiate_is_a_mismatch_and_changes_nothing(world: World) -> None:
    # Given an upload that declared its SHA-256 at initiate
    session = start_multipart(world, sha256=DIGEST)
    upload_all_parts(world, session)
    # When complete declares another one
    with pytest.raises(Sha256MismatchError, match=f"sha256 {OTHER} is not the {DIGEST}"):
        world.service.complete(ALICE, session.upload_id, sha256=OTHER)
    # Then nothing was completed and the declared one stands
    assert world.s3.completed == []
    assert world.sessions.get(ALICE, session.upload_id) == session


def test_a_completed_upload_refuses_another_sha256(world: World) -> None:
    session = start_multipart(world)
    upload_all_parts(world, session)
    world.service.complete(ALICE, session.upload_id, sha256=DIGEST)
    with pytest.raises(Sha256MismatchError):
        world.service.complete(ALICE, session.upload_id, sha256=OTHER)


def test_a_sha256_after_an_upload_was_completed_without_one_is_too_late(world: World) -> None:
    session = start_multipart(world)
    upload_all_parts(world, session)
    world.service.complete(ALICE, session.upload_id)
    with pytest.raises(Sha256TooLateError, match="completed without a sha256"):
        world.service.complete(ALICE, session.upload_id, sha256=DIGEST)


def test_a_single_put_declares_its_sha256_at_initiate_only(world: World) -> None:
    # Given a single-PUT upload without a declared sha256, its object stored
    session = world.service.initiate(ALICE, NewUpload("a.txt", 3, "text/plain")).session
    world.s3.put_object(session.key, 3)
    # When complete declares one
    with pytest.raises(Sha256TooLateError, match="single PUT"):
        world.service.complete(ALICE, session.upload_id, sha256=DIGEST)
    # Then the upload is not completed
    current = world.sessions.get(ALICE, session.upload_id)
    assert current is not None
    assert current.status is UploadStatus.INITIATED


@pytest.mark.parametrize("bad", ["ab" * 31, "zz" * 32, "ab" * 33, ""])
def test_a_sha256_that_is_not_64_hex_digits_is_refused(world: World, bad: str) -> None:
    session = start_multipart(world)
    upload_all_parts(world, session)
    with pytest.raises(InvalidChecksumError, match="sha256 must be the 64 hex digits"):
        world.service.complete(ALICE, session.upload_id, sha256=bad)
    assert world.s3.completed == []


def test_a_refused_complete_does_not_store_the_sha256(world: World) -> None:
    # Given an upload whose parts are not all in S3
    session = start_multipart(world)
    # When complete declares a sha256
    with pytest.raises(MissingPartsError):
        world.service.complete(ALICE, session.upload_id, sha256=DIGEST)
    # Then it was not stored: a later complete may declare another
    stored: UploadSession | None = world.sessions.get(ALICE, session.upload_id)
    assert stored is not None
    assert stored.sha256 is None
    assert world.catalog.declared[session.file_id].sha256 is None


def test_a_concurrent_complete_that_declared_another_sha256_wins(world: World) -> None:
    # Given a complete that read the session before another complete declared OTHER
    session = start_multipart(world)
    upload_all_parts(world, session)
    load = world.sessions.get

    def stale_then_current(user_id: str, upload_id: str) -> UploadSession | None:
        world.sessions.get = load  # type: ignore[method-assign]
        world.sessions.declare_sha256(session, OTHER, at=session.created_at)
        return session  # as read before the other complete's write

    world.sessions.get = stale_then_current  # type: ignore[method-assign]
    # When this one declares DIGEST
    with pytest.raises(Sha256MismatchError):
        world.service.complete(ALICE, session.upload_id, sha256=DIGEST)
    # Then S3 did not complete it on this one's word
    assert world.s3.completed == []
