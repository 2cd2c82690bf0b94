"""A file deleted (DELETE /v1/files/{id}) while its processing runs: nothing is brought back."""

from __future__ import annotations

from datetime import datetime

from fileflow_common.keys import UploadKey
from fileflow_processor.jobs import Job, ObjectVersion
from fileflow_processor.processing import FileDeletedError, FileProcessingState, FileStatus
from tests import samples
from tests.unit.test_processing import SOURCE, UPLOAD, FakeFiles, FakeJobs, FakeStore, make_processor


class DeletedAfter(FakeFiles):
    """The file's tombstone appears after `allowed` processing records (0: deleted before any)."""

    def __init__(self, allowed: int) -> None:
        super().__init__()
        self.allowed = allowed

    def record_processing(self, upload: UploadKey, source: ObjectVersion, state: FileProcessingState) -> bool:
        if len(self.states) >= self.allowed:
            raise FileDeletedError("deleted")
        return super().record_processing(upload, source, state)


class DeletedJobs(FakeJobs):
    def create(self, job: Job) -> None:
        raise FileDeletedError("deleted")


def test_deleted_before_the_job_exists_creates_nothing() -> None:
    # Given a file deleted before its job is created (the job's transaction checks the tombstone)
    store, jobs, files = FakeStore(samples.png()), DeletedJobs(), FakeFiles()
    # When its version is processed
    outcome = make_processor(store, jobs, files).process(UPLOAD, SOURCE, attempt=1)
    # Then no job, no derivative, no file record: the outcome says why
    assert outcome == {"status": "file_deleted"}
    assert (jobs.jobs, store.written, files.states) == ({}, {}, [])


def test_deleted_while_rendering_removes_the_derivatives_it_wrote() -> None:
    # Given a file deleted after the processor recorded "processing" but before its results
    store, jobs, files = FakeStore(samples.png()), FakeJobs(), DeletedAfter(allowed=1)
    # When the processing finishes
    outcome = make_processor(store, jobs, files).process(UPLOAD, SOURCE, attempt=1)
    # Then it acknowledges (no retry), and the derivatives it had written are deleted again
    assert outcome == {"status": "file_deleted"}
    assert store.writes == 2
    assert store.written == {}
    assert [state.status for state in files.states] == [FileStatus.PROCESSING]


def test_deleted_before_processing_starts_writes_no_derivative() -> None:
    store, jobs, files = FakeStore(samples.png()), FakeJobs(), DeletedAfter(allowed=0)
    assert make_processor(store, jobs, files).process(UPLOAD, SOURCE, attempt=1) == {"status": "file_deleted"}
    assert store.writes == 0


def test_a_job_gone_with_its_file_is_not_an_error() -> None:
    # Given the API deleted the job record between its creation and its start
    class Vanishing(FakeJobs):
        def start(self, job: Job, *, at: datetime) -> Job | None:
            self.jobs.clear()
            return None

    store, jobs, files = FakeStore(samples.png()), Vanishing(), FakeFiles()
    # Then the record is acknowledged: nothing to retry, nothing written
    assert make_processor(store, jobs, files).process(UPLOAD, SOURCE, attempt=1) == {"status": "file_deleted"}
    assert store.written == {}
