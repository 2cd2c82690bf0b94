import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from fileflow_common.audit import AuditAction, AuditEvent
from fileflow_common.keys import UploadKey
from fileflow_intake.notifications import InvalidNotificationError, S3EventNotification, parse_notification
from fileflow_intake.stored_objects import (
    SEQUENCER_WIDTH,
    FileUpload,
    ObjectFacts,
    Outcome,
    Recorded,
    RecordedObject,
    SessionStatus,
    StoredObject,
    StoredObjectRecorder,
)
from tests.conftest import LogReader
from tests.events import load_event, s3_notification

BUCKET = "fileflow-uploads-example"
NOW = datetime(2026, 5, 4, 10, 20, tzinfo=UTC)


SAMPLE_UPLOAD = UploadKey("user-alice", "file-0001")
SAMPLE_VERSION = "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY"
SAMPLE_ETAG = "b6d81b360a5672d80c27430f39153e2c"
# What the upload API declared for a file whose upload is still in flight.
IN_FLIGHT = FileUpload(upload_id="upload-0001", status=SessionStatus.INITIATED)


class FakeFileRepository:
    """In-memory FileRepository: keeps the latest event per file, like the conditional write; a file
    in `deleted` has a tombstone, `correlation_ids` are what the upload API wrote on the items, and
    `uploads` the upload sessions the items name (every file has an initiated one unless set)."""

    def __init__(self) -> None:
        self.items: dict[UploadKey, StoredObject] = {}
        self.updated_at: dict[UploadKey, datetime] = {}
        self.deleted: set[UploadKey] = set()
        self.correlation_ids: dict[UploadKey, str] = {}
        self.uploads: dict[UploadKey, FileUpload] = {}

    def upload_of(self, upload: UploadKey) -> FileUpload:
        if upload in self.deleted:
            return FileUpload(file_deleted=True)
        return self.uploads.get(upload, IN_FLIGHT)

    def record_stored_object(self, stored: StoredObject, *, updated_at: datetime) -> RecordedObject:
        if stored.upload in self.deleted:
            return RecordedObject(Recorded.DELETED)
        correlation_id = self.correlation_ids.get(stored.upload)
        current = self.items.get(stored.upload)
        if current is not None and current.sequencer >= stored.sequencer:
            same = current.version == stored.version
            return RecordedObject(Recorded.SAME if same else Recorded.SUPERSEDED, correlation_id)
        self.items[stored.upload] = stored
        self.updated_at[stored.upload] = updated_at
        return RecordedObject(Recorded.NEW, correlation_id)


@pytest.fixture
def repository() -> FakeFileRepository:
    return FakeFileRepository()


@pytest.fixture
def processed() -> list[tuple[StoredObject, str | None]]:
    """What was handed to the workflow's start: each stored object, with the upload's correlation id."""
    return []


@pytest.fixture
def discarded() -> list[StoredObject]:
    return []


class FakeAuditLog:
    def __init__(self) -> None:
        self.events: dict[str, AuditEvent] = {}  # by event id: a repeated append stores nothing new

    def append(self, event: AuditEvent) -> None:
        self.events.setdefault(event.event_id, event)


@pytest.fixture
def audit() -> FakeAuditLog:
    return FakeAuditLog()


@pytest.fixture
def recorder(
    repository: FakeFileRepository,
    processed: list[tuple[StoredObject, str | None]],
    discarded: list[StoredObject],
    audit: FakeAuditLog,
) -> StoredObjectRecorder:
    return StoredObjectRecorder(
        repository,
        bucket_name=BUCKET,
        audit=audit,
        process=lambda stored, correlation_id, priority: processed.append((stored, correlation_id)),
        discard=discarded.append,
        clock=lambda: NOW,
    )


def sample_notification() -> dict[str, Any]:
    """The S3 notification inside events/starter/s3_object_created.json."""
    return s3_notification()


def notification_body(**object_fields: Any) -> str:
    return json.dumps(s3_notification(**object_fields))


def test_upload_is_recorded_with_its_s3_metadata(
    recorder: StoredObjectRecorder, repository: FakeFileRepository, captured_logs: LogReader
) -> None:
    # Given the sample ObjectCreated notification for uploads/user-alice/file-0001
    body = json.dumps(sample_notification())
    # When it is handled
    outcomes = recorder.handle_message(body)
    # Then the file is recorded with the object's metadata
    assert outcomes == [Outcome.STORED]
    upload = UploadKey("user-alice", "file-0001")
    assert repository.items[upload] == StoredObject(
        upload=upload,
        bucket=BUCKET,
        size=1048576,
        etag="b6d81b360a5672d80c27430f39153e2c",
        version_id="3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY",
        sequencer="0065D3E5A8C9F1B2E4".rjust(SEQUENCER_WIDTH, "0"),
        stored_at=datetime(2026, 5, 4, 10, 15, 30, 123000, tzinfo=UTC),
    )
    assert repository.updated_at[upload] == NOW
    # And the "object stored" line the e2e test searches for is logged
    stored_lines = [line for line in captured_logs() if line["message"] == "object stored"]
    assert len(stored_lines) == 1
    assert stored_lines[0]["key"] == "uploads/user-alice/file-0001"
    assert (stored_lines[0]["user_id"], stored_lines[0]["file_id"]) == ("user-alice", "file-0001")


