"""The sweeper function in-process against moto, and the file item both writers converge on."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from fileflow_api.uploads.model import CompletedObject, DeclaredSize, UploadMode, UploadSession, UploadStatus
from fileflow_api.uploads.part_plan import MiB, PartPlan
from fileflow_api.uploads.sweeper_handler import SweepIncompleteError, review_backlog, sweeper
from fileflow_api.uploads.sweeper_handler import lambda_handler as sweeper_handler
from fileflow_api.uploads.table import DynamoFileCatalog
from fileflow_common.clock import to_timestamp
from fileflow_common.files import FileStatus
from fileflow_common.keys import UploadKey
from fileflow_common.reviews import ReviewStatus, index_attributes, review_id_for, review_item_key
from fileflow_common.webhooks.events import EventData, EventMessage, EventType, event_id
from fileflow_intake.files import DynamoIntakeRecords
from fileflow_intake.stored_objects import StoredObject
from fileflow_stages._runtime.content import ContentKind
from fileflow_stages._runtime.records import DynamoRecords
from fileflow_stages._runtime.state import FileProcessingState
from tests.events import load_event
from tests.integration.api_requests import ALICE, call
from tests.integration.conftest import BUCKET_NAME, QUEUE_NAME, Cloud, FakeLambdaContext
from tests.integration.webhook_queue import WEBHOOK_QUEUE_NAME, create_webhook_queue, queued_events


@pytest.fixture
def api(cloud: Cloud, lambda_context: FakeLambdaContext) -> Iterator[FakeLambdaContext]:
    sweeper.cache_clear()
    review_backlog.cache_clear()
    yield lambda_context
    sweeper.cache_clear()
    review_backlog.cache_clear()


def force_expiry(cloud: Cloud, upload_id: str, *, ago: timedelta) -> None:
    """What the e2e test does too: move the session's expiry (and its index entry) into the past."""
    past = to_timestamp(datetime.now(UTC) - ago)
    cloud.table.update_item(
        Key={"pk": f"USER#{ALICE}", "sk": f"UPLOAD#{upload_id}"},
        UpdateExpression="SET session_expires_at = :past, gsi1sk = :past",
        ExpressionAttributeValues={":past": past},
    )


def test_scheduled_sweep_aborts_abandoned_uploads_and_marks_them_expired(
    api: FakeLambdaContext, cloud: Cloud
) -> None:
    # Given an abandoned multipart upload past its expiry, and a fresh one
    body = {"filename": "a.bin", "size": 20 * MiB, "content_type": "application/octet-stream"}
    abandoned = call(api, "POST", "/v1/uploads", body=body).body
    fresh = call(api, "POST", "/v1/uploads", body=body).body
    force_expiry(cloud, abandoned["upload_id"], ago=timedelta(hours=1))
    # When EventBridge's scheduled event invokes the sweeper
    report: dict[str, Any] = sweeper_handler(load_event("scheduled_upload_sweep"), api)
    # Then only the abandoned one was aborted in S3 and marked expired
    assert report == {
        "expired": 1,
        "completed": 0,
        "skipped": 0,
        "failed": 0,
        "announced": 1,
        "stopped_early": False,
        "reviews": {"open": 0, "oldest_age_seconds": 0.0},
    }
    uploads = cloud.s3.list_multipart_uploads(Bucket=BUCKET_NAME).get("Uploads", [])
    assert [u["Key"] for u in uploads] == [fresh["key"]]
    assert call(api, "GET", f"/v1/uploads/{abandoned['upload_id']}").body["status"] == "expired"
    assert call(api, "GET", f"/v1/uploads/{fresh['upload_id']}").body["status"] == "initiated"
    # And the expired one left the index: the next sweep has nothing to do
    assert sweeper_handler(load_event("scheduled_upload_sweep"), api)["expired"] == 0
    # And completing it now is a precise 409
    late = call(api, "POST", f"/v1/uploads/{abandoned['upload_id']}/complete")
    assert (late.status, late.error_code) == (409, "UploadExpired")


