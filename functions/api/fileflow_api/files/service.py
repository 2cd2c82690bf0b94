"""Files, domain logic: list, search, get (with presigned downloads and lineage), tags, delete. No boto3.

Every lookup is by (caller, file id) in the caller's own partition: another user's file is "not found",
never "forbidden", and nothing of it is ever signed. Pagination positions travel in HMAC-signed cursors
(fileflow_api.core.cursors) bound to the caller and the query.

Delete leaves a tombstone first (one conditional write that only one request can win), then removes
the objects and the records; the processor's conditional writes never write past a tombstone, so a
job still running cannot bring the file back (docs/files-api.md, "Delete").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Protocol

from fileflow_api.core.cursors import CursorCodec
from fileflow_api.files.errors import (
    FileUploadingError,
    InvalidQueryError,
    TagsConflictError,
    TagsVersionMismatchError,
    UnknownFileError,
)
from fileflow_api.files.model import (
    DerivativeRecord,
    FileDetail,
    FilePage,
    FileRecord,
    JobRecord,
    ListQuery,
    Page,
    SearchQuery,
    SignedDownload,
    Tombstoned,
    TombstoneState,
)
from fileflow_api.files.policy import FilesPolicy, normalize_tags
from fileflow_api.uploads.model import UploadSession
from fileflow_api.usage.quotas import QuotaPolicy
from fileflow_common.clock import utc_now
from fileflow_common.errors import FileflowError
from fileflow_common.files import FileStatus
from fileflow_common.keys import DERIVED_PREFIX, ID_PATTERN, derived_key, upload_key
from fileflow_common.observability import logger

# --- ports -------------------------------------------------------------------------------------------------


class FileLookup(Protocol):
    def get(self, user_id: str, file_id: str) -> FileRecord | None:
        """The live file (None when missing or deleted)."""
        ...


class FileIndex(FileLookup, Protocol):
    def list_files(
        self, user_id: str, query: ListQuery, *, after: dict[str, str] | None, limit: int
    ) -> Page: ...

    def search_files(
        self, user_id: str, query: SearchQuery, *, after: dict[str, str] | None, limit: int
    ) -> Page: ...

    def jobs(self, user_id: str, file_id: str) -> list[JobRecord]: ...

    def upload(self, user_id: str, upload_id: str) -> UploadSession | None: ...

    def replace_tags(self, file: FileRecord, tags: tuple[str, ...]) -> FileRecord | None:
        """Write the tags if the file still has `file.tags_version`; None when it changed meanwhile.

        Raise UnknownFileError when the file was deleted meanwhile.
        """
        ...

    def tombstone(self, user_id: str, file_id: str, *, at: datetime, expires_at: datetime) -> Tombstoned:
        """Replace the file item by a tombstone, unless missing, deleted already, or still uploading."""
        ...

    def purge(self, file: FileRecord) -> None:
        """Delete the file's job, event, tag and upload-session records (idempotent)."""
        ...

    def tombstone_purged(self, user_id: str, file_id: str, *, at: datetime) -> None:
        """Strip what the tombstone remembered for the purge, once it is done."""
        ...


class FileObjects(Protocol):
    def presign_get(
        self, key: str, *, version_id: str | None, expires_in: int, filename: str | None
    ) -> str: ...

    def delete_file_objects(self, user_id: str, file_id: str) -> int:
        """Every version of the original and of every derivative; returns how many were deleted."""
        ...


# --- the service -------------------------------------------------------------------------------------------

LIST_SCOPE = "files.list"
SEARCH_SCOPE = "files.search"


def live_file(files: FileLookup, user_id: str, file_id: str) -> FileRecord:
    """The caller's live file; UnknownFileError (404) for anything else, whatever the route."""
    file = files.get(user_id, file_id) if ID_PATTERN.fullmatch(file_id) else None
    if file is None:
        raise UnknownFileError(f"no file {file_id[:64]!r}")
    return file


def owns_derivative(user_id: str, file_id: str, derivative: DerivativeRecord) -> bool:
    """Only keys under the caller's own derived/{user}/{file}/ prefix are ever signed."""
    try:
        expected = derived_key(user_id, file_id, derivative.name)
    except FileflowError:
        expected = None
    if derivative.key != expected or not derivative.key.startswith(f"{DERIVED_PREFIX}{user_id}/"):
        logger.warning("derivative outside the file's prefix not signed", extra={"key": derivative.key})
        return False
    return True


