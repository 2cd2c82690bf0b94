"""Domain logic: turn S3 ObjectCreated notifications into file items, then start their workflow. No boto3.

Each ObjectCreated record is recorded on the file item (a conditional upsert: out-of-order events never
roll it back), then handed to the start callable (idempotent: one workflow per version, see starter.py)
unless a newer version of the key was recorded already.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from fileflow_common.clock import utc_now
from fileflow_common.errors import ForeignObjectKeyError
from fileflow_common.keys import UploadKey, parse_object_key
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


class FileRepository(Protocol):
    def record_stored_object(self, stored: StoredObject, *, updated_at: datetime) -> RecordedObject:
        """Upsert the file item unless it already reflects this event or a later one."""
        ...


class Outcome(StrEnum):
    STORED = "stored"
    ALREADY_RECORDED = "already_recorded"
    SUPERSEDED = "superseded"
    SKIPPED = "skipped"
    FILE_DELETED = "file_deleted"


# Called with the stored object and the upload's correlation id.
type ProcessStoredObject = Callable[[StoredObject, str | None], object]


def _process_nothing(stored: StoredObject, correlation_id: str | None) -> None:
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
        process: ProcessStoredObject = _process_nothing,
        discard: Callable[[StoredObject], None] = _keep,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._repository = repository
        self._bucket_name = bucket_name
        self._process = process
        # Removes an object that arrived for a deleted file (a presigned URL used after the delete).
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

        stored = _stored_object(parsed, bucket, record)
        outcome = self._repository.record_stored_object(stored, updated_at=self._clock())
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
        self._process(stored, outcome.correlation_id)
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
