"""Upload sessions: the model, its state machine, and the ports the API and the sweeper share. No boto3.

A session is created `initiated` and moves exactly once, by a conditional write, to `completed`,
`aborted` or `expired`. The key `uploads/{user_id}/{file_id}` belongs to one session only, so an
object found at it is that session's upload.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from fileflow_common.errors import FileflowError


class UploadStatus(StrEnum):
    INITIATED = "initiated"
    COMPLETED = "completed"
    ABORTED = "aborted"
    EXPIRED = "expired"


class UploadMode(StrEnum):
    SINGLE = "single"  # one presigned PUT (or, from Uppy, one presigned POST)
    MULTIPART = "multipart"


class ChecksumAlgorithm(StrEnum):
    """The per-part checksums S3 verifies; the names are S3's `ChecksumAlgorithm` values."""

    SHA256 = "SHA256"
    CRC32C = "CRC32C"


@dataclass(frozen=True, slots=True)
class Checksum:
    algorithm: ChecksumAlgorithm
    value: str  # base64, as S3 writes it (`...-N` for a multipart object's composite checksum)
    type: str | None = None  # S3's ChecksumType: FULL_OBJECT or COMPOSITE


@dataclass(frozen=True, slots=True)
class StoredPart:
    """A part S3 holds (ListParts)."""

    part_number: int
    size: int
    etag: str  # without the surrounding quotes
    checksum: Checksum | None = None


@dataclass(frozen=True, slots=True)
class StoredObject:
    """A finished object (CompleteMultipartUpload or HeadObject)."""

    size: int
    etag: str  # without the surrounding quotes
    checksum: Checksum | None = None


@dataclass(frozen=True, slots=True)
class PartsPage:
    parts: list[StoredPart]
    next_marker: int | None  # give it back as `after` for the next page; None on the last page


@dataclass(frozen=True, slots=True)
class PresignedRequest:
    url: str
    headers: dict[str, str]  # to send exactly: each one is part of the signature
    method: str = "PUT"


@dataclass(frozen=True, slots=True)
class PresignedPost:
    url: str
    fields: dict[str, str]


@dataclass(frozen=True, slots=True)
class UploadSession:
    user_id: str
    upload_id: str
    file_id: str
    key: str
    mode: UploadMode
    filename: str
    content_type: str
    # None only for Uppy sessions: the stock plugin never declares the size or the part size.
    size: int | None
    part_size: int | None
    part_count: int | None
    status: UploadStatus
    created_at: datetime
    expires_at: datetime  # the session's expiry (the table's TTL attribute is later, see the adapter)
    s3_upload_id: str | None = None  # multipart only
    sha256: str | None = None  # hex SHA-256 of the whole file, as declared by the client
    checksum_algorithm: ChecksumAlgorithm | None = None
    result: StoredObject | None = None  # once completed
    finished_at: datetime | None = None  # when it left `initiated`
    # The initiating API request's correlation id: the file item, the object and the workflow carry it.
    correlation_id: str | None = None

    @property
    def is_planned(self) -> bool:
        """True when the server chose the part layout (so each part's size is known and signed)."""
        return self.part_size is not None and self.part_count is not None and self.size is not None

    def planned_part_size(self, part_number: int) -> int:
        """The exact size of a part of a planned multipart upload (the last one holds the remainder)."""
        assert self.size is not None
        assert self.part_size is not None
        assert self.part_count is not None
        if part_number < self.part_count:
            return self.part_size
        return self.size - (self.part_count - 1) * self.part_size

    def finished(
        self, status: UploadStatus, at: datetime, result: StoredObject | None = None
    ) -> UploadSession:
        size = result.size if result is not None else self.size
        return replace(self, status=status, finished_at=at, result=result, size=size)


# --- errors (mapped to HTTP in fileflow_api.errors) -------------------------------------------------------


class UploadNotFoundError(FileflowError):
    """No such upload for this user (another user's upload is "not found" too)."""

    code = "UploadNotFound"


class UploadStateError(FileflowError):
    """The upload is no longer `initiated`, so the operation cannot apply."""

    code = "UploadNotActive"

    def __init__(self, message: str, *, status: UploadStatus) -> None:
        super().__init__(message)
        self.status = status


class UploadCompletedError(UploadStateError):
    code = "UploadCompleted"


class UploadAbortedError(UploadStateError):
    code = "UploadAborted"


class UploadExpiredError(UploadStateError):
    code = "UploadExpired"


_STATE_ERRORS: dict[UploadStatus, type[UploadStateError]] = {
    UploadStatus.COMPLETED: UploadCompletedError,
    UploadStatus.ABORTED: UploadAbortedError,
    UploadStatus.EXPIRED: UploadExpiredError,
}


def state_error(session: UploadSession, action: str) -> UploadStateError:
    """The precise error for `action` on a session that left `initiated`."""
    error = _STATE_ERRORS[session.status]
    return error(f"cannot {action}: upload {session.upload_id} is {session.status}", status=session.status)


class MultipartUploadGoneError(FileflowError):
    """S3 no longer knows the multipart upload (completed, aborted, or removed by the lifecycle rule)."""

    code = "MultipartUploadGone"


# --- ports ------------------------------------------------------------------------------------------------


class UploadSessionStore(Protocol):
    def create(self, session: UploadSession) -> None: ...

    def get(self, user_id: str, upload_id: str) -> UploadSession | None: ...

    def finish(self, session: UploadSession) -> bool:
        """Write `session` (status completed/aborted/expired) if the stored one is still initiated."""
        ...

    def expired(self, *, before: datetime) -> Iterator[UploadSession]:
        """Initiated sessions whose expiry is earlier than `before`, oldest first."""
        ...


class FileCatalog(Protocol):
    """The file item, seen from the uploads: written before any byte can reach S3, so the processor
    finds the client's filename and type whenever it runs; never clobbering the processor's fields."""

    def declare(self, session: UploadSession, *, at: datetime) -> None:
        """Upsert the client's metadata on the file item, status "uploading" (unless it moved on)."""
        ...

    def record_upload(self, session: UploadSession, *, at: datetime) -> None:
        """Upsert the completed object's facts; "uploading" becomes "uploaded"."""
        ...

    def forget(self, session: UploadSession) -> None:
        """Delete the item of an upload that ended without an object (aborted, expired)."""
        ...


class ObjectStore(Protocol):
    """The S3 operations on originals that both the API and the sweeper need."""

    def head(self, key: str) -> StoredObject | None: ...

    def abort_multipart_upload(self, key: str, s3_upload_id: str) -> None:
        """Abort; an upload S3 no longer knows is not an error."""
        ...


def finish_completed(
    sessions: UploadSessionStore,
    files: FileCatalog,
    session: UploadSession,
    stored: StoredObject,
    *,
    at: datetime,
) -> UploadSession:
    """Record a finished object: the file item first (an upsert, safe to repeat), then the session.

    Returns the session as stored: a concurrent writer (a second complete, the sweeper) may have won.
    """
    completed = session.finished(UploadStatus.COMPLETED, at, stored)
    files.record_upload(completed, at=at)
    if sessions.finish(completed):
        return completed
    return sessions.get(session.user_id, session.upload_id) or completed
