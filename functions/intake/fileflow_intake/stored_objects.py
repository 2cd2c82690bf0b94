"""Domain logic: turn S3 ObjectCreated notifications into file items, then start their workflow. No boto3.

Each ObjectCreated record is first checked against the upload session its file item names: an object
that no live or completed upload accounts for (the session aborted or expired, no session at all, or a
version other than the one a completed session recorded: a presigned URL replayed) is refused: that
version is deleted and an audit event written to its owner's trail. Otherwise it is recorded on the file
item (a conditional upsert: out-of-order events never roll it back), then handed to the start callable
(idempotent: one workflow per version, see starter.py) unless a newer version was recorded already.
"""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from fileflow_common.audit import AuditAction, AuditEvent
from fileflow_common.clock import utc_now
from fileflow_common.errors import ForeignObjectKeyError
from fileflow_common.keys import UploadKey, parse_object_key
from fileflow_common.lanes import DEFAULT_PRIORITY
from fileflow_common.observability import logger
from fileflow_common.pipeline import ObjectVersion
from fileflow_intake.notifications import (
    InvalidNotificationError,
    S3EventRecord,
    S3TestEvent,
    parse_notification,
)

# Sequencers are hex strings of varying length: left-padded they compare in event order.
SEQUENCER_WIDTH = 64


@dataclass(frozen=True, slots=True)
class StoredObject:
    """An original upload that S3 has stored, as described by one ObjectCreated event."""

    upload: UploadKey
    bucket: str
    size: int
    etag: str
    version_id: str | None
    sequencer: str
    stored_at: datetime

    @property
    def version(self) -> ObjectVersion:
        return ObjectVersion(
            bucket=self.bucket, key=self.upload.key, version_id=self.version_id, etag=self.etag
        )


class Recorded(StrEnum):
    """What the conditional upsert of the file item found."""

    NEW = "new"  # first event of this version (or a newer version than the item held)
    SAME = "same"  # the item already describes this version: a redelivery
    SUPERSEDED = "superseded"  # the item describes a newer version: this event is stale
    DELETED = "deleted"  # the file was deleted (its tombstone): this object must not bring it back


@dataclass(frozen=True, slots=True)
class RecordedObject:
    recorded: Recorded
    # The upload's correlation id, as the upload API stored it on the file item (None if it did not).
    correlation_id: str | None = None
    # The upload's priority (1-9), as the upload API stored it on the file item: it picks the file's lane.
    priority: int = DEFAULT_PRIORITY


class SessionStatus(StrEnum):
    """An upload session's status (fileflow_api.uploads.model.UploadStatus, as the table stores it)."""

    INITIATED = "initiated"
    COMPLETED = "completed"
    ABORTED = "aborted"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class ObjectFacts:
    """Which object version an upload produced: its version id (versioned bucket) and ETag."""

    etag: str | None
    version_id: str | None

    def names(self, stored: StoredObject) -> bool:
        if self.version_id is not None and stored.version_id is not None:
            return self.version_id == stored.version_id
        return self.etag is not None and self.etag == stored.etag


@dataclass(frozen=True, slots=True)
class FileUpload:
    """What the table says of the upload behind a file: its file item, and the session the item names."""

    file_deleted: bool = False  # the file's tombstone (DELETE /v1/files/{id})
    upload_id: str | None = None  # None: no file item, or one that names no upload
    status: SessionStatus | None = None  # None: no session found
    completed: ObjectFacts | None = None  # the completed session's object
    recorded: ObjectFacts | None = None  # the object the file item records


class Refusal(StrEnum):
    """Why an object is refused (the audit event's `reason`)."""

    ABORTED = "upload_aborted"
    EXPIRED = "upload_expired"
    NO_UPLOAD = "no_upload"  # no file item names a session: abort and expiry remove the item they leave
    REPLAYED = "not_the_completed_object"  # a later PUT to a URL of a completed upload


