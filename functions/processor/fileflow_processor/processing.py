"""Domain logic: process one stored version of an original. No boto3 here; adapters are injected.

read (size-guarded) -> detect by content -> job queued -> running -> the handler of the real type ->
derivatives written -> job succeeded / needs_review / failed -> file item updated.
A bad file (RejectedContentError) fails its job and is NOT retried. Anything else (S3 or DynamoDB
errors, bugs) propagates: the message is retried, and the last attempt marks the job failed with
`retryable` so that a redrive after the fix starts it again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from aws_lambda_powertools.metrics import MetricUnit

from fileflow_common.clock import utc_now
from fileflow_common.errors import FileflowError
from fileflow_common.keys import UploadKey, derived_key
from fileflow_common.observability import logger, metrics
from fileflow_processor import archives, documents, images, text
from fileflow_processor.analysis import (
    Analysis,
    ContentKind,
    Derivative,
    LimitExceededError,
    RejectedContentError,
    UnsupportedTypeError,
)
from fileflow_processor.detection import DOCX, PDF, DetectedType, declared_mismatch, detect
from fileflow_processor.jobs import Job, JobError, JobStatus, ObjectVersion, Task, task_for
from fileflow_processor.limits import Limits


class FileStatus(StrEnum):
    """The file item's status as the processor moves it (the upload API sets the ones before)."""

    PROCESSING = "processing"
    PROCESSED = "processed"
    NEEDS_REVIEW = "needs_review"
    FAILED = "failed"
    # Content of a type Fileflow does not process.
    REJECTED = "rejected"


class FileDeletedError(FileflowError):
    """The file was deleted (DELETE /v1/files/{id}) while its processing ran: nothing may bring it back."""

    code = "FileDeleted"


class ObjectGoneError(FileflowError):
    """The version no longer exists (deleted, or overwritten in an unversioned bucket)."""

    code = "ObjectGone"


@dataclass(frozen=True, slots=True)
class StoredContent:
    data: bytes
    size: int
    # False when the object was larger than the limit: `data` is then only its first bytes.
    complete: bool
    content_type: str | None = None


@dataclass(frozen=True, slots=True)
class DeclaredFile:
    """What the client said about the file (written by the upload API); both may be unknown."""

    content_type: str | None = None
    filename: str | None = None


@dataclass(frozen=True, slots=True)
class FileProcessingState:
    """The processor's own attributes of the file item."""

    status: FileStatus
    job_id: str
    detected_type: str
    detected_kind: ContentKind
    at: datetime
    type_mismatch: dict[str, str] = field(default_factory=dict)
    derivatives: list[dict[str, Any]] = field(default_factory=list)
    analysis: dict[str, Any] = field(default_factory=dict)
    error: JobError | None = None


class ObjectStore(Protocol):
    def read(self, source: ObjectVersion, *, max_bytes: int) -> StoredContent:
        """The object's bytes, or its first bytes only when it is larger than max_bytes.

        Raise ObjectGoneError when this version no longer exists.
        """
        ...

    def write_derivative(self, key: str, derivative: Derivative, *, source: ObjectVersion) -> None: ...

    def delete_derivatives(self, keys: list[str]) -> None:
        """Remove derivatives written for a file that was deleted meanwhile (every version of each key)."""
        ...


class JobRepository(Protocol):
    def get(self, file_id: str, job_id: str) -> Job | None: ...

    def create(self, job: Job) -> None:
        """Record the job as queued unless it exists; FileDeletedError if its file was deleted."""
        ...

    def start(self, job: Job, *, at: datetime) -> Job | None:
        """queued/running (or failed for lack of retries) -> running; None when it is terminal."""
        ...

    def finish(
        self,
        job: Job,
        *,
        status: JobStatus,
        at: datetime,
        result: dict[str, Any],
        error: JobError | None,
    ) -> None:
        """running -> a terminal status."""
        ...


class ProcessingRecords(Protocol):
    def declared(self, upload: UploadKey) -> DeclaredFile: ...

    def record_processing(self, upload: UploadKey, source: ObjectVersion, state: FileProcessingState) -> bool:
        """Update the processor's attributes of the file item unless it now describes another version.

        Raise FileDeletedError when the file was deleted.
        """
        ...