def test_already_recorded_event_is_not_reported_as_stored_but_is_started_again(
    recorder: StoredObjectRecorder, captured_logs: LogReader, processed: list[tuple[StoredObject, str | None]]
) -> None:
    # Given an event that was already recorded
    body = json.dumps(sample_notification())
    recorder.handle_message(body)
    # When it is delivered again
    outcomes = recorder.handle_message(body)
    # Then nothing is stored a second time
    assert outcomes == [Outcome.ALREADY_RECORDED]
    assert [line["message"] for line in captured_logs()].count("object stored") == 1
    # But it is handed to the start again (idempotent there; a crash may have cut the first start short)
    assert len(processed) == 2
    assert processed[0][0].version == processed[1][0].version


def test_the_uploads_correlation_id_goes_with_the_stored_object(
    recorder: StoredObjectRecorder,
    repository: FakeFileRepository,
    processed: list[tuple[StoredObject, str | None]],
) -> None:
    # Given the upload API wrote the upload's correlation id on the file item
    repository.correlation_ids[UploadKey("user-alice", "file-0001")] = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"
    # When its object's event is handled, then delivered again
    body = json.dumps(sample_notification())
    recorder.handle_message(body)
    recorder.handle_message(body)
    # Then both starts carry it (the workflow's events and logs share it)
    assert [correlation_id for _, correlation_id in processed] == ["c6af9ac6-7b61-11e6-9a41-93e8deadbeef"] * 2


def test_the_object_of_a_deleted_file_is_discarded_and_never_started(
    recorder: StoredObjectRecorder,
    repository: FakeFileRepository,
    processed: list[tuple[StoredObject, str | None]],
    discarded: list[StoredObject],
) -> None:
    # Given a deleted file (its tombstone) / When an object for it is announced (a late presigned PUT)
    repository.deleted.add(UploadKey("user-alice", "file-0001"))
    outcomes = recorder.handle_message(json.dumps(sample_notification()))
    # Then the object is discarded and nothing starts
    assert outcomes == [Outcome.FILE_DELETED]
    assert [stored.version_id for stored in discarded] == ["3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY"]
    assert processed == []


def test_an_older_version_arriving_late_is_not_processed(
    recorder: StoredObjectRecorder, processed: list[tuple[StoredObject, str | None]]
) -> None:
    # Given a newer version of the key was recorded (and processed) first
    recorder.handle_message(notification_body(sequencer="FF", eTag="newer"))
    # When the event of the older version arrives
    outcomes = recorder.handle_message(notification_body(sequencer="0A", eTag="older"))
    # Then it is acknowledged but never processed: its derivatives would overwrite the newer ones
    assert outcomes == [Outcome.SUPERSEDED]
    assert [stored.etag for stored, _ in processed] == ["newer"]


def test_quoted_etags_are_unquoted(recorder: StoredObjectRecorder, repository: FakeFileRepository) -> None:
    recorder.handle_message(notification_body(eTag='"abc-2"'))
    assert repository.items[UploadKey("user-alice", "file-0001")].etag == "abc-2"


def test_sequencers_of_different_lengths_compare_in_event_order(
    recorder: StoredObjectRecorder, repository: FakeFileRepository
) -> None:
    # Given an event with sequencer FF and a later one with the longer sequencer 100
    recorder.handle_message(notification_body(sequencer="FF", eTag="first"))
    # When the later one arrives
    outcomes = recorder.handle_message(notification_body(sequencer="100", eTag="second"))
    # Then it wins, because sequencers are compared left-padded (as numbers), not as raw strings
    assert outcomes == [Outcome.STORED]
    assert repository.items[UploadKey("user-alice", "file-0001")].etag == "second"


def test_url_encoded_keys_are_decoded() -> None:
    # Given S3's form encoding of "uploads/a b/c+d" / When parsed / Then the key is decoded
    notification = parse_notification(notification_body(key="uploads/a+b/c%2Bd"))
    assert isinstance(notification, S3EventNotification)
    assert notification.Records[0].s3.object.key == "uploads/a b/c+d"


