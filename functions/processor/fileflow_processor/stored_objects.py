"""Domain logic: turn S3 ObjectCreated notifications into file items. No boto3 here."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from fileflow_common.clock import utc_now
from fileflow_common.errors import ForeignObjectKeyError
from fileflow_common.keys import UploadKey, parse_object_key
from fileflow_common.observability import logger
from fileflow_processor.notifications import (
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
    size: int
    etag: str
    version_id: str | None
    sequencer: str
    stored_at: datetime


class FileRepository(Protocol):
    def record_stored_object(self, stored: StoredObject, *, updated_at: datetime) -> bool:
        """Upsert the file item; False when it already reflects this event or a later one."""
        ...


class Outcome(StrEnum):
    STORED = "stored"
    ALREADY_RECORDED = "already_recorded"
    SKIPPED = "skipped"


class StoredObjectRecorder:
    """Records every upload announced by one SQS message body."""

    def __init__(
        self,
        repository: FileRepository,
        *,
        bucket_name: str,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._repository = repository
        self._bucket_name = bucket_name
        self._clock = clock

    def handle_message(self, body: str) -> list[Outcome]:
        """Raise InvalidNotificationError for a body that must be retried and dead-lettered."""
        notification = parse_notification(body)
        if isinstance(notification, S3TestEvent):
            logger.info("s3 test event skipped", extra={"bucket": notification.bucket})
            return [Outcome.SKIPPED]
        return [self._handle_record(record) for record in notification.records]

    def _handle_record(self, record: S3EventRecord) -> Outcome:
        key = record.s3.object.key
        bucket = record.s3.bucket.name
        if bucket != self._bucket_name:
            logger.warning("object of another bucket skipped", extra={"bucket": bucket, "key": key})
            return Outcome.SKIPPED
        if not record.is_object_created:
            logger.warning("non-ObjectCreated event skipped", extra={"event": record.event_name, "key": key})
            return Outcome.SKIPPED
        try:
            parsed = parse_object_key(key)
        except ForeignObjectKeyError as exc:
            logger.warning("object outside uploads/ skipped", extra={"key": key, "reason": str(exc)})
            return Outcome.SKIPPED
        if not isinstance(parsed, UploadKey):
            logger.warning("object outside uploads/ skipped", extra={"key": key, "reason": "derived object"})
            return Outcome.SKIPPED

        stored = _stored_object(parsed, record)
        if not self._repository.record_stored_object(stored, updated_at=self._clock()):
            logger.info(
                "duplicate or out-of-order event ignored",
                extra={"key": key, "sequencer": stored.sequencer},
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


def _stored_object(upload: UploadKey, record: S3EventRecord) -> StoredObject:
    s3_object = record.s3.object
    if s3_object.size is None or s3_object.e_tag is None or s3_object.sequencer is None:
        raise InvalidNotificationError("ObjectCreated record lacks size, eTag or sequencer")
    return StoredObject(
        upload=upload,
        size=s3_object.size,
        etag=s3_object.e_tag,
        version_id=s3_object.version_id,
        sequencer=s3_object.sequencer.upper().rjust(SEQUENCER_WIDTH, "0"),
        stored_at=record.event_time,
    )