def refusal(upload: FileUpload, stored: StoredObject) -> Refusal | None:
    """Why `stored` may not become its file's object; None when an upload accounts for it.

    An initiated session's object is accepted: a single PUT's event often comes before complete.
    """
    if upload.file_deleted:
        return None  # recorded as deleted, then discarded (no quota or listing to protect)
    match upload.status:
        case SessionStatus.INITIATED:
            return None
        case SessionStatus.ABORTED:
            return Refusal.ABORTED
        case SessionStatus.EXPIRED:
            return Refusal.EXPIRED
        case SessionStatus.COMPLETED:
            completed = upload.completed
            return None if completed is not None and completed.names(stored) else Refusal.REPLAYED
        case None if upload.upload_id is not None and upload.recorded is not None:
            # The session has expired from the table (7 days after its expiry): a redelivery of the
            # object the file records is still that object.
            return None if upload.recorded.names(stored) else Refusal.REPLAYED
    return Refusal.NO_UPLOAD


class FileRepository(Protocol):
    def upload_of(self, upload: UploadKey) -> FileUpload:
        """The file item of `upload` and the upload session it names."""
        ...

    def record_stored_object(self, stored: StoredObject, *, updated_at: datetime) -> RecordedObject:
        """Upsert the file item unless it already reflects this event or a later one."""
        ...


class AuditAppender(Protocol):
    def append(self, event: AuditEvent) -> None:
        """Store the event in its user's audit trail; an event already stored is not an error."""
        ...


class Outcome(StrEnum):
    STORED = "stored"
    ALREADY_RECORDED = "already_recorded"
    SUPERSEDED = "superseded"
    SKIPPED = "skipped"
    FILE_DELETED = "file_deleted"
    REFUSED = "refused"  # deleted: no upload accounts for it


# Called with the stored object, the upload's correlation id and its priority.
type ProcessStoredObject = Callable[[StoredObject, str | None, int], object]


def _process_nothing(stored: StoredObject, correlation_id: str | None, priority: int) -> None:
    """The default: record only."""


def _keep(stored: StoredObject) -> None:
    """The default: leave the object of a deleted file where it is."""


