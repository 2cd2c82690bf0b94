"""Processing jobs: tasks, the state machine and deterministic ids. No boto3 here.

queued -> running -> succeeded | failed | needs_review. A terminal job is never run again, except a job
that failed because its retries ran out (`error.retryable`): a redriven message starts it again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from fileflow_common.pipeline import ObjectVersion
from fileflow_stages._runtime.content import ContentKind


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    NEEDS_REVIEW = "needs_review"

    @property
    def terminal(self) -> bool:
        return self in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.NEEDS_REVIEW)


class Task(StrEnum):
    # A queued job whose content type is not detected yet.
    DETECTION = "detection"
    IMAGE_RENDITIONS = "image_renditions"
    DOCUMENT_TEXT = "document_text"
    TEXT_STATISTICS = "text_statistics"
    ARCHIVE_LISTING = "archive_listing"
    VIDEO_HLS = "video_hls"
    # Content of a type Fileflow does not process: the job fails with UnsupportedType.
    TYPE_CHECK = "type_check"


_TASK_BY_KIND = {
    ContentKind.IMAGE: Task.IMAGE_RENDITIONS,
    ContentKind.DOCUMENT: Task.DOCUMENT_TEXT,
    ContentKind.TEXT: Task.TEXT_STATISTICS,
    ContentKind.ARCHIVE: Task.ARCHIVE_LISTING,
    ContentKind.VIDEO: Task.VIDEO_HLS,
    ContentKind.UNKNOWN: Task.TYPE_CHECK,
}


def task_for(kind: ContentKind) -> Task:
    return _TASK_BY_KIND[kind]


@dataclass(frozen=True, slots=True)
class JobError:
    code: str
    message: str
    # True when the job failed because its message ran out of retries: a redrive may start it again.
    retryable: bool = False

    def describe(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "retryable": self.retryable}


@dataclass(frozen=True, slots=True)
class Job:
    job_id: str
    task: Task
    status: JobStatus
    user_id: str
    file_id: str
    source: ObjectVersion
    detected_type: str
    queued_at: datetime
    started_at: datetime | None = None
    ended_at: datetime | None = None
    attempts: int = 0
    error: JobError | None = None
    result: dict[str, Any] = field(default_factory=dict)

    @property
    def restartable(self) -> bool:
        """Not terminal yet, or failed only because its retries ran out."""
        return not self.status.terminal or (
            self.status is JobStatus.FAILED and self.error is not None and self.error.retryable
        )
