"""Files, domain logic: list, search, get (with presigned downloads and lineage), tags, delete. No boto3.

Every lookup is by (caller, file id) in the caller's own partition: another user's file is "not found",
never "forbidden", and nothing of it is ever signed. Pagination positions travel in HMAC-signed cursors
(fileflow_api.core.cursors) bound to the caller and the query.

Delete leaves a tombstone first (one conditional write that only one request can win), then removes
the objects and the records; the processor's conditional writes never write past a tombstone, so a
job still running cannot bring the file back (docs/files-api.md, "Delete").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from fileflow_api.core.cursors import CursorCodec
from fileflow_api.uploads.session import UploadSession
from fileflow_api.usage.quotas import QuotaPolicy
from fileflow_common.clock import utc_now
from fileflow_common.errors import FileflowError
from fileflow_common.files import MEDIA_TYPE_FILTER, FileStatus
from fileflow_common.keys import DERIVED_PREFIX, ID_PATTERN, derived_key, upload_key
from fileflow_common.observability import logger
from fileflow_common.table import name_key

# --- errors (mapped to HTTP in fileflow_api.errors) --------------------------------------------------------


class UnknownFileError(FileflowError):
    """No such file for this user (another user's file, a deleted one, a malformed id: all the same)."""

    code = "FileNotFound"


class InvalidTagsError(FileflowError):
    code = "InvalidTags"


class InvalidQueryError(FileflowError):
    """Filters that contradict each other or a search text that cannot match a name."""

    code = "InvalidQuery"


class FileUploadingError(FileflowError):
    """The file's upload has not completed: abort it (DELETE /v1/uploads/{id}) or complete it first."""

    code = "FileUploading"


class TagsVersionMismatchError(FileflowError):
    """If-Match named another version of the tags than the current one."""

    code = "TagsVersionMismatch"


class TagsConflictError(FileflowError):
    """The tags kept changing under concurrent writers; the request can be repeated."""

    code = "TagsConflict"


# --- model -------------------------------------------------------------------------------------------------


class SortField(StrEnum):
    CREATED = "created"
    NAME = "name"


class SortOrder(StrEnum):
    ASC = "asc"
    DESC = "desc"


class NameMatch(StrEnum):
    PREFIX = "prefix"  # served by the name index: cost grows with the matches
    CONTAINS = "contains"  # a filtered read of the user's name index: cost grows with the user's files


@dataclass(frozen=True, slots=True)
class DerivativeRecord:
    name: str
    key: str
    content_type: str | None
    size: int | None
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True, slots=True)
class FileRecord:
    user_id: str
    file_id: str
    key: str
    filename: str | None
    content_type: str | None
    status: str
    created_at: str | None
    updated_at: str | None = None
    uploaded_at: str | None = None
    size: int | None = None
    etag: str | None = None
    version_id: str | None = None
    sha256: str | None = None
    upload_id: str | None = None
    detected_type: str | None = None
    detected_kind: str | None = None
    type_mismatch: Mapping[str, Any] | None = None
    processing_error: Mapping[str, Any] | None = None
    processing_job_id: str | None = None
    analysis: Mapping[str, Any] = field(default_factory=dict)
    derivatives: tuple[DerivativeRecord, ...] = ()
    tags: tuple[str, ...] = ()
    tags_version: int = 0
    quota_bytes: int | None = None  # what the quota counted at initiate (None: not counted)
    # The workflow's current stage (fileflow_common.pipeline) and the upload's correlation id.
    stage: str | None = None
    stage_state: str | None = None
    stage_updated_at: str | None = None
    execution_arn: str | None = None
    correlation_id: str | None = None


@dataclass(frozen=True, slots=True)
class JobRecord:
    job_id: str
    task: str
    status: str
    user_id: str
    source_key: str
    source_version_id: str | None
    source_etag: str | None
    queued_at: str | None
    started_at: str | None
    ended_at: str | None
    attempts: int
    error: Mapping[str, Any] | None
    derivatives: tuple[str, ...]
    findings: tuple[Mapping[str, Any], ...]


@dataclass(frozen=True, slots=True)
class ListQuery:
    status: FileStatus | None = None
    type: str | None = None  # "image/png", or "image/*" for a whole major type
    created_from: datetime | None = None  # inclusive
    created_to: datetime | None = None  # exclusive
    sort: SortField = SortField.CREATED
    order: SortOrder = SortOrder.DESC

    def fingerprint(self) -> dict[str, str | None]:
        return {
            "status": self.status.value if self.status else None,
            "type": self.type,
            "from": self.created_from.isoformat() if self.created_from else None,
            "to": self.created_to.isoformat() if self.created_to else None,
            "sort": self.sort.value,
            "order": self.order.value,
        }


