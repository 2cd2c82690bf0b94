"""A file deleted (DELETE /v1/files/{id}) while its workflow runs: nothing is brought back, and the
workflow ends quietly (the stages raise FileDeleted; the failure and notify stages answer without it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from fileflow_common.pipeline import ObjectVersion, Stage
from fileflow_stages._runtime.content import Derivative
from fileflow_stages._runtime.stage import FileDeleted, run_stage
from fileflow_stages.analysis.handler import analyze as summarize_job
from fileflow_stages.detect.handler import detect_file
from fileflow_stages.failure import handler as failure_stage
from fileflow_stages.image.handler import render
from fileflow_stages.notify import handler as notify_stage
from tests import samples
from tests.unit.stage_fakes import SOURCE, FakeRecords, FakeStore, detected, install, payload

DELETED = {"Error": "FileDeleted", "Cause": '{"errorMessage": "file file-0001 was deleted"}'}


@dataclass(frozen=True)
class Context:
    function_name: str = "fileflow-stage"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:fileflow-stage"
    aws_request_id: str = "0b7a3c1e-0000-4000-8000-000000000001"


@pytest.fixture
def store() -> FakeStore:
    return FakeStore(samples.png())


@pytest.fixture
def records() -> FakeRecords:
    records = FakeRecords()
    records.queue()
    return records


@pytest.fixture(autouse=True)
def fake_services(monkeypatch: pytest.MonkeyPatch, store: FakeStore, records: FakeRecords) -> None:
    install(monkeypatch, store, records)


def delete(records: FakeRecords) -> None:
    """The API's delete: the tombstone, and the file's partition (its jobs) removed."""
    records.deleted = True
    records.jobs.clear()


def test_deleted_before_detection_starts_no_job_and_records_nothing(records: FakeRecords) -> None:
    delete(records)
    with pytest.raises(FileDeleted):
        run_stage(Stage.DETECT, payload(), detect_file)
    assert (records.jobs, records.states, records.events) == ({}, [], [])


def test_deleted_before_a_content_stage_writes_no_derivative(store: FakeStore, records: FakeRecords) -> None:
    run_stage(Stage.DETECT, payload(), detect_file)
    delete(records)
    with pytest.raises(FileDeleted):
        run_stage(Stage.IMAGE, payload(detect=detected()), render)
    assert store.writes == 0


def test_deleted_while_rendering_removes_the_derivatives_it_wrote(
    monkeypatch: pytest.MonkeyPatch, store: FakeStore, records: FakeRecords
) -> None:
    # Given the file is deleted after the first rendition is written
    run_stage(Stage.DETECT, payload(), detect_file)
    write = store.write_derivative

    def write_then_delete(key: str, derivative: Derivative, *, source: ObjectVersion) -> None:
        write(key, derivative, source=source)
        delete(records)

    monkeypatch.setattr(store, "write_derivative", write_then_delete)
    # When the stage records its results / Then it ends with FileDeleted, its renditions deleted again
    with pytest.raises(FileDeleted):
        run_stage(Stage.IMAGE, payload(detect=detected()), render)
    assert store.writes == 2
    assert store.written == {}


def test_a_job_gone_with_its_file_ends_the_next_stage(records: FakeRecords) -> None:
    # Given the job was purged (the tombstone not yet visible to the stage's first write)
    run_stage(Stage.DETECT, payload(), detect_file)
    records.jobs.clear()
    # When the analysis runs / Then FileDeleted, and no job is written back
    with pytest.raises(FileDeleted, match=SOURCE.job_id):
        run_stage(Stage.ANALYSIS, payload(detect=detected()), summarize_job)
    assert records.jobs == {}


def test_the_failure_stage_of_a_deleted_file_records_nothing_and_is_not_fatal(records: FakeRecords) -> None:
    delete(records)
    output: dict[str, Any] = failure_stage.lambda_handler(
        payload(detect=detected(), error=DELETED), Context()
    )
    assert output == {"outcome": "deleted", "fatal": False}
    assert (records.states, records.events, records.calls) == ([], [], [])


def test_the_failure_stage_of_a_file_deleted_meanwhile_is_not_fatal(records: FakeRecords) -> None:
    # Given a rejection caught, and the file deleted before the failure stage records it
    delete(records)
    error = {
        "Error": "FileRejected",
        "Cause": '{"errorMessage": "{\\"code\\": \\"CorruptFile\\", \\"message\\": \\"x\\"}"}',
    }
    # When it runs / Then nothing is recorded, and the workflow ends as a handled file
    output: dict[str, Any] = failure_stage.lambda_handler(payload(detect=detected(), error=error), Context())
    assert output == {"outcome": "deleted", "fatal": False}
    assert (records.states, records.events, records.jobs) == ([], [], {})


def test_nobody_is_notified_of_a_deleted_file(records: FakeRecords) -> None:
    delete(records)
    state = {"finalize": {"status": "processed"}}
    output: dict[str, Any] = notify_stage.lambda_handler(payload(detect=detected(), **state), Context())
    assert output == {"event": None}
    assert records.events == []


def test_a_rendition_is_not_rewritten_for_a_file_deleted_after_its_job_finished(
    store: FakeStore, records: FakeRecords
) -> None:
    # Given nothing left but a tombstone, its image stage retried after all
    store.data = samples.png()
    delete(records)
    with pytest.raises(FileDeleted):
        run_stage(Stage.IMAGE, payload(detect=detected()), render)
    assert store.writes == 0