def test_s3_test_event_is_skipped(
    recorder: StoredObjectRecorder, repository: FakeFileRepository, captured_logs: LogReader
) -> None:
    # Given the s3:TestEvent S3 sends when the notification is configured
    body = load_event("starter/s3_test_event")["Records"][0]["body"]
    # When handled / Then skipped with a log line, nothing recorded
    assert recorder.handle_message(body) == [Outcome.SKIPPED]
    assert repository.items == {}
    assert "s3 test event skipped" in [line["message"] for line in captured_logs()]


@pytest.mark.parametrize(
    "key",
    [
        pytest.param("derived/user-alice/file-0001/thumb.jpg", id="derived"),
        pytest.param("tmp/user-alice/file-0001", id="foreign-prefix"),
        pytest.param("uploads/user+alice/file-0001", id="decoded-space-in-id"),
        pytest.param("uploads/user-alice/file-0001/extra", id="too-deep"),
    ],
)
def test_objects_outside_uploads_are_skipped_with_a_warning(
    recorder: StoredObjectRecorder, repository: FakeFileRepository, captured_logs: LogReader, key: str
) -> None:
    # Given a notification for a key outside uploads/{user_id}/{file_id}
    # When handled
    outcomes = recorder.handle_message(notification_body(key=key))
    # Then it is skipped (not a failure: it must not be retried) and a warning is logged
    assert outcomes == [Outcome.SKIPPED]
    assert repository.items == {}
    [warning] = [line for line in captured_logs() if line["level"] == "WARNING"]
    assert warning["message"] == "object outside uploads/ skipped"


def test_other_buckets_are_skipped(recorder: StoredObjectRecorder, repository: FakeFileRepository) -> None:
    notification = sample_notification()
    notification["Records"][0]["s3"]["bucket"]["name"] = "someone-elses-bucket"
    assert recorder.handle_message(json.dumps(notification)) == [Outcome.SKIPPED]
    assert repository.items == {}


def test_non_created_events_are_skipped(
    recorder: StoredObjectRecorder, repository: FakeFileRepository
) -> None:
    notification = sample_notification()
    notification["Records"][0]["eventName"] = "ObjectRemoved:Delete"
    assert recorder.handle_message(json.dumps(notification)) == [Outcome.SKIPPED]
    assert repository.items == {}


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        pytest.param('{"Records":[{"eventVersion":"2.1"', "not JSON", id="truncated"),
        pytest.param("hello", "not JSON", id="text"),
        pytest.param("[]", "JSON list", id="list"),
        pytest.param("{}", "Records", id="empty-object"),
        pytest.param('{"Records": []}', "Records", id="no-records"),
        pytest.param('{"Records": [{"eventSource": "aws:sqs"}]}', "Records.0", id="not-s3"),
        pytest.param('{"Records": [1]}', "Records.0", id="record-not-an-object"),
    ],
)
def test_bodies_that_are_not_s3_events_are_invalid(
    recorder: StoredObjectRecorder, body: str, reason: str
) -> None:
    # Given a poison body / When handled / Then a domain error explains why (the record will fail)
    with pytest.raises(InvalidNotificationError, match=reason):
        recorder.handle_message(body)


@pytest.mark.parametrize(
    ("change", "location"),
    [
        pytest.param(lambda record: record.pop("eventName"), "Records.0.eventName", id="no-event-name"),
        pytest.param(lambda record: record.pop("s3"), "Records.0.s3", id="no-s3"),
        pytest.param(lambda record: record["s3"].pop("object"), "Records.0.s3.object", id="no-object"),
        pytest.param(lambda record: record["s3"]["object"].pop("eTag"), "Records.0: .*eTag", id="no-etag"),
        pytest.param(
            lambda record: record["s3"]["object"].update(size=1.5), "Records.0.s3.object.size", id="part-byte"
        ),
        pytest.param(
            lambda record: record["s3"]["object"].update(sequencer="not-hex"),
            "Records.0.s3.object.sequencer",
            id="sequencer-not-hex",
        ),
    ],
)
def test_malformed_records_are_invalid_and_the_error_names_the_wrong_field(
    recorder: StoredObjectRecorder, change: Callable[[dict[str, Any]], object], location: str
) -> None:
    # Given the sample notification with one field of its record missing or wrong
    notification = sample_notification()
    change(notification["Records"][0])
    # When handled / Then a domain error says where (never a TypeError out of the parser's own checks)
    with pytest.raises(InvalidNotificationError, match=f"^not an S3 event notification: {location}"):
        recorder.handle_message(json.dumps(notification))


def test_sizes_are_whole_bytes() -> None:
    notification = parse_notification(notification_body(size=1048576.0))
    assert isinstance(notification, S3EventNotification)
    size = notification.Records[0].s3.object.size
    assert (size, type(size)) == (1048576, int)


def test_object_created_without_sequencer_is_invalid(recorder: StoredObjectRecorder) -> None:
    notification = sample_notification()
    del notification["Records"][0]["s3"]["object"]["sequencer"]
    with pytest.raises(InvalidNotificationError, match="sequencer"):
        recorder.handle_message(json.dumps(notification))