@dataclass(frozen=True, slots=True)
class SearchQuery:
    text: str | None = None  # compared with name_key(filename)
    tag: str | None = None
    match: NameMatch = NameMatch.PREFIX

    def fingerprint(self) -> dict[str, str | None]:
        return {"q": self.text, "tag": self.tag, "match": self.match.value}


@dataclass(frozen=True, slots=True)
class Page:
    files: list[FileRecord]
    next_position: dict[str, str] | None


@dataclass(frozen=True, slots=True)
class FilePage:
    files: list[FileRecord]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class SignedDownload:
    url: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class FileDetail:
    file: FileRecord
    original: SignedDownload | None
    derivatives: list[tuple[DerivativeRecord, SignedDownload]]
    jobs: list[JobRecord]
    upload: UploadSession | None


class TombstoneState(StrEnum):
    DELETED = "deleted"  # this request deleted the file
    ALREADY_DELETED = "already_deleted"  # an earlier request did (the tombstone is still there)
    MISSING = "missing"
    UPLOADING = "uploading"


@dataclass(frozen=True, slots=True)
class Tombstoned:
    state: TombstoneState
    record: FileRecord | None  # the file as it was (DELETED) or what the tombstone remembers


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

_TAG = re.compile(r"[a-z0-9][a-z0-9_.:/+-]{0,63}")
_FORBIDDEN_IN_TEXT = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
LIST_SCOPE = "files.list"
SEARCH_SCOPE = "files.search"


@dataclass(frozen=True, slots=True)
class FilesPolicy:
    download_ttl: timedelta = timedelta(minutes=5)
    # Longer than any message can live (the DLQ keeps 14 days): a redriven event still meets the tombstone.
    tombstone_ttl: timedelta = timedelta(days=15)
    max_tags: int = 20


def normalize_tags(raw: Sequence[str], *, max_tags: int) -> tuple[str, ...]:
    """Lower-cased, trimmed, de-duplicated and sorted; each one `[a-z0-9][a-z0-9_.:/+-]{0,63}`."""
    tags = sorted({tag.strip().lower() for tag in raw})
    bad = [tag for tag in tags if not _TAG.fullmatch(tag)]
    if bad:
        raise InvalidTagsError(
            f"invalid tag {bad[0][:70]!r}: 1 to 64 characters of a-z 0-9 _ . : / + -, starting with a letter "
            "or digit"
        )
    if len(tags) > max_tags:
        raise InvalidTagsError(f"at most {max_tags} tags per file, not {len(tags)}")
    return tuple(tags)


def normalize_tag(raw: str) -> str:
    tag = raw.strip().lower()
    if not _TAG.fullmatch(tag):
        raise InvalidQueryError("tag must be 1 to 64 characters of a-z 0-9 _ . : / + -")
    return tag


def normalize_search_text(raw: str) -> str:
    text = name_key(raw.strip())
    if not text or any(unicodedata.category(character) in _FORBIDDEN_IN_TEXT for character in text):
        raise InvalidQueryError("q must be printable text that a file name could hold")
    return text


def validate_type_filter(raw: str) -> str:
    value = raw.strip().lower()
    if not MEDIA_TYPE_FILTER.fullmatch(value):
        raise InvalidQueryError("type must be a media type (image/png) or a major type (image/*)")
    return value


def as_utc(moment: datetime) -> datetime:
    """A date without a time zone is taken as UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


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
        quotas: QuotaPolicy | None = None,
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
        after = self._position(cursor, user_id=user_id, scope=LIST_SCOPE, query=fingerprint)
        page = self._index.list_files(user_id, query, after=after, limit=limit)
        return self._page(page, user_id=user_id, scope=LIST_SCOPE, query=fingerprint)

    def search_files(self, user_id: str, query: SearchQuery, *, cursor: str | None, limit: int) -> FilePage:
        if query.text is None and query.tag is None:
            raise InvalidQueryError("search needs q (a file name), tag, or both")
        fingerprint = query.fingerprint()
        after = self._position(cursor, user_id=user_id, scope=SEARCH_SCOPE, query=fingerprint)
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
        if self._quotas is not None and file.quota_bytes is not None:
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

    def _position(
        self, cursor: str | None, *, user_id: str, scope: str, query: Mapping[str, object]
    ) -> dict[str, str] | None:
        if cursor is None:
            return None
        return self._cursors.decode(cursor, user_id=user_id, scope=scope, query=query)

    def _page(self, page: Page, *, user_id: str, scope: str, query: Mapping[str, object]) -> FilePage:
        next_cursor = None
        if page.next_position is not None:
            next_cursor = self._cursors.encode(page.next_position, user_id=user_id, scope=scope, query=query)
        return FilePage(files=page.files, next_cursor=next_cursor)
