"""The processing workflow's shared vocabulary: stages, their events, and where they are stored.

Written by the pipeline's stage functions, read by the API (`GET /v1/files/{id}`, the events long-poll
route). No boto3 here: shapes and keys only (docs/processing.md, "Live status").

- The file item (``USER#{user}`` / ``FILE#{file}``) carries the current `stage`, `stage_state`,
  `stage_updated_at`, the workflow's `execution_arn` and the upload's `correlation_id`.
- Each transition appends an event item ``FILE#{file}`` / ``EVENT#{cursor}``, the cursor being
  ``{epoch milliseconds, 13 digits}-{8 hex}``: events sort by time, and a client resumes after the last
  cursor it saw (``?after=<cursor>``).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from fileflow_common.keys import validate_id
from fileflow_common.table import FILE_PREFIX, PARTITION_KEY, SORT_KEY, ItemKey

EVENT_PREFIX = "EVENT#"
# Events outlive nothing but their file: DELETE /v1/files/{id} removes them with its jobs.
CURSOR_PATTERN = re.compile(r"\d{13}-[0-9a-f]{8}")


class Stage(StrEnum):
    """The workflow's stages, in the order a file passes them (one kind stage per file)."""

    RECEIVED = "received"
    DETECT = "detect"
    IMAGE = "image"
    DOCUMENT = "document"
    ARCHIVE = "archive"
    VIDEO = "video"
    ANALYSIS = "analysis"
    # Claude's analysis where the routing policy says it pays (never fails the file).
    AI = "ai"
    # A human reviewer's decision on a low-confidence AI result (docs/reviews.md): the workflow waits.
    REVIEW = "review"
    FINALIZE = "finalize"
    NOTIFY = "notify"
    # The failure path: records why the file failed.
    FAILED = "failed"


class StageState(StrEnum):
    STARTED = "started"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class ObjectVersion:
    """One stored version of an original: what the workflow's execution and job are named after."""

    bucket: str
    key: str
    version_id: str | None
    etag: str

    @property
    def job_id(self) -> str:
        """The execution name and job id: the same version always gives the same one, however often S3
        reports it, so `StartExecution` with it starts one workflow per version (80 characters at most)."""
        # The etag stands in for the version id only in an unversioned bucket.
        source = "\n".join((self.bucket, self.key, self.version_id or f"etag:{self.etag}"))
        return f"job-{hashlib.sha256(source.encode()).hexdigest()[:40]}"

    @property
    def source_tag(self) -> str:
        """Names this version on the file item, so results of an older version never overwrite a newer one."""
        return f"{self.etag}#{self.version_id or 'null'}"


class InvalidCursorError(ValueError):
    """A cursor that is not of the form ``{13 digits}-{8 hex}``."""


def event_cursor(at: datetime, *parts: str) -> str:
    """A time-ordered cursor; `parts` (execution, stage, state, attempt) make it unique and repeatable."""
    millis = int(at.astimezone(UTC).timestamp() * 1000)
    digest = hashlib.sha256("\n".join(parts).encode()).hexdigest()[:8]
    return f"{millis:013d}-{digest}"


def validate_cursor(cursor: str) -> str:
    if not CURSOR_PATTERN.fullmatch(cursor):
        raise InvalidCursorError("cursor must look like 1764612345678-0a1b2c3d (as returned in `cursor`)")
    return cursor


def event_item_key(file_id: str, cursor: str) -> ItemKey:
    """A file's event: ``FILE#{file_id}`` / ``EVENT#{cursor}``."""
    return {
        PARTITION_KEY: FILE_PREFIX + validate_id(file_id, kind="file_id"),
        SORT_KEY: EVENT_PREFIX + validate_cursor(cursor),
    }


@dataclass(frozen=True, slots=True)
class StageEvent:
    """One transition of one stage of one file's workflow."""

    file_id: str
    user_id: str
    stage: Stage
    state: StageState
    at: datetime
    cursor: str
    correlation_id: str | None = None
    execution_arn: str | None = None
    # Small and JSON-able: durations, counts, an error's code and message. Never presigned URLs.
    detail: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        """The event as the API returns it."""
        return {
            "cursor": self.cursor,
            "stage": self.stage.value,
            "state": self.state.value,
            "at": self.at.astimezone(UTC).isoformat(timespec="milliseconds"),
            "correlation_id": self.correlation_id,
            "detail": self.detail,
        }


def event_item(event: StageEvent) -> dict[str, Any]:
    """The DynamoDB item of an event (values already DynamoDB-safe: no floats in `detail`)."""
    item: dict[str, Any] = {
        **event_item_key(event.file_id, event.cursor),
        "entity": "event",
        "file_id": event.file_id,
        "user_id": event.user_id,
        "stage": event.stage.value,
        "state": event.state.value,
        "at": event.at.astimezone(UTC).isoformat(timespec="milliseconds"),
        "cursor": event.cursor,
        "detail": event.detail,
    }
    if event.correlation_id:
        item["correlation_id"] = event.correlation_id
    if event.execution_arn:
        item["execution_arn"] = event.execution_arn
    return item


def event_from_item(item: dict[str, Any]) -> StageEvent:
    return StageEvent(
        file_id=str(item["file_id"]),
        user_id=str(item["user_id"]),
        stage=Stage(item["stage"]),
        state=StageState(item["state"]),
        at=datetime.fromisoformat(str(item["at"])),
        cursor=str(item["cursor"]),
        correlation_id=item.get("correlation_id"),
        execution_arn=item.get("execution_arn"),
        detail=dict(item.get("detail") or {}),
    )
