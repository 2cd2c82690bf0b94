"""What the stages know of a file while its workflow runs: the execution's state and the records' shapes.

Step Functions passes every stage the same small state (ids and keys, never file content: the 256 KB
limit), each stage adding its own short output under its name (`$.detect`, `$.content`, ...).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from fileflow_common.errors import FileflowError
from fileflow_common.files import FileStatus
from fileflow_common.keys import UploadKey
from fileflow_common.pipeline import ObjectVersion
from fileflow_stages._runtime.content import ContentKind
from fileflow_stages._runtime.integrity import Integrity
from fileflow_stages._runtime.jobs import JobError, Task


class ObjectGoneError(FileflowError):
    """The version no longer exists (deleted, or overwritten in an unversioned bucket)."""

    code = "ObjectGone"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class FileRef(_Model):
    """The execution's input, written by the starter: which stored version of which file."""

    user_id: str
    file_id: str
    bucket: str
    key: str
    version_id: str | None = None
    etag: str
    size: int = Field(ge=0)
    job_id: str
    correlation_id: str | None = None

    @property
    def upload(self) -> UploadKey:
        return UploadKey(self.user_id, self.file_id)

    @property
    def source(self) -> ObjectVersion:
        return ObjectVersion(bucket=self.bucket, key=self.key, version_id=self.version_id, etag=self.etag)


class Detected(_Model):
    """The detect stage's output: what the content is, and which stage processes it."""

    kind: ContentKind
    mime: str
    label: str
    task: Task
    mismatch: dict[str, str] = Field(default_factory=dict)


class CaughtError(_Model):
    """What a `Catch` puts at `$.error`: the error's name and its cause (a Lambda error's JSON)."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    error: str = Field(alias="Error")
    cause: str | None = Field(default=None, alias="Cause")


class WorkflowState(_Model):
    model_config = ConfigDict(frozen=True, extra="allow")

    file: FileRef
    detect: Detected | None = None
    error: CaughtError | None = None


class StageInvocation(_Model):
    """The payload every stage task sends: the state, plus the execution's id and the retry count."""

    state: WorkflowState
    execution_arn: str | None = None
    retry_count: int = 0
    # A task that waits (`waitForTaskToken`, the review stage): the token that resumes the execution.
    task_token: str | None = None


@dataclass(frozen=True, slots=True)
class DeclaredFile:
    """What the client said about the file (written by the upload API); any may be unknown."""

    content_type: str | None = None
    filename: str | None = None
    sha256: str | None = None  # hex SHA-256 of the whole file
    upload_id: str | None = None
    callback_url: str | None = None  # the upload's one-off webhook target (checked at initiate)
    analysis_mode: str | None = None  # the upload's `analysis`: local, auto or deep (the AI stage's policy)


@dataclass(frozen=True, slots=True)
class FileProcessingState:
    """The processing attributes of the file item; `final` ones also carry derivatives and analysis."""

    status: FileStatus
    job_id: str
    detected_type: str
    detected_kind: ContentKind
    at: datetime
    final: bool = False
    type_mismatch: dict[str, str] = field(default_factory=dict)
    derivatives: list[dict[str, Any]] = field(default_factory=list)
    analysis: dict[str, Any] = field(default_factory=dict)
    error: JobError | None = None
    # How the declared SHA-256 was verified for this version; None: not (yet), or nothing declared.
    integrity: Integrity | None = None
    # The human review's outcome (fileflow_common.reviews), when the file had one.
    review: dict[str, Any] | None = None