def test_each_expired_session_queues_one_upload_expired_event(
    api: FakeLambdaContext, cloud: Cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the webhook queue, two abandoned uploads past their expiry and a fresh one
    queue_url = create_webhook_queue(cloud, monkeypatch)
    body = {"filename": "a.txt", "size": 3, "content_type": "text/plain"}
    abandoned = [call(api, "POST", "/v1/uploads", body=body).body for _ in range(2)]
    call(api, "POST", "/v1/uploads", body=body)
    for ago, upload in zip((timedelta(hours=2), timedelta(hours=1)), abandoned, strict=True):
        force_expiry(cloud, upload["upload_id"], ago=ago)
    # When the sweeper runs twice
    assert sweeper_handler(load_event("scheduled_upload_sweep"), api)["announced"] == 2
    assert sweeper_handler(load_event("scheduled_upload_sweep"), api)["announced"] == 0
    # Then the queue holds one upload.expired per expired session, oldest expiry first
    events = queued_events(cloud, queue_url)
    assert events == [
        EventMessage(
            event_id=event_id(ALICE, "upload.expired", upload["upload_id"]),
            user_id=ALICE,
            type=EventType.UPLOAD_EXPIRED,
            occurred_at=event.occurred_at,
            data=EventData(upload_id=upload["upload_id"], file_id=upload["file_id"], status="expired"),
        )
        for upload, event in zip(abandoned, events, strict=True)
    ]


def test_an_expiry_whose_event_was_not_queued_is_announced_by_the_next_sweep(
    api: FakeLambdaContext, cloud: Cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an abandoned upload, and a webhook queue that does not exist (yet)
    body = {"filename": "a.bin", "size": 20 * MiB, "content_type": "application/octet-stream"}
    abandoned = call(api, "POST", "/v1/uploads", body=body).body
    force_expiry(cloud, abandoned["upload_id"], ago=timedelta(hours=1))
    missing = cloud.sqs.get_queue_url(QueueName=QUEUE_NAME)["QueueUrl"].replace(
        QUEUE_NAME, WEBHOOK_QUEUE_NAME
    )
    monkeypatch.setenv("WEBHOOK_QUEUE_URL", missing)
    # When swept / Then the invocation fails (its alarm), though the session did expire
    with pytest.raises(SweepIncompleteError):
        sweeper_handler(load_event("scheduled_upload_sweep"), api)
    assert call(api, "GET", f"/v1/uploads/{abandoned['upload_id']}").body["status"] == "expired"
    # When the queue exists and the schedule runs again
    queue_url = create_webhook_queue(cloud, monkeypatch)
    sweeper.cache_clear()
    report = sweeper_handler(load_event("scheduled_upload_sweep"), api)
    # Then the event is sent, and nothing was expired (or aborted) twice
    assert (report["expired"], report["announced"], report["failed"]) == (0, 1, 0)
    [event] = queued_events(cloud, queue_url)
    assert (event.type, event.data.upload_id) == (EventType.UPLOAD_EXPIRED, abandoned["upload_id"])
    # And the session left the index for good
    item = cloud.table.get_item(Key={"pk": f"USER#{ALICE}", "sk": f"UPLOAD#{abandoned['upload_id']}"})["Item"]
    assert ("gsi1pk" in item, item["status"]) == (False, "expired")
    assert sweeper_handler(load_event("scheduled_upload_sweep"), api)["announced"] == 0


def test_session_items_carry_a_ttl_a_week_after_expiry(api: FakeLambdaContext, cloud: Cloud) -> None:
    upload = call(
        api, "POST", "/v1/uploads", body={"filename": "a", "size": 1, "content_type": "text/plain"}
    ).body
    item = cloud.table.get_item(Key={"pk": f"USER#{ALICE}", "sk": f"UPLOAD#{upload['upload_id']}"})["Item"]
    expiry = datetime.fromisoformat(upload["expires_at"])
    assert int(str(item["expires_at"])) == int((expiry + timedelta(days=7)).timestamp())
    assert (item["gsi1pk"], item["gsi1sk"]) == ("UPLOADS#initiated", upload["expires_at"])


def completed_session(cloud: Cloud) -> tuple[UploadSession, UploadSession]:
    """A session as initiate declares it, and the same session completed."""
    now = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
    session = UploadSession(
        user_id=ALICE, upload_id="up-1", file_id=FILE_ID, key=f"uploads/{ALICE}/{FILE_ID}",
        mode=UploadMode.SINGLE, filename="Q1 report.pdf", content_type="application/pdf",
        size=DeclaredSize(5), plan=PartPlan(size=5, part_size=5, part_count=1),
        status=UploadStatus.INITIATED, created_at=now, expires_at=now, sha256="ab" * 32,
    )  # fmt: skip
    return session, session.finished(UploadStatus.COMPLETED, now, CompletedObject(size=5, etag="e7d81"))


def processor_stored(cloud: Cloud) -> None:
    """The pipeline's two writes: the starter's S3 facts of ObjectCreated, then a stage's status."""
    now = datetime(2026, 5, 4, 10, 0, 1, tzinfo=UTC)
    upload = UploadKey(ALICE, FILE_ID)
    stored = StoredObject(
        upload=upload, bucket=BUCKET_NAME, size=5, etag="e7d81", version_id="v1",
        sequencer="0" * 63 + "1", stored_at=now,
    )  # fmt: skip
    DynamoIntakeRecords(cloud.table).record_stored_object(stored, updated_at=now)
    state = FileProcessingState(
        status=FileStatus.PROCESSED, job_id="job-1", detected_type="application/pdf",
        detected_kind=ContentKind.DOCUMENT, at=now,
    )  # fmt: skip
    assert DynamoRecords(cloud.table).record_processing(upload, stored.version, state)


FILE_ID = "file-0042"


@pytest.mark.parametrize("processor_first", [True, False], ids=["processor before complete", "after"])
def test_upload_metadata_and_the_processors_records_converge(cloud: Cloud, processor_first: bool) -> None:
    # Given the file item declared at initiate (what the processor reads as the client's claims)
    catalog = DynamoFileCatalog(cloud.table)
    declared, completed = completed_session(cloud)
    catalog.declare(declared, at=declared.created_at)
    assert DynamoRecords(cloud.table).declared(UploadKey(ALICE, FILE_ID)).filename == "Q1 report.pdf"
    # When the processor and the complete write, in either order
    writes: list[Callable[[], None]] = [
        lambda: processor_stored(cloud),
        lambda: catalog.record_upload(completed, at=completed.created_at),
    ]
    for write in writes if processor_first else reversed(writes):
        write()
    # Then the item holds both writers' facts, and the processor's status is never undone
    item = cloud.table.get_item(Key={"pk": f"USER#{ALICE}", "sk": f"FILE#{FILE_ID}"})["Item"]
    assert item["status"] == "processed"
    assert (item["filename"], item["content_type"], item["sha256"]) == (
        "Q1 report.pdf",
        "application/pdf",
        "ab" * 32,
    )
    assert (item["size"], item["etag"], item["version_id"], item["upload_id"]) == (5, "e7d81", "v1", "up-1")
    assert item["detected_type"] == "application/pdf"
    # And an abort or expiry arriving late never deletes an item that has an object
    catalog.forget(declared)
    assert "Item" in cloud.table.get_item(Key={"pk": f"USER#{ALICE}", "sk": f"FILE#{FILE_ID}"})


def test_file_item_goes_uploading_then_uploaded_and_an_abandoned_one_is_forgotten(cloud: Cloud) -> None:
    catalog = DynamoFileCatalog(cloud.table)
    key = {"pk": f"USER#{ALICE}", "sk": f"FILE#{FILE_ID}"}
    declared, completed = completed_session(cloud)
    # When declared / Then "uploading" with the client's metadata
    catalog.declare(declared, at=declared.created_at)
    assert cloud.table.get_item(Key=key)["Item"]["status"] == "uploading"
    # When completed before any processing / Then "uploaded"
    catalog.record_upload(completed, at=completed.created_at)
    assert cloud.table.get_item(Key=key)["Item"]["status"] == "uploaded"
    # When another upload is declared, then abandoned / Then its item is gone
    other = replace(declared, file_id="file-0043", key=f"uploads/{ALICE}/file-0043")
    catalog.declare(other, at=other.created_at)
    catalog.forget(other)
    assert "Item" not in cloud.table.get_item(Key={"pk": f"USER#{ALICE}", "sk": "FILE#file-0043"})


def _review(
    cloud: Cloud, name: str, status: ReviewStatus, *, created: datetime, entered: datetime | None = None
) -> None:
    """A review item as the review stage writes it (only what the backlog reads, plus its key); it
    entered its status when it was created unless `entered` says otherwise."""
    review_id = review_id_for(f"job-{name}")
    cloud.table.put_item(
        Item={
            **review_item_key(review_id),
            **index_attributes(status, to_timestamp(entered or created), review_id),
            "entity": "review",
            "review_id": review_id,
            "created_at": to_timestamp(created),
        }
    )


def test_each_sweep_measures_the_review_backlog_and_its_oldest_review(
    api: FakeLambdaContext, cloud: Cloud, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a pending review opened 2 hours ago, one escalated (opened 30 hours ago, escalated 6 hours
    # ago), one just opened, and a decided and an expired one, which wait for nobody
    now = datetime.now(UTC)
    _review(cloud, "r-pending", ReviewStatus.PENDING, created=now - timedelta(hours=2))
    _review(cloud, "r-new", ReviewStatus.PENDING, created=now)
    _review(
        cloud,
        "r-escalated",
        ReviewStatus.ESCALATED,
        created=now - timedelta(hours=30),
        entered=now - timedelta(hours=6),
    )
    for closed in (ReviewStatus.DECIDED, ReviewStatus.EXPIRED):
        _review(
            cloud, f"r-{closed}", closed, created=now - timedelta(days=9), entered=now - timedelta(days=8)
        )
    capsys.readouterr()
    # When the sweeper runs
    report = sweeper_handler(load_event("scheduled_upload_sweep"), api)
    # Then three reviews are open, and the oldest (the escalated one) has waited 30 hours
    assert report["reviews"]["open"] == 3
    assert 30 * 3600 <= report["reviews"]["oldest_age_seconds"] < 30 * 3600 + 60
    # And both are metrics of the sweeper's EMF record
    [record] = [
        json.loads(line)
        for line in capsys.readouterr().out.splitlines()
        if line.startswith('{"_aws"') and "ReviewBacklog" in line
    ]
    assert record["ReviewBacklog"] == [3.0]
    assert record["ReviewOldestAge"] == [report["reviews"]["oldest_age_seconds"]]
    units = {m["Name"]: m["Unit"] for m in record["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert (units["ReviewBacklog"], units["ReviewOldestAge"]) == ("Count", "Seconds")