class FileService:
    def __init__(
        self,
        *,
        index: FileIndex,
        objects: FileObjects,
        cursors: CursorCodec,
        quotas: QuotaPolicy,
        policy: FilesPolicy | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._index = index
        self._objects = objects
        self._cursors = cursors
        self._quotas = quotas
        self._policy = policy or FilesPolicy()
        self._clock = clock

    @property
    def policy(self) -> FilesPolicy:
        return self._policy

    # --- read ----------------------------------------------------------------------------------------------

    def list_files(self, user_id: str, query: ListQuery, *, cursor: str | None, limit: int) -> FilePage:
        if query.created_from and query.created_to and query.created_from >= query.created_to:
            raise InvalidQueryError("created_from must be earlier than created_to")
        fingerprint = query.fingerprint()
        after = self._cursors.position(cursor, user_id=user_id, scope=LIST_SCOPE, query=fingerprint)
        page = self._index.list_files(user_id, query, after=after, limit=limit)
        return self._page(page, user_id=user_id, scope=LIST_SCOPE, query=fingerprint)

    def search_files(self, user_id: str, query: SearchQuery, *, cursor: str | None, limit: int) -> FilePage:
        if query.text is None and query.tag is None:
            raise InvalidQueryError("search needs q (a file name), tag, or both")
        fingerprint = query.fingerprint()
        after = self._cursors.position(cursor, user_id=user_id, scope=SEARCH_SCOPE, query=fingerprint)
        page = self._index.search_files(user_id, query, after=after, limit=limit)
        return self._page(page, user_id=user_id, scope=SEARCH_SCOPE, query=fingerprint)

    def get(self, user_id: str, file_id: str) -> FileDetail:
        file = self._live(user_id, file_id)
        now = self._clock()
        ttl = self._policy.download_ttl
        seconds = int(ttl.total_seconds())
        expires_at = now + ttl
        original = None
        if file.status != FileStatus.UPLOADING and file.key == upload_key(user_id, file_id):
            url = self._objects.presign_get(
                file.key, version_id=file.version_id, expires_in=seconds, filename=file.filename
            )
            original = SignedDownload(url=url, expires_at=expires_at)
        derivatives = []
        for derivative in file.derivatives:
            if not owns_derivative(user_id, file_id, derivative):
                continue
            url = self._objects.presign_get(
                derivative.key, version_id=None, expires_in=seconds, filename=None
            )
            derivatives.append((derivative, SignedDownload(url=url, expires_at=expires_at)))
        jobs = [job for job in self._index.jobs(user_id, file_id) if job.user_id == user_id]
        upload = self._index.upload(user_id, file.upload_id) if file.upload_id else None
        return FileDetail(file=file, original=original, derivatives=derivatives, jobs=jobs, upload=upload)

    # --- write ---------------------------------------------------------------------------------------------

    def replace_tags(
        self, user_id: str, file_id: str, raw_tags: Sequence[str], *, expected_version: int | None = None
    ) -> tuple[FileRecord, bool]:
        """Replace the file's tags; returns the file and whether anything changed."""
        tags = normalize_tags(raw_tags, max_tags=self._policy.max_tags)
        for _ in range(3):
            file = self._live(user_id, file_id)
            if expected_version is not None and expected_version != file.tags_version:
                raise TagsVersionMismatchError(
                    f"the tags are at version {file.tags_version}, not {expected_version}: read them again"
                )
            if file.tags == tags:
                return file, False
            written = self._index.replace_tags(file, tags)
            if written is not None:
                return written, True
        raise TagsConflictError("the tags changed concurrently; read them and try again")

    def delete(self, user_id: str, file_id: str) -> FileRecord:
        """Delete the file. The first call answers the file; later ones raise UnknownFileError (404)."""
        if not ID_PATTERN.fullmatch(file_id):
            raise UnknownFileError(f"no file {file_id[:64]!r}")
        now = self._clock()
        outcome = self._index.tombstone(user_id, file_id, at=now, expires_at=now + self._policy.tombstone_ttl)
        match outcome.state:
            case TombstoneState.MISSING:
                raise UnknownFileError(f"no file {file_id!r}")
            case TombstoneState.UPLOADING:
                raise FileUploadingError(
                    f"file {file_id} is still uploading: abort its upload (DELETE /v1/uploads/"
                    f"{outcome.record.upload_id if outcome.record else '{upload_id}'}) or complete it first"
                )
            case TombstoneState.ALREADY_DELETED:
                # A repeat (or a retry after a failure half-way): finish the clean-up, answer "not found".
                if outcome.record is not None:
                    self._clean_up(outcome.record, at=now)
                raise UnknownFileError(f"no file {file_id!r}: it was deleted")
        assert outcome.record is not None
        file = outcome.record
        # Given back once: only the request that wrote the tombstone gets here.
        if file.quota_bytes is not None:
            self._quotas.release(user_id, size=file.quota_bytes)
        self._clean_up(file, at=now)
        return file

    # --- internals -----------------------------------------------------------------------------------------

    def _clean_up(self, file: FileRecord, *, at: datetime) -> None:
        deleted = self._objects.delete_file_objects(file.user_id, file.file_id)
        self._index.purge(file)
        self._index.tombstone_purged(file.user_id, file.file_id, at=at)
        logger.info("file deleted", extra={"file_id": file.file_id, "objects_deleted": deleted})

    def _live(self, user_id: str, file_id: str) -> FileRecord:
        return live_file(self._index, user_id, file_id)

    def _page(self, page: Page, *, user_id: str, scope: str, query: Mapping[str, object]) -> FilePage:
        next_cursor = self._cursors.next_cursor(page.next_position, user_id=user_id, scope=scope, query=query)
        return FilePage(files=page.files, next_cursor=next_cursor)