_JOB_METRICS = {
    JobStatus.SUCCEEDED: "JobsSucceeded",
    JobStatus.NEEDS_REVIEW: "JobsNeedingReview",
    JobStatus.FAILED: "JobsFailed",
}
# The head read of an object over the size limit: enough to detect its type.
DETECTION_BYTES = 64 * 1024


def analyze_content(detected: DetectedType, data: bytes, limits: Limits) -> Analysis:
    """Dispatch to the handler of the detected type; raise RejectedContentError for bad content."""
    match detected.kind:
        case ContentKind.IMAGE:
            return images.render_image(data, limits)
        case ContentKind.DOCUMENT if detected is PDF:
            return documents.analyze_pdf(data, limits)
        case ContentKind.DOCUMENT if detected is DOCX:
            return documents.analyze_docx(data, limits)
        case ContentKind.TEXT:
            return text.analyze_text(data, limits)
        case ContentKind.ARCHIVE if detected.label == "zip":
            return archives.list_zip(data, limits)
        case ContentKind.ARCHIVE:
            return archives.list_tar(data, detected.label, limits)
    raise UnsupportedTypeError(
        f"content is {detected.label} ({detected.mime}); Fileflow processes JPEG, PNG, WEBP and GIF images, "
        "PDF and DOCX documents, text (plain, CSV, JSON, Markdown), ZIP and TAR archives"
    )


@dataclass(frozen=True, slots=True)
class _Verdict:
    job_status: JobStatus
    file_status: FileStatus
    analysis: Analysis | None = None
    error: JobError | None = None


