"""The stages' runner and rules with in-memory adapters: events, error mapping, job transitions, outcomes.

`run_stage` is called with each stage's work function and a payload shaped as the state machine sends it;
FakeRecords (tests/unit/stage_fakes.py) enforces the conditions of DynamoRecords (the tombstone, the
version, the job's transitions).
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from fileflow_common.files import FileStatus
from fileflow_common.pipeline import Stage
from fileflow_stages._runtime.jobs import JobError, JobStatus, Task
from fileflow_stages._runtime.stage import (
    FileDeleted,
    FileRejected,
    InvalidStageInputError,
    StageContext,
    StageResult,
    TransientStageError,
    run_stage,
)
from fileflow_stages._runtime.state import CaughtError, DeclaredFile, StageInvocation
from fileflow_stages.detect.handler import detect_file
from fileflow_stages.failure.handler import job_error, record_failure
from fileflow_stages.image.handler import render
from fileflow_stages.notify.handler import outcome_of
from tests import samples
from tests.unit.stage_fakes import (
    EXECUTION_ARN,
    SOURCE,
    UPLOAD,
    FakeRecords,
    FakeStore,
    detected,
    install,
    payload,
    run_pipeline,
)


@pytest.fixture
def store() -> FakeStore:
    return FakeStore(samples.jpeg(320, 240))


@pytest.fixture
def records() -> FakeRecords:
    records = FakeRecords()
    records.queue()
    return records


@pytest.fixture(autouse=True)
def fake_services(monkeypatch: pytest.MonkeyPatch, store: FakeStore, records: FakeRecords) -> None:
    install(monkeypatch, store, records)


# --- the runner ---------------------------------------------------------------------------------------------


def test_the_starters_input_is_the_state_the_stages_read() -> None:
    invocation = StageInvocation.model_validate(payload())
    assert (invocation.state.file.source, invocation.state.file.job_id) == (SOURCE, SOURCE.job_id)
    assert (invocation.state.file.upload, invocation.state.file.correlation_id) == (UPLOAD, "corr-1")


def test_a_stage_records_started_then_succeeded_and_returns_its_small_output(records: FakeRecords) -> None:
    # When the detect stage runs
    output = run_stage(Stage.DETECT, payload(), detect_file)
    # Then its output is what the Choice reads, and its events name the execution and the correlation id
    assert (output["kind"], output["task"], output["already_finished"]) == (
        "image",
        "image_renditions",
        False,
    )
    assert records.stage_events() == [("detect", "started"), ("detect", "succeeded")]
    assert {(e.execution_arn, e.correlation_id) for e in records.events} == {(EXECUTION_ARN, "corr-1")}
    succeeded = records.events[-1].detail
    assert (succeeded["kind"], succeeded["type"], succeeded["duration_ms"] >= 0) == (
        "image",
        "image/jpeg",
        True,
    )


def test_a_bad_file_becomes_file_rejected_with_its_code_and_a_failed_event(
    store: FakeStore, records: FakeRecords
) -> None:
    # Given a corrupt image whose detect stage ran
    store.data = samples.corrupt_image()
    run_stage(Stage.DETECT, payload(), detect_file)
    # When the image stage runs / Then FileRejected carries {code, message} as JSON (never retried)
    with pytest.raises(FileRejected) as raised:
        run_stage(Stage.IMAGE, payload(detect=detected()), render)
    rejection = json.loads(str(raised.value))
    assert rejection["code"] == "CorruptFile"
    assert rejection["message"]
    # And the stage's failed event says why; nothing was derived
    assert records.stage_events()[-2:] == [("image", "started"), ("image", "failed")]
    assert records.events[-1].detail == rejection
    assert store.written == {}


def test_a_failed_event_that_cannot_be_written_does_not_hide_the_rejection(
    store: FakeStore, records: FakeRecords
) -> None:
    store.data = samples.corrupt_image()
    records.fail_failed_events = True
    with pytest.raises(FileRejected, match="CorruptFile"):
        run_stage(Stage.IMAGE, payload(detect=detected()), render)


@pytest.mark.parametrize(
    ("error", "name"),
    [
        (
            ClientError({"Error": {"Code": "SlowDown", "Message": "Reduce your request rate"}}, "GetObject"),
            "SlowDown",
        ),
        (EndpointConnectionError(endpoint_url="https://s3.amazonaws.com"), "EndpointConnectionError"),
    ],
    ids=["client-error", "connection-error"],
)
def test_a_dependency_error_becomes_a_transient_stage_error(
    store: FakeStore, error: Exception, name: str
) -> None:
    store.fail_reads = error
    with pytest.raises(TransientStageError, match=name):
        run_stage(Stage.DETECT, payload(), detect_file)


def test_a_version_that_is_gone_becomes_file_deleted_and_starts_no_job(
    store: FakeStore, records: FakeRecords
) -> None:
    store.data = None
    with pytest.raises(FileDeleted, match="gone"):
        run_stage(Stage.DETECT, payload(), detect_file)
    assert (records.job.status, records.states) == (JobStatus.QUEUED, [])


def test_an_invalid_payload_is_a_bug_named_by_its_location() -> None:
    with pytest.raises(InvalidStageInputError, match=r"state\.file"):
        run_stage(Stage.DETECT, {"state": {}, "execution_arn": EXECUTION_ARN}, detect_file)


def test_any_other_error_propagates_as_itself() -> None:
    def broken(context: StageContext) -> StageResult:
        raise KeyError("a bug")

    with pytest.raises(KeyError, match="a bug"):
        run_stage(Stage.ANALYSIS, payload(), broken)


# --- the job and the file item, stage by stage --------------------------------------------------------------


def test_an_image_goes_queued_running_succeeded_and_the_file_processing_processed(
    store: FakeStore, records: FakeRecords
) -> None:
    # When the whole happy path runs
    state = run_pipeline()
    # Then the job ran once, with its renditions; the file item went processing -> processed
    assert (records.job.task, records.job.status, records.job.attempts) == (
        Task.IMAGE_RENDITIONS,
        JobStatus.SUCCEEDED,
        1,
    )
    assert sorted(store.written) == [
        "derived/user-alice/file-0001/thumb-128.jpg",
        "derived/user-alice/file-0001/thumb-128.webp",
    ]
    assert [s.status for s in records.states] == [FileStatus.PROCESSING, FileStatus.PROCESSED]
    assert {d["key"] for d in records.states[-1].derivatives} == set(store.written)
    # And the derivative records moved from the job to the file item; the job is finished last
    assert "derivative_records" not in records.job.result
    assert records.calls[-2:] == ["record_processing:processed", "finish_job:succeeded"]
    assert (state["finalize"], state["notify"]) == ({"status": "processed"}, {"event": "file.processed"})


def test_a_finished_job_is_never_run_again(store: FakeStore, records: FakeRecords) -> None:
    # Given a file processed once
    run_pipeline()
    writes, states, job = store.writes, list(records.states), records.job
    # When its stages run again (a replayed execution, a retried stage)
    again = run_pipeline()
    # Then nothing is read, written or recorded again, and the outcome stands
    assert (store.writes, records.states, records.job) == (writes, states, job)
    assert again["finalize"] == {"status": "processed", "already_finished": True}
    assert [again[name]["already_finished"] for name in ("detect", "content", "analysis")] == [True] * 3


def test_a_job_failed_for_lack_of_retries_runs_again(store: FakeStore, records: FakeRecords) -> None:
    # Given the job failed retryable (its workflow ran out of retries)
    records.jobs[SOURCE.job_id] = replace(
        records.job,
        status=JobStatus.FAILED,
        attempts=1,
        error=JobError("TransientStageError", "S3", retryable=True),
    )
    # When its workflow runs again / Then the same job runs and succeeds
    run_pipeline()
    assert (records.job.status, records.job.attempts, records.job.error) == (JobStatus.SUCCEEDED, 2, None)


def test_an_object_over_the_size_limit_is_never_loaded_and_is_rejected(
    monkeypatch: pytest.MonkeyPatch, store: FakeStore, records: FakeRecords
) -> None:
    install(monkeypatch, store, records, max_object_bytes=1000)
    run_stage(Stage.DETECT, payload(), detect_file)
    with pytest.raises(FileRejected, match="LimitExceeded"):
        run_stage(Stage.IMAGE, payload(detect=detected()), render)
    assert records.job.task is Task.IMAGE_RENDITIONS  # detected from the first bytes
    assert store.written == {}


def test_findings_or_a_type_mismatch_end_in_needs_review(store: FakeStore, records: FakeRecords) -> None:
    # Given a JPEG the client declared as a PDF named report.pdf
    records.declared_file = DeclaredFile(content_type="application/pdf", filename="report.pdf")
    # When processed / Then it is handled as the JPEG it is, and the job and the file need review
    state = run_pipeline()
    assert state["detect"]["mismatch"]["declared_content_type"] == "application/pdf"
    assert records.job.status is JobStatus.NEEDS_REVIEW
    assert records.job.result["type_mismatch"]["filename_extension"] == ".pdf"
    assert records.states[-1].status is FileStatus.NEEDS_REVIEW
    assert store.written  # renditions were still made
    assert state["notify"] == {"event": "file.needs_review"}


def test_the_s3_content_type_counts_as_declared_when_the_api_recorded_none(store: FakeStore) -> None:
    store.data, store.content_type = samples.png(32, 32), "image/jpeg"
    output = run_stage(Stage.DETECT, payload(), detect_file)
    assert output["mismatch"]["declared_content_type"] == "image/jpeg"


def test_results_of_another_version_are_kept_on_the_job_only(records: FakeRecords) -> None:
    # Given the file item now describes a newer version / When this version's workflow runs
    records.source_tag = "etag-2#v2"
    run_pipeline()
    # Then its job finished, but the item got none of its states
    assert (records.job.status, records.states) == (JobStatus.SUCCEEDED, [])


# --- the failure path ---------------------------------------------------------------------------------------

LAMBDA_CAUSE = json.dumps(
    {
        "errorMessage": json.dumps({"code": "ZipBomb", "message": "entry expands 1029x"}),
        "errorType": "FileRejected",
        "requestId": "8f5a3c1e-2b4d-4e6f-9a7b-1c2d3e4f5a6b",
        "stackTrace": ['  File "/var/task/fileflow_stages/_runtime/stage.py", line 160\n'],
    }
)


@pytest.mark.parametrize(
    ("caught", "expected"),
    [
        (
            CaughtError(Error="FileRejected", Cause=LAMBDA_CAUSE),
            JobError("ZipBomb", "entry expands 1029x", False),
        ),
        (
            CaughtError(Error="FileRejected", Cause=json.dumps({"errorMessage": "not json"})),
            JobError("RejectedContent", "not json", False),
        ),
        (
            CaughtError(Error="TransientStageError", Cause=json.dumps({"errorMessage": "SlowDown: rate"})),
            JobError("TransientStageError", "SlowDown: rate", True),
        ),
        (
            CaughtError(Error="States.Timeout", Cause="task timed out"),
            JobError("States.Timeout", "task timed out", True),
        ),
        (CaughtError(Error="States.TaskFailed"), JobError("States.TaskFailed", "States.TaskFailed", True)),
    ],
    ids=["rejected", "rejected-unparsable", "transient", "timeout", "no-cause"],
)
def test_a_caught_error_becomes_the_jobs_error(caught: CaughtError, expected: JobError) -> None:
    # A bad file keeps its stage's code and is not retryable; anything else is named and retryable
    assert job_error(caught) == expected


def test_a_file_rejected_at_detection_keeps_its_detected_type(store: FakeStore, records: FakeRecords) -> None:
    # Given an executable whose detect stage rejected it (the Catch's state has no $.detect)
    store.data = b"\x7fELF" + b"\x00" * 64
    with pytest.raises(FileRejected) as raised:
        run_stage(Stage.DETECT, payload(), detect_file)
    error = {"Error": "FileRejected", "Cause": json.dumps({"errorMessage": str(raised.value)})}
    # When the failure stage records it
    output = run_stage(Stage.FAILED, payload(error=error), record_failure, record_started=False)
    # Then the file is rejected (not failed), with the type the detect stage found, and the job failed
    assert output == {"outcome": "rejected", "fatal": False, "code": "UnsupportedType", "status": "rejected"}
    final = records.states[-1]
    assert (final.status, final.detected_type, final.final) == (
        FileStatus.REJECTED,
        "application/x-executable",
        True,
    )
    assert (records.job.status, records.job.task) == (JobStatus.FAILED, Task.TYPE_CHECK)
    # And one event records the failure, with the code
    assert records.stage_events()[-1:] == [("failed", "succeeded")]
    assert records.events[-1].detail["code"] == "UnsupportedType"


def test_an_error_that_is_not_the_files_fault_is_fatal(records: FakeRecords) -> None:
    error = {"Error": "TransientStageError", "Cause": json.dumps({"errorMessage": "SlowDown: rate"})}
    output = run_stage(
        Stage.FAILED, payload(detect=detected(), error=error), record_failure, record_started=False
    )
    assert output == {"outcome": "error", "fatal": True, "code": "TransientStageError", "status": "failed"}
    assert records.job.error == JobError("TransientStageError", "SlowDown: rate", retryable=True)


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ({"finalize": {"status": "processed"}}, "processed"),
        ({"finalize": {"status": "needs_review", "already_finished": True}}, "needs_review"),
        ({"failure": {"outcome": "rejected", "status": "rejected"}}, "rejected"),
        ({"failure": {"outcome": "deleted", "fatal": False}}, None),
        ({}, None),
    ],
)
def test_the_outcome_notified_is_finalizes_or_the_failure_paths(
    state: dict[str, Any], expected: str | None
) -> None:
    assert outcome_of(state) == expected
