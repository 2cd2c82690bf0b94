"""FileProcessor with in-memory adapters: the job state machine, convergence, failures and retries."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from fileflow_common.keys import UploadKey
from fileflow_processor.analysis import Derivative
from fileflow_processor.jobs import Job, JobError, JobStatus, ObjectVersion, Task
from fileflow_processor.limits import Limits
from fileflow_processor.processing import (
    DeclaredFile,
    FileProcessingState,
    FileProcessor,
    FileStatus,
    ObjectGoneError,
    StoredContent,
)
from tests import samples

NOW = datetime(2026, 5, 4, 10, 20, tzinfo=UTC)
UPLOAD = UploadKey("user-alice", "file-0001")
SOURCE = ObjectVersion(bucket="bucket", key=UPLOAD.key, version_id="v1", etag="etag-1")


class FakeStore:
    def __init__(self, data: bytes | None, content_type: str | None = None) -> None:
        self.data = data
        self.content_type = content_type
        self.written: dict[str, Derivative] = {}
        self.writes = 0
        self.fail_writes = False

    def read(self, source: ObjectVersion, *, max_bytes: int) -> StoredContent:
        if self.data is None:
            raise ObjectGoneError("gone")
        if len(self.data) > max_bytes:
            return StoredContent(self.data[:65536], len(self.data), complete=False)
        return StoredContent(self.data, len(self.data), complete=True, content_type=self.content_type)

    def write_derivative(self, key: str, derivative: Derivative, *, source: ObjectVersion) -> None:
        if self.fail_writes:
            raise ConnectionError("S3 is down")
        self.writes += 1
        self.written[key] = derivative

    def delete_derivatives(self, keys: list[str]) -> None:
        for key in keys:
            self.written.pop(key, None)


class FakeJobs:
    """Enforces the same transitions as DynamoJobRepository's conditions."""

    def __init__(self) -> None:
        self.jobs: dict[str, Job] = {}

    def get(self, file_id: str, job_id: str) -> Job | None:
        return self.jobs.get(job_id)

    def create(self, job: Job) -> None:
        self.jobs.setdefault(job.job_id, job)

    def start(self, job: Job, *, at: datetime) -> Job | None:
        current = self.jobs[job.job_id]
        if not current.restartable:
            return None
        started = replace(
            current, status=JobStatus.RUNNING, started_at=at, attempts=current.attempts + 1, error=None
        )
        self.jobs[job.job_id] = started
        return started

    def finish(
        self, job: Job, *, status: JobStatus, at: datetime, result: dict[str, Any], error: JobError | None
    ) -> None:
        current = self.jobs[job.job_id]
        assert current.status is JobStatus.RUNNING, current.status
        self.jobs[job.job_id] = replace(current, status=status, ended_at=at, result=result, error=error)


class FakeFiles:
    def __init__(self, declared: DeclaredFile | None = None) -> None:
        self.declared_file = declared or DeclaredFile()
        self.states: list[FileProcessingState] = []

    def declared(self, upload: UploadKey) -> DeclaredFile:
        return self.declared_file

    def record_processing(self, upload: UploadKey, source: ObjectVersion, state: FileProcessingState) -> bool:
        self.states.append(state)
        return True


def make_processor(
    store: FakeStore, jobs: FakeJobs | None = None, files: FakeFiles | None = None, **limits: Any
):
    return FileProcessor(
        store=store,
        jobs=jobs or FakeJobs(),
        files=files or FakeFiles(),
        limits=Limits(thumbnail_sizes=(128,), **limits),
        max_attempts=3,
        clock=lambda: NOW,
    )


