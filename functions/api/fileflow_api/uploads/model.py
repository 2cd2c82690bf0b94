"""Upload sessions and what the upload flow passes around. No boto3.

A session is created `initiated` and moves exactly once, by a conditional write, to `completed`,
`aborted` or `expired`. The key `uploads/{user_id}/{file_id}` belongs to one session only, so an
object found at it is that session's upload.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from fileflow_api.uploads.part_plan import PartPlan

# A file's processing priority (1 = most urgent, 9 = least): the workflow's lanes read it.
MIN_PRIORITY, MAX_PRIORITY, DEFAULT_PRIORITY = 1, 9, 5


class AnalysisMode(StrEnum):
    """How far a file's analysis goes (docs/ai.md): local features only, Claude where the routing policy
    says it pays, or Claude with the strong model. The AI stage reads it from the file item."""

    LOCAL = "local"
    AUTO = "auto"
    DEEP = "deep"


DEFAULT_ANALYSIS = AnalysisMode.AUTO


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


# --- sizes: declared by the client, or not known until S3 holds the bytes -----------------------------------


@dataclass(frozen=True, slots=True)
class DeclaredSize:
    """The size the client declared: checked on initiate, counted by the quota, matched on complete."""

    bytes: int

    @property
    def quota_bytes(self) -> int:
        return self.bytes


@dataclass(frozen=True, slots=True)
class UnknownSize:
    """No declared size (Uppy's stock plugin sends none): checked on complete, against S3's parts.

    Multipart only: complete charges the quota the size of the parts S3 holds (a form POST has no
    complete, so it must declare its size)."""

    @property
    def quota_bytes(self) -> int:
        return 0  # nothing known to reserve on initiate: complete charges the real size


type FileSize = DeclaredSize | UnknownSize


def file_size(size: int | None) -> FileSize:
    """The size a caller may or may not have declared."""
    return UnknownSize() if size is None else DeclaredSize(size)


def declared_bytes(size: FileSize) -> int | None:
    """The inverse of `file_size`, for the table item and the wire."""
    return size.bytes if isinstance(size, DeclaredSize) else None


# --- what S3 holds ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoredPart:
    """A part S3 holds (ListParts)."""

    part_number: int
    size: int
    etag: str  # without the surrounding quotes
    checksum: Checksum | None = None


@dataclass(frozen=True, slots=True)
class CompletedObject:
    """The object an upload produced, as S3 reports it (CompleteMultipartUpload or HeadObject)."""

    size: int
    etag: str  # without the surrounding quotes
    checksum: Checksum | None = None
    # S3's version of the object (versioned bucket): the one version the upload produced; the starter
    # refuses any other version of the key once the session is completed (a replayed URL).
    version_id: str | None = None


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


# --- the session --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UploadSession:
    user_id: str
    upload_id: str
    file_id: str
    key: str
    mode: UploadMode
    filename: str
    content_type: str
    size: FileSize
    # The part layout the server chose, so each part's size is known and signed (a single PUT is one
    # part of the whole file); None for a form POST and for Uppy's multipart, whose parts the browser sizes.
    plan: PartPlan | None
    status: UploadStatus
    created_at: datetime
    expires_at: datetime  # the session's expiry (the table's TTL attribute is later, see the adapter)
    s3_upload_id: str | None = None  # multipart only
    sha256: str | None = None  # hex SHA-256 of the whole file, as declared by the client
    checksum_algorithm: ChecksumAlgorithm | None = None
    result: CompletedObject | None = None  # once completed
    finished_at: datetime | None = None  # when it left `initiated`
    # The initiating API request's correlation id: the file item, the object and the workflow carry it.
    correlation_id: str | None = None
    priority: int = DEFAULT_PRIORITY
    # A one-off webhook target for this upload's events (checked at initiate, and at every delivery).
    callback_url: str | None = None
    analysis: AnalysisMode = DEFAULT_ANALYSIS

    @property
    def part_size(self) -> int | None:
        return self.plan.part_size if self.plan is not None else None

    @property
    def part_count(self) -> int | None:
        """How many parts the upload has before S3 holds them: the plan's, one for a form POST."""
        if self.plan is not None:
            return self.plan.part_count
        return 1 if self.mode is UploadMode.SINGLE else None

    def finished(
        self, status: UploadStatus, at: datetime, result: CompletedObject | None = None
    ) -> UploadSession:
        return replace(self, status=status, finished_at=at, result=result)


# --- requests and results of the upload service -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NewUpload:
    """A client that declares the file: the server plans it (one presigned PUT, or planned parts)."""

    filename: str
    size: int
    content_type: str
    sha256: str | None = None  # hex
    checksum_algorithm: ChecksumAlgorithm | None = None  # per-part checksums the client will send
    correlation_id: str | None = None  # the initiating API request's (fileflow_api.core.correlation)
    priority: int = DEFAULT_PRIORITY
    callback_url: str | None = None
    analysis: AnalysisMode = DEFAULT_ANALYSIS

    @property
    def declared_size(self) -> FileSize:
        return DeclaredSize(self.size)


@dataclass(frozen=True, slots=True)
class BrowserUpload:
    """Uppy's stock S3 plugin: it sizes its own parts (or sends one form POST) and may declare no size."""

    filename: str
    content_type: str
    size: FileSize
    form_post: bool  # one presigned POST; else a multipart upload of the browser's parts
    correlation_id: str | None = None
    priority: int = DEFAULT_PRIORITY
    callback_url: str | None = None
    analysis: AnalysisMode = DEFAULT_ANALYSIS

    @property
    def declared_size(self) -> FileSize:
        return self.size


@dataclass(frozen=True, slots=True)
class InitiatedUpload:
    session: UploadSession
    single: PresignedRequest | None = None  # a planned single upload: where to PUT the whole file
    post: PresignedPost | None = None  # a form upload: where to POST the file


@dataclass(frozen=True, slots=True)
class PartRequest:
    part_number: int
    checksum: Checksum | None = None


@dataclass(frozen=True, slots=True)
class SignedPart:
    part_number: int
    size: int | None  # None for Uppy sessions, whose part sizes the browser chooses
    request: PresignedRequest


@dataclass(frozen=True, slots=True)
class SignedParts:
    parts: list[SignedPart]
    expires_at: datetime
    expires_in: int  # seconds


@dataclass(frozen=True, slots=True)
class ClientPart:
    """A part as a client lists it on complete (Uppy): its number and the ETag S3 gave it."""

    part_number: int
    etag: str


@dataclass(frozen=True, slots=True)
class UploadProgress:
    session: UploadSession
    bytes_received: int
    parts_received: int | None  # None when it cannot be known (a completed Uppy upload)