class StoredObjectRecorder:
    """Records every upload announced by one SQS message body."""

    def __init__(
        self,
        repository: FileRepository,
        *,
        bucket_name: str,
        audit: AuditAppender,
        process: ProcessStoredObject = _process_nothing,
        discard: Callable[[StoredObject], None] = _keep,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._repository = repository
        self._bucket_name = bucket_name
        self._audit = audit
        self._process = process
        # Removes an object version that must not stay: its file was deleted, or no upload accounts for it.
        self._discard = discard
        self._clock = clock

    def handle_message(self, body: str) -> list[Outcome]:
        """Raise InvalidNotificationError for a body that must be retried and dead-lettered."""
        notification = parse_notification(body)
        if isinstance(notification, S3TestEvent):
            logger.info("s3 test event skipped", extra={"bucket": notification.bucket})
            return [Outcome.SKIPPED]
        return [self._handle_record(record) for record in notification.Records]

    def _handle_record(self, record: S3EventRecord) -> Outcome:
        key = record.s3.object.key
        bucket = record.s3.bucket.name
        if bucket != self._bucket_name:
            logger.warning("object of another bucket skipped", extra={"bucket": bucket, "key": key})
            return Outcome.SKIPPED
        if not record.is_object_created:
            logger.warning("non-ObjectCreated event skipped", extra={"event": record.eventName, "key": key})
            return Outcome.SKIPPED
        try:
            parsed = parse_object_key(key)
        except ForeignObjectKeyError as exc:
            logger.warning("object outside uploads/ skipped", extra={"key": key, "reason": str(exc)})
            return Outcome.SKIPPED
        if not isinstance(parsed, UploadKey):
            logger.warning("object outside uploads/ skipped", extra={"key": key, "reason": "derived object"})
            return Outcome.SKIPPED

        # Every line about this object names its user and file, and (once read) the upload's correlation id.
        logger.thread_safe_append_keys(user_id=parsed.user_id, file_id=parsed.file_id)
        stored = _stored_object(parsed, bucket, record)
        upload = self._repository.upload_of(parsed)
        refused = refusal(upload, stored)
        if refused is not None:
            self._refuse(stored, upload, refused, record)
            return Outcome.REFUSED
        outcome = self._repository.record_stored_object(stored, updated_at=self._clock())
        if outcome.correlation_id:
            logger.thread_safe_append_keys(correlation_id=outcome.correlation_id)
        recorded = outcome.recorded
        if recorded is Recorded.DELETED:
            logger.warning(
                "object of a deleted file discarded", extra={"key": key, "version": stored.version_id}
            )
            self._discard(stored)
            return Outcome.FILE_DELETED
        if recorded is Recorded.SUPERSEDED:
            logger.info("out-of-order event ignored", extra={"key": key, "sequencer": stored.sequencer})
            return Outcome.SUPERSEDED
        # A redelivery is started again: the start is idempotent, and a crash may have cut it short.
        self._process(stored, outcome.correlation_id, outcome.priority)
        if recorded is Recorded.SAME:
            logger.info(
                "duplicate event: file already recorded", extra={"key": key, "sequencer": stored.sequencer}
            )
            return Outcome.ALREADY_RECORDED
        logger.info(
            "object stored",
            extra={
                "key": key,
                "file_id": parsed.file_id,
                "user_id": parsed.user_id,
                "size": stored.size,
                "version_id": stored.version_id,
            },
        )
        return Outcome.STORED

    def _refuse(
        self, stored: StoredObject, upload: FileUpload, reason: Refusal, record: S3EventRecord
    ) -> None:
        """Delete the version, then say so in its owner's audit trail (both repeatable on a retry)."""
        logger.warning(
            "object refused: no upload accounts for it",
            extra={"key": stored.upload.key, "version": stored.version_id, "reason": reason.value},
        )
        self._discard(stored)
        self._audit.append(_refusal_event(stored, upload, reason, record))


def _refusal_event(
    stored: StoredObject, upload: FileUpload, reason: Refusal, record: S3EventRecord
) -> AuditEvent:
    """The event, built from the notification alone: a redelivery writes the same item (no duplicate)."""
    identity = f"{stored.bucket}\n{stored.upload.key}\n{stored.version_id}\n{stored.sequencer}"
    source = record.requestParameters.sourceIPAddress
    return AuditEvent(
        event_id=hashlib.sha256(identity.encode()).hexdigest()[:32],
        user_id=stored.upload.user_id,
        action=AuditAction.UPLOAD_OBJECT_REFUSED,
        resource_type="upload" if upload.upload_id else "file",
        resource_id=upload.upload_id or stored.upload.file_id,
        at=stored.stored_at,
        request_id=record.responseElements.x_amz_request_id,
        source_ip=source if isinstance(source, str) else str(source.network_address),
        details={
            "reason": reason.value,
            "file_id": stored.upload.file_id,
            "key": stored.upload.key,
            "etag": stored.etag,
            "size": stored.size,
            **({"version_id": stored.version_id} if stored.version_id else {}),
        },
    )


def _stored_object(upload: UploadKey, bucket: str, record: S3EventRecord) -> StoredObject:
    s3_object = record.s3.object
    if s3_object.size is None or s3_object.eTag is None or s3_object.sequencer is None:
        raise InvalidNotificationError("ObjectCreated record lacks size, eTag or sequencer")
    return StoredObject(
        upload=upload,
        bucket=bucket,
        size=s3_object.size,
        # S3 quotes ETags in HTTP headers but not in notifications: one unquoted form everywhere.
        etag=s3_object.eTag.strip('"'),
        version_id=s3_object.versionId,
        sequencer=s3_object.sequencer.upper().rjust(SEQUENCER_WIDTH, "0"),
        stored_at=record.eventTime,
    )