class FileProcessor:
    def __init__(
        self,
        *,
        store: ObjectStore,
        jobs: JobRepository,
        files: ProcessingRecords,
        limits: Limits,
        max_attempts: int,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._store = store
        self._jobs = jobs
        self._files = files
        self._limits = limits
        self._max_attempts = max_attempts
        self._clock = clock

    def process(self, upload: UploadKey, source: ObjectVersion, *, attempt: int) -> dict[str, Any]:
        """Process one version; `attempt` is the message's receive count. Returns a short outcome."""
        try:
            content = self._store.read(source, max_bytes=self._limits.max_object_bytes)
        except ObjectGoneError:
            logger.warning("object version gone: nothing to process", extra={"key": source.key})
            return {"status": "object_gone"}
        detected = detect(content.data)
        task = task_for(detected)
        job_id = source.job_id(task)
        existing = self._jobs.get(upload.file_id, job_id)
        if existing is not None and not existing.restartable:
            logger.info(
                "job already finished: nothing repeated", extra={"job_id": job_id, "status": existing.status}
            )
            return _outcome(
                existing.job_id, task, existing.status, derivatives=existing.result.get("derivatives", [])
            )

        queued = existing or Job(
            job_id=job_id,
            task=task,
            status=JobStatus.QUEUED,
            user_id=upload.user_id,
            file_id=upload.file_id,
            source=source,
            detected_type=detected.mime,
            queued_at=self._clock(),
        )
        try:
            if existing is None:
                self._jobs.create(queued)
            job = self._jobs.start(queued, at=self._clock())
        except FileDeletedError:
            return _file_deleted(source)
        if job is None:
            finished = self._jobs.get(upload.file_id, job_id)
            if finished is None:  # start() refuses terminal jobs, and jobs are deleted only with their file
                return _file_deleted(source)
            logger.info("job finished concurrently: nothing repeated", extra={"job_id": job_id})
            return _outcome(job_id, task, finished.status, derivatives=finished.result.get("derivatives", []))
        try:
            return self._run(upload, source, job, detected, content)
        except FileDeletedError:
            return _file_deleted(source)
        except Exception as exc:
            if attempt >= self._max_attempts:
                # The message goes to the DLQ now: the job says so, and a redrive may start it again.
                error = JobError("RetriesExhausted", f"{type(exc).__name__}: {exc}"[:1000], retryable=True)
                self._jobs.finish(job, status=JobStatus.FAILED, at=self._clock(), result={}, error=error)
            raise

    def _run(
        self,
        upload: UploadKey,
        source: ObjectVersion,
        job: Job,
        detected: DetectedType,
        content: StoredContent,
    ) -> dict[str, Any]:
        declared = self._files.declared(upload)
        mismatch = declared_mismatch(
            detected, declared.content_type or content.content_type, declared.filename
        )
        self._record(upload, source, job, detected, FileStatus.PROCESSING, mismatch=mismatch)

        verdict = self._verdict(detected, content, mismatch)
        analysis = verdict.analysis
        written: list[dict[str, Any]] = []
        try:
            for derivative in analysis.derivatives if analysis else []:
                key = derived_key(upload.user_id, upload.file_id, derivative.name)
                written.append({**derivative.describe(), "key": key})
                self._store.write_derivative(key, derivative, source=source)
            return self._conclude(upload, source, job, detected, verdict, mismatch, written)
        except FileDeletedError:
            # Deleted while running: the API's cleanup may have listed derived/ before these were written.
            self._store.delete_derivatives([entry["key"] for entry in written])
            raise

    def _conclude(
        self,
        upload: UploadKey,
        source: ObjectVersion,
        job: Job,
        detected: DetectedType,
        verdict: _Verdict,
        mismatch: dict[str, str],
        written: list[dict[str, Any]],
    ) -> dict[str, Any]:
        analysis = verdict.analysis

        result: dict[str, Any] = {
            "detected_type": (analysis and analysis.content_type) or detected.mime,
            "derivatives": [entry["name"] for entry in written],
        }
        if analysis:
            result["analysis"] = analysis.result
            if analysis.findings:
                result["findings"] = [finding.describe() for finding in analysis.findings]
        if mismatch:
            result["type_mismatch"] = mismatch
        self._record(
            upload,
            source,
            job,
            detected,
            verdict.file_status,
            mismatch=mismatch,
            derivatives=written,
            analysis=result.get("analysis", {}),
            error=verdict.error,
            refined_type=result["detected_type"],
        )
        # Last: a finished job means its derivatives and the file item are in place.
        self._jobs.finish(
            job, status=verdict.job_status, at=self._clock(), result=result, error=verdict.error
        )
        metrics.add_metric(name=_JOB_METRICS[verdict.job_status], unit=MetricUnit.Count, value=1)
        logger.info(
            "file processed",
            extra={
                "key": source.key,
                "job_id": job.job_id,
                "task": job.task,
                "status": verdict.job_status,
                "detected_type": result["detected_type"],
                "error": verdict.error.describe() if verdict.error else None,
            },
        )
        return _outcome(job.job_id, job.task, verdict.job_status, derivatives=result["derivatives"])

    def _verdict(self, detected: DetectedType, content: StoredContent, mismatch: dict[str, str]) -> _Verdict:
        try:
            if not content.complete:
                raise LimitExceededError(
                    f"object of {content.size} bytes exceeds the {self._limits.max_object_bytes}-byte limit"
                )
            analysis = analyze_content(detected, content.data, self._limits)
        except RejectedContentError as exc:
            status = FileStatus.REJECTED if isinstance(exc, UnsupportedTypeError) else FileStatus.FAILED
            return _Verdict(JobStatus.FAILED, status, error=JobError(exc.code, str(exc)[:1000]))
        if analysis.findings or mismatch:
            return _Verdict(JobStatus.NEEDS_REVIEW, FileStatus.NEEDS_REVIEW, analysis)
        return _Verdict(JobStatus.SUCCEEDED, FileStatus.PROCESSED, analysis)

    def _record(
        self,
        upload: UploadKey,
        source: ObjectVersion,
        job: Job,
        detected: DetectedType,
        status: FileStatus,
        *,
        mismatch: dict[str, str],
        derivatives: list[dict[str, Any]] | None = None,
        analysis: dict[str, Any] | None = None,
        error: JobError | None = None,
        refined_type: str | None = None,
    ) -> None:
        state = FileProcessingState(
            status=status,
            job_id=job.job_id,
            detected_type=refined_type or detected.mime,
            detected_kind=detected.kind,
            at=self._clock(),
            type_mismatch=mismatch,
            derivatives=derivatives or [],
            analysis=analysis or {},
            error=error,
        )
        if not self._files.record_processing(upload, source, state):
            logger.info(
                "file item describes a newer version: results kept on the job only", extra={"key": source.key}
            )


def _file_deleted(source: ObjectVersion) -> dict[str, Any]:
    logger.info("file deleted while processing: nothing recorded", extra={"key": source.key})
    return {"status": "file_deleted"}


def _outcome(job_id: str, task: Task, status: JobStatus, *, derivatives: list[str]) -> dict[str, Any]:
    return {"job_id": job_id, "task": task.value, "status": status.value, "derivatives": derivatives}
