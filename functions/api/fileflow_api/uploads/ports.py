"""The interfaces the upload service and the sweeper need (adapters: table.py, storage.py), and the one
write sequence both run over them when an object is found: `finish_completed`."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Protocol

from fileflow_api.uploads.model import (
    Checksum,
    ChecksumAlgorithm,
    CompletedObject,
    PartsPage,
    PresignedPost,
    PresignedRequest,
    StoredPart,
    UploadSession,
    UploadStatus,
)


class UploadSessionStore(Protocol):
    def create(self, session: UploadSession) -> None: ...

    def get(self, user_id: str, upload_id: str) -> UploadSession | None: ...

    def finish(self, session: UploadSession) -> bool:
        """Write `session` (status completed/aborted/expired) if the stored one is still initiated."""
        ...

    def declare_sha256(self, session: UploadSession, sha256: str, *, at: datetime) -> bool:
        """Store the whole-file SHA-256 declared at complete, if the stored session is still initiated
        and declares none or this one; False when it was refused."""
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

    def declare_sha256(self, session: UploadSession, *, at: datetime) -> None:
        """Set the file item's `sha256` (declared at complete) before its object exists: the processor
        verifies the bytes against it."""
        ...

    def record_upload(self, session: UploadSession, *, at: datetime) -> None:
        """Upsert the completed object's facts; "uploading" becomes "uploaded"."""
        ...

    def forget(self, session: UploadSession) -> None:
        """Delete the item of an upload that ended without an object (aborted, expired)."""
        ...


class ObjectStore(Protocol):
    """The S3 operations on originals that both the API and the sweeper need."""

    def head(self, key: str) -> CompletedObject | None: ...

    def abort_multipart_upload(self, key: str, s3_upload_id: str) -> None:
        """Abort; an upload S3 no longer knows is not an error."""
        ...


class UploadStorage(ObjectStore, Protocol):
    @property
    def bucket_name(self) -> str: ...

    def object_url(self, key: str) -> str: ...

    def create_multipart_upload(
        self,
        key: str,
        *,
        content_type: str,
        checksum_algorithm: ChecksumAlgorithm | None,
        correlation_id: str | None = None,
    ) -> str: ...

    def presign_put(
        self, key: str, *, size: int, content_type: str, checksum: Checksum | None, expires_in: int
    ) -> PresignedRequest: ...

    def presign_part(
        self,
        key: str,
        s3_upload_id: str,
        part_number: int,
        *,
        size: int | None,
        checksum: Checksum | None,
        expires_in: int,
    ) -> PresignedRequest: ...

    def presign_post(
        self,
        key: str,
        *,
        content_type: str,
        min_size: int,
        max_size: int,
        expires_in: int,
        correlation_id: str | None = None,
    ) -> PresignedPost: ...

    def list_parts(self, key: str, s3_upload_id: str, *, after: int = 0, limit: int = 1000) -> PartsPage: ...

    def all_parts(self, key: str, s3_upload_id: str) -> list[StoredPart]: ...

    def complete_multipart_upload(
        self, key: str, s3_upload_id: str, parts: Sequence[StoredPart]
    ) -> CompletedObject: ...


def finish_completed(
    sessions: UploadSessionStore,
    files: FileCatalog,
    session: UploadSession,
    completed: CompletedObject,
    *,
    at: datetime,
) -> tuple[UploadSession, bool]:
    """Record a finished object: the file item first (an upsert, safe to repeat), then the session.

    Returns the session as stored, and whether this call finished it: a concurrent writer (a second
    complete, the sweeper) may have won.
    """
    finished = session.finished(UploadStatus.COMPLETED, at, completed)
    files.record_upload(finished, at=at)
    if sessions.finish(finished):
        return finished, True
    return sessions.get(session.user_id, session.upload_id) or finished, False