def test_an_image_job_goes_queued_running_succeeded_and_writes_renditions() -> None:
    # Given a stored JPEG
    store, jobs, files = FakeStore(samples.jpeg(320, 240)), FakeJobs(), FakeFiles()
    # When processed
    outcome = make_processor(store, jobs, files).process(UPLOAD, SOURCE, attempt=1)
    # Then one image job succeeded, its renditions are under derived/{user}/{file}/, and the file is processed
    [job] = jobs.jobs.values()
    assert (job.task, job.status, job.attempts) == (Task.IMAGE_RENDITIONS, JobStatus.SUCCEEDED, 1)
    assert job.job_id == SOURCE.job_id(Task.IMAGE_RENDITIONS)
    assert sorted(store.written) == [
        "derived/user-alice/file-0001/thumb-128.jpg",
        "derived/user-alice/file-0001/thumb-128.webp",
    ]
    assert [state.status for state in files.states] == [FileStatus.PROCESSING, FileStatus.PROCESSED]
    assert files.states[-1].detected_type == "image/jpeg"
    assert {d["key"] for d in files.states[-1].derivatives} == set(store.written)
    assert outcome == {
        "job_id": job.job_id,
        "task": "image_renditions",
        "status": "succeeded",
        "derivatives": ["thumb-128.webp", "thumb-128.jpg"],
    }


def test_a_redelivered_version_converges_without_repeating_side_effects() -> None:
    # Given a version processed once
    store, jobs = FakeStore(samples.jpeg(320, 240)), FakeJobs()
    processor = make_processor(store, jobs)
    first = processor.process(UPLOAD, SOURCE, attempt=1)
    writes = store.writes
    # When the same version is processed again (idempotency record expired or lost)
    again = processor.process(UPLOAD, SOURCE, attempt=1)
    # Then the job ids match, nothing is written again, and the outcome is the same
    assert again == first
    assert store.writes == writes
    assert len(jobs.jobs) == 1


def test_a_new_version_gets_a_new_job() -> None:
    store, jobs = FakeStore(samples.jpeg(320, 240)), FakeJobs()
    processor = make_processor(store, jobs)
    processor.process(UPLOAD, SOURCE, attempt=1)
    processor.process(UPLOAD, replace(SOURCE, version_id="v2", etag="etag-2"), attempt=1)
    assert len(jobs.jobs) == 2


@pytest.mark.parametrize(
    ("data", "code", "file_status"),
    [
        (samples.corrupt_image(), "CorruptFile", FileStatus.FAILED),
        (samples.decompression_bomb(), "DecompressionBomb", FileStatus.FAILED),
        (samples.zip_bomb(), "ZipBomb", FileStatus.FAILED),
        (samples.zip_slip(), "UnsafeArchivePath", FileStatus.FAILED),
        (b"\x7fELF" + b"\x00" * 200, "UnsupportedType", FileStatus.REJECTED),
    ],
    ids=["corrupt", "decompression-bomb", "zip-bomb", "zip-slip", "executable"],
)
def test_bad_files_fail_their_job_with_a_reason_and_are_not_retried(
    data: bytes, code: str, file_status: FileStatus
) -> None:
    # Given a stored file that is bad in itself
    store, jobs, files = FakeStore(data), FakeJobs(), FakeFiles()
    # When processed / Then nothing is raised (the message must not be retried)
    outcome = make_processor(store, jobs, files).process(UPLOAD, SOURCE, attempt=1)
    # And the job failed with the reason's code, no derivative was written, and the file says why
    [job] = jobs.jobs.values()
    assert job.status is JobStatus.FAILED
    assert job.error is not None
    assert (job.error.code, job.error.retryable) == (code, False)
    assert job.error.message
    assert store.written == {}
    assert files.states[-1].status is file_status
    assert files.states[-1].error == job.error
    assert outcome["status"] == "failed"


def test_an_object_over_the_size_limit_is_never_loaded_and_fails_its_job() -> None:
    store, jobs = FakeStore(samples.jpeg(320, 240)), FakeJobs()
    make_processor(store, jobs, max_object_bytes=1000).process(UPLOAD, SOURCE, attempt=1)
    [job] = jobs.jobs.values()
    assert job.task is Task.IMAGE_RENDITIONS  # detected from the first bytes
    assert job.error is not None
    assert job.error.code == "LimitExceeded"