# --- objects no upload accounts for (issue #9): refused, deleted, audited --------------------------------


@pytest.mark.parametrize(
    ("upload", "reason", "resource"),
    [
        pytest.param(
            FileUpload(upload_id="upload-0001", status=SessionStatus.ABORTED),
            "upload_aborted",
            ("upload", "upload-0001"),
            id="aborted",
        ),
        pytest.param(
            FileUpload(upload_id="upload-0001", status=SessionStatus.EXPIRED),
            "upload_expired",
            ("upload", "upload-0001"),
            id="expired",
        ),
        pytest.param(FileUpload(), "no_upload", ("file", "file-0001"), id="no-file-item"),
        pytest.param(
            FileUpload(
                upload_id="upload-0001",
                status=SessionStatus.COMPLETED,
                completed=ObjectFacts(etag=SAMPLE_ETAG, version_id="the-completed-version"),
            ),
            "not_the_completed_object",
            ("upload", "upload-0001"),
            id="replay-after-complete",
        ),
        pytest.param(
            FileUpload(
                upload_id="upload-0001",
                status=SessionStatus.COMPLETED,
                completed=ObjectFacts(etag="other-bytes", version_id=None),
            ),
            "not_the_completed_object",
            ("upload", "upload-0001"),
            id="replay-unversioned-other-etag",
        ),
    ],
)
def test_an_object_no_upload_accounts_for_is_deleted_audited_and_never_recorded(
    recorder: StoredObjectRecorder,
    repository: FakeFileRepository,
    processed: list[tuple[StoredObject, str | None]],
    discarded: list[StoredObject],
    audit: FakeAuditLog,
    upload: FileUpload,
    reason: str,
    resource: tuple[str, str],
) -> None:
    # Given the file's upload session (or none) / When an object for it is announced
    repository.uploads[SAMPLE_UPLOAD] = upload
    outcomes = recorder.handle_message(json.dumps(sample_notification()))
    # Then it is refused: that version deleted, nothing recorded on the file, nothing started
    assert outcomes == [Outcome.REFUSED]
    assert [stored.version_id for stored in discarded] == [SAMPLE_VERSION]
    assert repository.items == {}
    assert processed == []
    # And its owner's audit trail says what was refused and why
    [event] = audit.events.values()
    assert (event.user_id, event.action) == ("user-alice", AuditAction.UPLOAD_OBJECT_REFUSED)
    assert (event.resource_type, event.resource_id) == resource
    assert dict(event.details) == {
        "reason": reason,
        "file_id": "file-0001",
        "key": "uploads/user-alice/file-0001",
        "version_id": SAMPLE_VERSION,
        "etag": SAMPLE_ETAG,
        "size": 1048576,
    }


def test_a_redelivered_refusal_writes_the_same_audit_event_once(
    recorder: StoredObjectRecorder, repository: FakeFileRepository, audit: FakeAuditLog
) -> None:
    # Given an object of an aborted upload, refused once / When its message is delivered again
    repository.uploads[SAMPLE_UPLOAD] = FileUpload(upload_id="upload-0001", status=SessionStatus.ABORTED)
    body = json.dumps(sample_notification())
    recorder.handle_message(body)
    recorder.handle_message(body)
    # Then the trail holds one event (its id comes from the notification, not from a clock)
    assert len(audit.events) == 1


@pytest.mark.parametrize(
    "upload",
    [
        pytest.param(IN_FLIGHT, id="initiated: the PUT's event before complete"),
        pytest.param(
            FileUpload(
                upload_id="upload-0001",
                status=SessionStatus.COMPLETED,
                completed=ObjectFacts(etag=SAMPLE_ETAG, version_id=SAMPLE_VERSION),
            ),
            id="the completed object",
        ),
        pytest.param(
            FileUpload(
                upload_id="upload-0001",
                status=SessionStatus.COMPLETED,
                completed=ObjectFacts(etag=SAMPLE_ETAG, version_id=None),
            ),
            id="the completed object, no version recorded",
        ),
        pytest.param(
            FileUpload(upload_id="upload-0001", recorded=ObjectFacts(SAMPLE_ETAG, SAMPLE_VERSION)),
            id="session gone from the table, the recorded object",
        ),
    ],
)
def test_the_object_of_a_live_or_completed_upload_is_recorded(
    recorder: StoredObjectRecorder,
    repository: FakeFileRepository,
    discarded: list[StoredObject],
    audit: FakeAuditLog,
    upload: FileUpload,
) -> None:
    repository.uploads[SAMPLE_UPLOAD] = upload
    assert recorder.handle_message(json.dumps(sample_notification())) == [Outcome.STORED]
    assert (discarded, audit.events) == ([], {})
