"""UploadSweeper against in-memory fakes: what each expired session becomes, exactly once."""

from datetime import timedelta

import pytest

from fileflow_api.uploads.model import NewUpload, UploadSession, UploadStatus
from fileflow_api.uploads.part_plan import MiB
from fileflow_api.uploads.sweeper import SweepReport, UploadSweeper
from tests.unit.upload_fakes import World, make_world

ALICE = "alice"
GRACE = timedelta(minutes=5)


@pytest.fixture
def world() -> World:
    return make_world()


def sweeper_of(world: World) -> UploadSweeper:
    return UploadSweeper(
        sessions=world.sessions,
        storage=world.s3,
        files=world.catalog,
        usage=world.quotas,
        grace=GRACE,
        clock=world.clock,
    )


def multipart(world: World) -> UploadSession:
    return world.service.initiate(ALICE, NewUpload("a.bin", 20 * MiB, "application/octet-stream")).session


def single(world: World) -> UploadSession:
    return world.service.initiate(ALICE, NewUpload("a.txt", 3, "text/plain")).session


def status_of(world: World, session: UploadSession) -> UploadStatus:
    current = world.sessions.get(ALICE, session.upload_id)
    assert current is not None
    return current.status


def test_abandoned_multipart_upload_is_aborted_marked_expired_and_its_quota_released(world: World) -> None:
    # Given an upload with one part, abandoned past its expiry and the grace period
    session = multipart(world)
    assert session.s3_upload_id is not None
    world.s3.put_part(session.s3_upload_id, 1, 8 * MiB)
    world.clock.advance(timedelta(hours=24) + GRACE + timedelta(seconds=1))
    # When the sweeper runs
    report = sweeper_of(world).sweep()
    # Then S3 dropped the parts, the session is expired, the quota is free
    assert report == SweepReport(expired=1)
    assert world.s3.aborted == [session.s3_upload_id]
    assert status_of(world, session) is UploadStatus.EXPIRED
    assert world.quotas.usage(ALICE).files == 0
    assert world.catalog.declared == {}
    # And a second run finds nothing to do
    assert sweeper_of(world).sweep() == SweepReport()


def test_sessions_within_their_grace_period_are_left_alone(world: World) -> None:
    session = multipart(world)
    world.clock.advance(timedelta(hours=24) + GRACE - timedelta(seconds=1))
    assert sweeper_of(world).sweep() == SweepReport()
    assert status_of(world, session) is UploadStatus.INITIATED
    assert world.s3.aborted == []


def test_an_uploaded_but_never_completed_single_put_is_recorded_as_completed(world: World) -> None:
    # Given a single PUT that reached S3 while the client never called complete
    session = single(world)
    world.s3.put_object(session.key, 3)
    world.clock.advance(timedelta(minutes=15) + GRACE + timedelta(seconds=1))
    # When swept / Then completed, with its file item, and the quota kept for the file
    assert sweeper_of(world).sweep() == SweepReport(completed=1)
    assert status_of(world, session) is UploadStatus.COMPLETED
    assert [record.upload_id for record in world.catalog.records] == [session.upload_id]
    assert world.quotas.usage(ALICE).files == 1
    assert session.file_id in world.catalog.declared


def test_a_session_finished_meanwhile_is_skipped(world: World) -> None:
    # Given the sweeper's query saw a session that the user aborted just before the sweep reached it
    session = multipart(world)
    world.clock.advance(timedelta(hours=25))
    stale = list(world.sessions.expired(before=world.clock()))
    world.service.abort(ALICE, session.upload_id)
    # When swept from the stale view / Then nothing changes
    assert [sweeper_of(world).sweep_one(s) for s in stale] == ["skipped"]
    assert status_of(world, session) is UploadStatus.ABORTED
    assert world.quotas.usage(ALICE).files == 0  # released once, by the abort


def test_one_failing_session_does_not_stop_the_others(world: World) -> None:
    # Given two abandoned uploads, the first of which S3 fails to abort
    first, second = multipart(world), multipart(world)
    world.clock.advance(timedelta(hours=25))
    abort = world.s3.abort_multipart_upload

    def flaky_abort(key: str, s3_upload_id: str) -> None:
        if s3_upload_id == first.s3_upload_id:
            raise RuntimeError("S3 hiccup")
        abort(key, s3_upload_id)

    world.s3.abort_multipart_upload = flaky_abort  # type: ignore[method-assign]
    # When swept / Then the second is expired, the first stays initiated for the next run
    assert sweeper_of(world).sweep() == SweepReport(expired=1, failed=1)
    assert status_of(world, first) is UploadStatus.INITIATED
    assert status_of(world, second) is UploadStatus.EXPIRED


def test_the_sweep_stops_before_the_invocation_runs_out_of_time(world: World) -> None:
    multipart(world)
    world.clock.advance(timedelta(hours=25))
    report = sweeper_of(world).sweep(time_left=lambda: timedelta(seconds=5))
    assert report == SweepReport(stopped_early=True)
