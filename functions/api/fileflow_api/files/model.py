"""Files, the model: a file's record, its derivatives and jobs, the queries that list them, their pages."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from fileflow_api.uploads.model import UploadSession
from fileflow_common.files import FileStatus


class SortField(StrEnum):
    CREATED = "created"
    NAME = "name"


class SortOrder(StrEnum):
    ASC = "asc"
    DESC = "desc"


class NameMatch(StrEnum):
    PREFIX = "prefix"  # served by the name index: cost grows with the matches
    CONTAINS = "contains"  # a filtered read of the user's name index: cost grows with the user's files


class Integrity(StrEnum):
    """How the `sha256` the client declared is known to be the file's (the processor's values, and one)."""

    STORAGE = "storage"  # S3 checked it when the version was written (a single PUT signs it)
    PIPELINE = "pipeline"  # the processor hashed every byte of the version: it matched
    MISMATCH = "mismatch"  # the processor hashed every byte: it did not match (the file failed)
    DECLARED = "declared"  # only the client's word so far: not (yet) verified for the current version


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
    # The processor's verification of `sha256` and the version (`{etag}#{version_id}`) it was made for.
    integrity: str | None = None
    integrity_source_object: str | None = None
    source_object: str | None = None  # the version the item describes (the starter's)
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
    # What initiate stored: the processing priority (None: a file from before priorities) and the
    # upload's one-off webhook target.
    priority: int | None = None
    callback_url: str | None = None
    # The human review of its AI result (docs/reviews.md): {review_id, status, ...}; None: none.
    review: Mapping[str, Any] | None = None
    # The upload's `analysis` (local, auto, deep); None: a file from before the AI stage.
    analysis_mode: str | None = None

    @property
    def verified_integrity(self) -> Integrity | None:
        """None when no sha256 was declared; `declared` until the current version is verified."""
        if self.sha256 is None:
            return None
        verified = {Integrity.STORAGE, Integrity.PIPELINE, Integrity.MISMATCH}
        if self.integrity in verified and self.integrity_source_object == self.source_object:
            return Integrity(self.integrity)
        return Integrity.DECLARED


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
