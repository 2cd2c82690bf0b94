"""UploadSweeper against in-memory fakes: what each expired session becomes, exactly once, and the
`upload.expired` event each expiry queues, never lost."""

from datetime import timedelta

import pytest
from botocore.exceptions import ClientError

from fileflow_api.uploads.model import NewUpload, UploadSession, UploadStatus
from fileflow_api.uploads.part_plan import MiB
from fileflow_api.uploads.sweeper import SweepReport, UploadSweeper
from fileflow_common.clock import to_timestamp
from fileflow_common.webhooks.events import EventData, EventMessage, EventType, event_id
from tests.unit.stage_fakes import FakeWebhookEvents
from tests.unit.upload_fakes import World, make_world

ALICE = "alice"
GRACE = timedelta(minutes=5)


@pytest.fixture
def world() -> World:
    return make_world()


@pytest.fixture
def webhooks() -> FakeWebhookEvents:
    return FakeWebhookEvents()


def sweeper_of(world: World, webhooks: FakeWebhookEvents | None = None) -> UploadSweeper:
    return UploadSweeper(
        sessions=world.sessions,
        storage=world.s3,
        files=world.catalog,
        usage=world.quotas,
        webhooks=webhooks or FakeWebhookEvents(),
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
    assert report == SweepReport(expired=1, announced=1)
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
    assert sweeper_of(world).sweep() == SweepReport(expired=1, failed=1, announced=1)
    assert status_of(world, first) is UploadStatus.INITIATED
    assert status_of(world, second) is UploadStatus.EXPIRED


def test_the_sweep_stops_before_the_invocation_runs_out_of_time(world: World) -> None:
    multipart(world)
    world.clock.advance(timedelta(hours=25))
    report = sweeper_of(world).sweep(time_left=lambda: timedelta(seconds=5))
    assert report == SweepReport(stopped_early=True)


# --- upload.expired ---------------------------------------------------------------------------------------


def test_each_expired_session_queues_one_upload_expired_event(
    world: World, webhooks: FakeWebhookEvents
) -> None:
    # Given two abandoned uploads and one that reached S3 (it completes, it does not expire)
    first, second, landed = multipart(world), single(world), single(world)
    world.s3.put_object(landed.key, 3)
    world.clock.advance(timedelta(hours=25))
    # When swept
    assert sweeper_of(world, webhooks).sweep() == SweepReport(expired=2, completed=1, announced=2)
    # Then exactly one upload.expired per expired session, identified by its upload
    swept_at = to_timestamp(world.clock())
    assert [EventMessage.model_validate_json(body) for body in webhooks.bodies] == [
        EventMessage(
            event_id=event_id(ALICE, "upload.expired", session.upload_id),
            user_id=ALICE,
            type=EventType.UPLOAD_EXPIRED,
            occurred_at=swept_at,
            data=EventData(upload_id=session.upload_id, file_id=session.file_id, status="expired"),
        )
        for session in (second, first)  # oldest expiry first: a single PUT's URL expires in 15 minutes
    ]
    # And a second sweep sends nothing more
    assert sweeper_of(world, webhooks).sweep() == SweepReport()
    assert len(webhooks.bodies) == 2


def test_an_uploads_callback_url_hears_of_its_expiry(world: World, webhooks: FakeWebhookEvents) -> None:
    # Given an abandoned upload with a one-off callback target (its user has an endpoint)
    world.endpoints.enabled_users.add(ALICE)
    hook = "https://hooks.example.com/fileflow"
    session = world.service.initiate(ALICE, NewUpload("a.txt", 3, "text/plain", callback_url=hook)).session
    world.clock.advance(timedelta(hours=25))
    # When swept / Then its upload.expired carries the callback, as the endpoints' events do
    sweeper_of(world, webhooks).sweep()
    (event,) = [EventMessage.model_validate_json(body) for body in webhooks.bodies]
    assert (event.type, event.data.upload_id, event.callback_url) == (
        EventType.UPLOAD_EXPIRED,
        session.upload_id,
        hook,
    )


def test_an_event_that_could_not_be_queued_is_sent_by_the_next_sweep_without_expiring_twice(
    world: World, webhooks: FakeWebhookEvents
) -> None:
    # Given an abandoned upload, swept while the webhook queue fails
    session = multipart(world)
    world.clock.advance(timedelta(hours=25))
    webhooks.fail = ClientError({"Error": {"Code": "ServiceUnavailable"}}, "SendMessage")
    # When swept / Then the session is expired (once: quota released once) but counted as failed
    assert sweeper_of(world, webhooks).sweep() == SweepReport(expired=1, failed=1)
    assert status_of(world, session) is UploadStatus.EXPIRED
    assert world.quotas.usage(ALICE).files == 0
    assert webhooks.bodies == []
    # When the queue is back and the next sweep runs
    webhooks.fail = None
    world.quotas.reserve(ALICE, size=1)  # another upload's reservation, which must stay
    assert sweeper_of(world, webhooks).sweep() == SweepReport(announced=1)
    # Then the event went out, with the id a first send would have had, and nothing was expired again
    [message] = webhooks.sent
    assert message.event_id == event_id(ALICE, "upload.expired", session.upload_id)
    assert (message.data.upload_id, message.data.status) == (session.upload_id, "expired")
    assert world.quotas.usage(ALICE).files == 1
    assert world.s3.aborted == [session.s3_upload_id]
    # And a third sweep has nothing left to do
    assert sweeper_of(world, webhooks).sweep() == SweepReport()
    assert len(webhooks.bodies) == 1


def test_a_skipped_session_queues_no_event(world: World, webhooks: FakeWebhookEvents) -> None:
    session = multipart(world)
    world.clock.advance(timedelta(hours=25))
    stale = list(world.sessions.expired(before=world.clock()))
    world.service.abort(ALICE, session.upload_id)
    assert [sweeper_of(world, webhooks).sweep_one(s) for s in stale] == ["skipped"]
    assert webhooks.bodies == []