def test_findings_and_type_mismatch_end_in_needs_review() -> None:
    # Given a JPEG the client declared as a PDF named report.pdf
    files = FakeFiles(DeclaredFile(content_type="application/pdf", filename="report.pdf"))
    store, jobs = FakeStore(samples.jpeg(320, 240)), FakeJobs()
    # When processed
    make_processor(store, jobs, files).process(UPLOAD, SOURCE, attempt=1)
    # Then it is handled as the JPEG it is, and the job and the file need review
    [job] = jobs.jobs.values()
    assert job.task is Task.IMAGE_RENDITIONS
    assert job.status is JobStatus.NEEDS_REVIEW
    assert job.result["type_mismatch"]["declared_content_type"] == "application/pdf"
    assert files.states[-1].status is FileStatus.NEEDS_REVIEW
    assert files.states[-1].type_mismatch["filename_extension"] == ".pdf"
    assert store.written  # renditions were still made


def test_the_s3_content_type_counts_as_declared_when_the_api_recorded_none() -> None:
    store = FakeStore(samples.png(32, 32), content_type="image/jpeg")
    files = FakeFiles()
    make_processor(store, files=files).process(UPLOAD, SOURCE, attempt=1)
    assert files.states[-1].type_mismatch["declared_content_type"] == "image/jpeg"


def test_a_transient_error_is_raised_for_retry_and_the_last_attempt_marks_the_job() -> None:
    # Given S3 refusing writes
    store, jobs = FakeStore(samples.jpeg(320, 240)), FakeJobs()
    store.fail_writes = True
    processor = make_processor(store, jobs)
    # When the first two attempts fail / Then the error propagates and the job stays running
    for attempt in (1, 2):
        with pytest.raises(ConnectionError):
            processor.process(UPLOAD, SOURCE, attempt=attempt)
        [job] = jobs.jobs.values()
        assert job.status is JobStatus.RUNNING
    # When the last attempt fails too / Then the job is failed, retryable (the message is dead-lettered)
    with pytest.raises(ConnectionError):
        processor.process(UPLOAD, SOURCE, attempt=3)
    [job] = jobs.jobs.values()
    assert job.status is JobStatus.FAILED
    assert job.error is not None
    assert (job.error.code, job.error.retryable) == ("RetriesExhausted", True)
    assert "S3 is down" in job.error.message
    # When the message is redriven after the fix / Then the same job runs again and succeeds
    store.fail_writes = False
    processor.process(UPLOAD, SOURCE, attempt=1)
    [job] = jobs.jobs.values()
    assert (job.status, job.attempts, job.error) == (JobStatus.SUCCEEDED, 4, None)


def test_a_version_that_is_gone_creates_no_job() -> None:
    jobs = FakeJobs()
    assert make_processor(FakeStore(None), jobs).process(UPLOAD, SOURCE, attempt=1) == {
        "status": "object_gone"
    }
    assert jobs.jobs == {}


@pytest.mark.parametrize(
    ("data", "task", "content_type"),
    [
        (samples.pdf(), Task.DOCUMENT_TEXT, "application/pdf"),
        (samples.CSV.encode(), Task.TEXT_STATISTICS, "text/csv"),
        (samples.tar_file(), Task.ARCHIVE_LISTING, "application/x-tar"),
    ],
)
def test_each_kind_goes_to_its_task(data: bytes, task: Task, content_type: str) -> None:
    jobs, files = FakeJobs(), FakeFiles()
    make_processor(FakeStore(data), jobs, files).process(UPLOAD, SOURCE, attempt=1)
    [job] = jobs.jobs.values()
    assert (job.task, job.status) == (task, JobStatus.SUCCEEDED)
    assert files.states[-1].detected_type == content_type
