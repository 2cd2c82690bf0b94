"""The workflow's stages in-process on moto, run the way the state machine runs them (workflow.py).

S3 objects in (through the starter); derivatives, jobs, stage events and file items out, for good files,
bad files, failing dependencies, older versions and files deleted while their workflow runs.
"""

from __future__ import annotations

import functools
import io
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError
from PIL import Image

from fileflow_common.clock import utc_now
from fileflow_stages._runtime import stage as stage_runtime
from fileflow_stages._runtime.object_store import S3ObjectStore
from fileflow_stages._runtime.stage import FileDeleted, TransientStageError
from fileflow_stages._runtime.state import StageInvocation
from tests import samples
from tests.events import load_event
from tests.integration.conftest import BUCKET_NAME, Cloud, FakeLambdaContext
from tests.integration.processing import (
    USER,
    Uploaded,
    declare,
    delete_file,
    derivative_versions,
    events_of,
    file_item,
    jobs_of,
    new_file_id,
    stage_events,
    upload,
)
from tests.integration.workflow import Execution, deliver, execution_arn_for, execution_arns, run_execution

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
THUMBNAILS = {f"thumb-{size}.{extension}" for size in (1024, 512, 128) for extension in ("webp", "jpg")}
SUCCESS_PATH = ["Analysis", "Finalize", "Notify", "Done"]
HANDLED_FAILURE_PATH = ["RecordFailure", "NotifyFailure", "FailureIsFatal", "FileRejected"]
FATAL_FAILURE_PATH = ["RecordFailure", "NotifyFailure", "FailureIsFatal", "ProcessingFailed"]


@pytest.fixture(autouse=True)
def versioned_bucket(cloud: Cloud) -> None:
    # Like the deployed bucket: every overwrite is a new version, so a rewrite of a derivative shows
    cloud.s3.put_bucket_versioning(Bucket=BUCKET_NAME, VersioningConfiguration={"Status": "Enabled"})


@pytest.fixture(autouse=True)
def ticking_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each clock read at least 1 ms after the last: events of one fast stage never share a millisecond
    (their cursors would then sort by digest, not by time; real invocations are slower than that)."""
    last = [datetime.min.replace(tzinfo=utc_now().tzinfo)]

    def tick() -> datetime:
        last[0] = max(utc_now(), last[0] + timedelta(milliseconds=1))
        return last[0]

    monkeypatch.setattr(
        stage_runtime, "StageContext", functools.partial(stage_runtime.StageContext, clock=tick)
    )


def process(uploaded: Uploaded, **options: Any) -> Execution:
    """Its notification to the starter, then the one execution that started, run to its end."""
    delivery = deliver([uploaded.record()], **options)
    assert delivery.response == {"batchItemFailures": []}
    [execution] = delivery.executions
    return execution


def rejection_code(execution: Execution) -> str:
    """The code in `$.error` of a FileRejected: the Lambda error's message is the stage's JSON."""
    cause = json.loads(execution.state["error"]["Cause"])
    return str(json.loads(cause["errorMessage"])["code"])


def service_unavailable(*args: object, **kwargs: object) -> None:
    raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "S3 is down"}}, "PutObject")


# --- good files -------------------------------------------------------------------------------------------


def test_an_uploaded_jpeg_gets_renditions_a_job_stage_events_and_a_processed_file_item(cloud: Cloud) -> None:
    # Given the file item the upload API wrote, with the upload's correlation id
    file_id = new_file_id()
    declare(cloud, file_id, filename="portrait.jpg", content_type="image/jpeg", correlation_id="corr-7f3a")
    # And a JPEG taken in portrait (EXIF orientation 6) stored at uploads/{user}/{file}
    uploaded = upload(cloud, samples.jpeg(1600, 1200, orientation=6), file_id=file_id)
    # When its notification starts the workflow, and the workflow runs
    execution = process(uploaded)
    # Then it went detect -> image -> analysis -> finalize -> notify, and succeeded
    assert (execution.status, execution.caught) == ("SUCCEEDED", [])
    assert execution.visited == ["Detect", "RouteByKind", "Image", *SUCCESS_PATH]
    assert execution.state["detect"] == {
        "kind": "image",
        "mime": "image/jpeg",
        "label": "jpeg",
        "task": "image_renditions",
        "mismatch": {},
        "already_finished": False,
    }
    assert execution.state["content"] == {"derivatives": 6, "findings": 0}
    assert (execution.state["finalize"], execution.state["notify"]) == (
        {"status": "processed"},
        {"event": "file.processed"},
    )
    # And every rendition is under derived/{user}/{file}/, upright, without EXIF, naming its source version
    assert derivative_versions(cloud, file_id) == dict.fromkeys(THUMBNAILS, 1)
    body = cloud.s3.get_object(Bucket=BUCKET_NAME, Key=f"derived/{USER}/{file_id}/thumb-1024.jpg")
    assert body["ContentType"] == "image/jpeg"
    assert body["Metadata"] == {"source-etag": uploaded.etag, "source-version-id": uploaded.version_id}
    rendition = Image.open(io.BytesIO(body["Body"].read()))
    assert rendition.size == (768, 1024)
    assert not rendition.getexif()
    # And one job went queued -> running -> succeeded, once, with the analysis and its summary
    [job] = jobs_of(cloud, file_id)
    assert (job["job_id"], job["task"], job["status"], job["attempts"]) == (
        uploaded.job_id,
        "image_renditions",
        "succeeded",
        1,
    )
    assert job["queued_at"] <= job["started_at"] <= job["ended_at"]
    assert (job["version_id"], job["correlation_id"]) == (uploaded.version_id, "corr-7f3a")
    assert job["result"]["analysis"]["orientation"] == 6
    assert job["result"]["summary"]["highlights"]["width"] == 1200  # upright: the EXIF rotation applied
    assert "error" not in job
    # And the file item says processed, with the type, the derivatives, the stage and the execution
    item = file_item(cloud, file_id)
    assert (item["status"], item["detected_type"], item["detected_kind"], item["processing_job_id"]) == (
        "processed",
        "image/jpeg",
        "image",
        uploaded.job_id,
    )
    assert {str(d["key"]) for d in item["derivatives"]} == {
        f"derived/{USER}/{file_id}/{n}" for n in THUMBNAILS
    }
    assert item["analysis"]["summary"]["kind"] == "image"
    assert (item["stage"], item["stage_state"], item["execution_arn"]) == (
        "notify",
        "succeeded",
        execution.execution_arn,
    )
    assert "type_mismatch" not in item
    assert "processing_error" not in item
    # And the upload API's attributes are untouched
    assert (item["filename"], item["content_type"], item["correlation_id"]) == (
        "portrait.jpg",
        "image/jpeg",
        "corr-7f3a",
    )
    # And each stage's events are in order, each naming the execution and the correlation id
    assert stage_events(cloud, file_id) == [
        (stage, state)
        for stage in ("detect", "image", "analysis", "finalize", "notify")
        for state in ("started", "succeeded")
    ]
    events = events_of(cloud, file_id)
    assert {(e["execution_arn"], e["correlation_id"], e["user_id"]) for e in events} == {
        (execution.execution_arn, "corr-7f3a", USER)
    }
    assert events[1]["detail"]["kind"] == "image"
    # (notify's AWS calls are its two events: `started` and this `succeeded`)
    assert events[-1]["detail"] == {"event": "file.processed", "status": "processed", "file_id": file_id} | {
        "duration_ms": events[-1]["detail"]["duration_ms"],
        "aws_calls": 2,
    }


@pytest.mark.parametrize(
    ("data", "stage", "task", "detected_type", "derivatives"),
    [
        (samples.pdf(2), "Document", "document_text", "application/pdf", {"text.txt"}),
        (samples.docx_file(), "Document", "document_text", DOCX_TYPE, {"text.txt"}),
        (samples.TEXT.encode(), "Document", "text_statistics", "text/plain", set()),
        (samples.CSV.encode(), "Document", "text_statistics", "text/csv", set()),
        (samples.zip_file(), "Archive", "archive_listing", "application/zip", {"listing.json"}),
        (
            samples.tar_file(compression="gz"),
            "Archive",
            "archive_listing",
            "application/gzip",
            {"listing.json"},
        ),
    ],
    ids=["pdf", "docx", "txt", "csv", "zip", "tar.gz"],
)
def test_each_kind_passes_its_content_stage(
    cloud: Cloud, data: bytes, stage: str, task: str, detected_type: str, derivatives: set[str]
) -> None:
    # Given a stored file of that kind
    uploaded = upload(cloud, data)
    # When its workflow runs
    execution = process(uploaded)
    # Then the Choice sent it to its content stage, and it succeeded
    assert execution.status == "SUCCEEDED"
    assert execution.visited == ["Detect", "RouteByKind", stage, *SUCCESS_PATH]
    # And its job and file item say so, with the type told from the content (text/csv, not text/plain)
    [job] = jobs_of(cloud, uploaded.file_id)
    assert (job["task"], job["status"]) == (task, "succeeded")
    item = file_item(cloud, uploaded.file_id)
    assert (item["status"], item["detected_type"]) == ("processed", detected_type)
    # And its derivatives were written once each and recorded on the item
    assert derivative_versions(cloud, uploaded.file_id) == dict.fromkeys(derivatives, 1)
    assert {d["name"] for d in item["derivatives"]} == derivatives
    assert (stage.lower(), "succeeded") in stage_events(cloud, uploaded.file_id)


def test_the_text_of_a_pdf_is_stored_as_its_text_derivative(cloud: Cloud) -> None:
    uploaded = upload(cloud, samples.pdf(2))
    process(uploaded)
    text = cloud.s3.get_object(Bucket=BUCKET_NAME, Key=f"derived/{USER}/{uploaded.file_id}/text.txt")
    assert b"Hello Fileflow page 2" in text["Body"].read()
    assert file_item(cloud, uploaded.file_id)["analysis"]["pages"] == 2


def test_running_the_same_execution_again_repeats_nothing(cloud: Cloud) -> None:
    # Given a PNG whose workflow ran to its end
    uploaded = upload(cloud, samples.png(600, 400))
    first = process(uploaded)
    processed = file_item(cloud, uploaded.file_id)
    written = derivative_versions(cloud, uploaded.file_id)
    assert len(written) == 6
    # When its notification comes again, and the same execution runs again (a replayed stage, a redrive)
    assert deliver([uploaded.record(receive_count=2)]).executions == []
    again = run_execution(first.execution_arn)
    # Then it still succeeds, each stage seeing the job finished, and there is one execution and one job
    assert again.visited == first.visited
    assert again.state["finalize"] == {"status": "processed", "already_finished": True}
    assert [again.state[name]["already_finished"] for name in ("detect", "content", "analysis")] == [True] * 3
    assert again.state["notify"] == {"event": "file.processed"}
    assert execution_arns() == [first.execution_arn]
    [job] = jobs_of(cloud, uploaded.file_id)
    assert (job["status"], job["attempts"]) == ("succeeded", 1)
    # And each derivative was written once (one S3 version each)
    assert derivative_versions(cloud, uploaded.file_id) == written == dict.fromkeys(written, 1)
    # And the file item's results are as the first run left them
    item = file_item(cloud, uploaded.file_id)
    for name in ("status", "detected_type", "derivatives", "analysis", "processing_updated_at"):
        assert item[name] == processed[name], name


# --- bad files ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "failed_state", "code", "status"),
    [
        (samples.corrupt_image(), "Image", "CorruptFile", "failed"),
        (samples.decompression_bomb(), "Image", "DecompressionBomb", "failed"),
        (samples.zip_bomb(), "Archive", "ZipBomb", "failed"),
        (samples.zip_slip(), "Archive", "UnsafeArchivePath", "failed"),
        (b"\x7fELF\x02\x01\x01" + b"\x00" * 200, "Detect", "UnsupportedType", "rejected"),
    ],
    ids=["corrupt-image", "decompression-bomb", "zip-bomb", "zip-slip", "executable"],
)
def test_a_bad_file_fails_with_its_reason_through_the_failure_path_and_the_workflow_succeeds(
    cloud: Cloud, data: bytes, failed_state: str, code: str, status: str
) -> None:
    # Given a stored file that is bad in itself
    uploaded = upload(cloud, data)
    # When its workflow runs
    execution = process(uploaded)
    # Then its stage rejected it, the Catch took it to the failure path, and the workflow did its job
    assert execution.caught == [(failed_state, "FileRejected")]
    assert execution.status == "SUCCEEDED"
    assert execution.visited[-4:] == HANDLED_FAILURE_PATH
    assert failed_state in execution.visited
    assert rejection_code(execution) == code
    assert execution.state["failure"] == {
        "outcome": "rejected",
        "fatal": False,
        "code": code,
        "status": status,
    }
    assert execution.state["notify"] == {"event": "file.failed"}
    # And the job failed with the reason, not retryable
    [job] = jobs_of(cloud, uploaded.file_id)
    assert (job["status"], job["error"]["code"], job["error"]["retryable"]) == ("failed", code, False)
    assert job["error"]["message"]
    # And the file item says why, and nothing was derived
    item = file_item(cloud, uploaded.file_id)
    assert (item["status"], item["processing_error"]) == (status, job["error"])
    assert derivative_versions(cloud, uploaded.file_id) == {}
    # And the events show the stage that failed, the failure recorded once, then the notification
    events = stage_events(cloud, uploaded.file_id)
    assert events[-5:] == [
        (failed_state.lower(), "started"),
        (failed_state.lower(), "failed"),
        ("failed", "succeeded"),
        ("notify", "started"),
        ("notify", "succeeded"),
    ]
    failed_event = events_of(cloud, uploaded.file_id)[-3]
    assert failed_event["detail"]["code"] == code


def test_an_unsupported_type_is_rejected_at_detection_before_any_content_stage(cloud: Cloud) -> None:
    uploaded = upload(cloud, b"Rar!\x1a\x07\x01\x00" + b"\x00" * 64)
    execution = process(uploaded)
    assert execution.visited == ["Detect", *HANDLED_FAILURE_PATH]
    [job] = jobs_of(cloud, uploaded.file_id)
    assert (job["task"], job["status"], job["error"]["code"]) == ("type_check", "failed", "UnsupportedType")
    item = file_item(cloud, uploaded.file_id)
    assert (item["status"], item["detected_type"]) == ("rejected", "application/vnd.rar")
    assert "rar" in item["processing_error"]["message"]


def test_an_object_over_the_size_limit_is_never_loaded_and_fails_its_job(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a 1000-byte object limit, and a larger JPEG
    monkeypatch.setenv("MAX_OBJECT_BYTES", "1000")
    uploaded = upload(cloud, samples.jpeg(320, 240))
    # When processed / Then it is detected from its first bytes, and the image stage refuses to load it
    execution = process(uploaded)
    assert execution.caught == [("Image", "FileRejected")]
    [job] = jobs_of(cloud, uploaded.file_id)
    assert (job["task"], job["error"]["code"]) == ("image_renditions", "LimitExceeded")


# --- declared types and older versions ----------------------------------------------------------------------


def test_the_upload_apis_attributes_survive_and_a_declared_type_mismatch_needs_review(cloud: Cloud) -> None:
    # Given the upload API recorded the file first: filename, declared type, sha256, status
    file_id = new_file_id()
    declare(
        cloud, file_id, filename="holiday.jpg", content_type="image/jpeg", sha256="ab" * 32, status="uploaded"
    )
    # And the bytes are really a ZIP
    uploaded = upload(cloud, samples.zip_file(), file_id=file_id)
    # When processed
    execution = process(uploaded)
    # Then it was listed as the ZIP it is, and the job and the file need review for the mismatch
    mismatch = {
        "declared_content_type": "image/jpeg",
        "filename_extension": ".jpg",
        "detected_content_type": "application/zip",
    }
    assert execution.visited == ["Detect", "RouteByKind", "Archive", *SUCCESS_PATH]
    assert execution.state["detect"]["mismatch"] == mismatch
    assert execution.state["notify"] == {"event": "file.needs_review"}
    item = file_item(cloud, file_id)
    assert (item["status"], item["detected_type"], item["type_mismatch"]) == (
        "needs_review",
        "application/zip",
        mismatch,
    )
    [job] = jobs_of(cloud, file_id)
    assert (job["task"], job["status"], job["result"]["type_mismatch"]) == (
        "archive_listing",
        "needs_review",
        mismatch,
    )
    # And the upload API's own attributes are untouched
    assert (item["filename"], item["content_type"], item["sha256"]) == (
        "holiday.jpg",
        "image/jpeg",
        "ab" * 32,
    )


def test_the_s3_content_type_counts_as_declared_when_the_api_recorded_none(cloud: Cloud) -> None:
    uploaded = upload(cloud, samples.png(32, 32), content_type="image/jpeg")
    process(uploaded)
    item = file_item(cloud, uploaded.file_id)
    assert (item["status"], item["type_mismatch"]["declared_content_type"]) == ("needs_review", "image/jpeg")


def test_an_older_versions_late_notification_starts_nothing(cloud: Cloud) -> None:
    # Given version 2 of a file was processed
    file_id = new_file_id()
    old = upload(cloud, samples.TEXT.encode(), file_id=file_id)
    new = upload(cloud, samples.JSON.encode(), file_id=file_id)
    [execution] = deliver([new.record(sequencer="0065D3E5A8C9F1B2FF")]).executions
    # When the (older) version 1's event arrives late
    late = deliver([old.record(sequencer="0065D3E5A8C9F1B2E4")])
    # Then it is acknowledged, starts no workflow and gets no job; the item describes version 2
    assert (late.response, late.executions) == ({"batchItemFailures": []}, [])
    assert execution_arns() == [execution.execution_arn]
    item = file_item(cloud, file_id)
    assert (item["version_id"], item["detected_type"]) == (new.version_id, "application/json")
    assert [job["job_id"] for job in jobs_of(cloud, file_id)] == [new.job_id]


def test_results_of_an_older_version_never_overwrite_the_file_item(cloud: Cloud) -> None:
    # Given a PNG's workflow started, then the file was overwritten with JSON and its workflow started too
    file_id = new_file_id()
    old = upload(cloud, samples.png(64, 64), file_id=file_id)
    new = upload(cloud, samples.JSON.encode(), file_id=file_id)
    assert (
        deliver([old.record(sequencer="0065D3E5A8C9F1B2E4")], run=False).response["batchItemFailures"] == []
    )
    assert (
        deliver([new.record(sequencer="0065D3E5A8C9F1B2FF")], run=False).response["batchItemFailures"] == []
    )
    old_arn, new_arn = execution_arn_for(old.job_id), execution_arn_for(new.job_id)
    assert sorted(execution_arns()) == sorted([old_arn, new_arn])
    # When the newer version's workflow ends first, then the older one's
    assert run_execution(new_arn).status == "SUCCEEDED"
    newer = file_item(cloud, file_id)
    assert run_execution(old_arn).status == "SUCCEEDED"
    # Then the item still describes version 2: its status, type, results, job, stage and execution
    item = file_item(cloud, file_id)
    assert item["version_id"] == new.version_id
    for name in (
        "status",
        "detected_type",
        "derivatives",
        "analysis",
        "processing_job_id",
        "stage",
        "execution_arn",
    ):
        assert item[name] == newer[name], name
    assert (item["detected_type"], item["execution_arn"]) == ("application/json", new_arn)
    # And the older version's results are kept on its own job only
    jobs = {job["job_id"]: job for job in jobs_of(cloud, file_id)}
    assert (jobs[old.job_id]["status"], jobs[old.job_id]["detected_type"]) == ("succeeded", "image/png")


# --- failing dependencies -----------------------------------------------------------------------------------


def test_an_s3_failure_is_transient_and_once_the_retries_are_spent_the_file_fails_retryable(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given S3 refusing derivative writes, and a PDF upload
    broken: list[bool] = [True]
    write = S3ObjectStore.write_derivative

    def write_unless_broken(self: S3ObjectStore, *args: Any, **kwargs: Any) -> None:
        if broken[0]:
            service_unavailable()
        write(self, *args, **kwargs)

    monkeypatch.setattr(S3ObjectStore, "write_derivative", write_unless_broken)
    uploaded = upload(cloud, samples.pdf(2))
    # When its workflow runs (no retry simulated: the error is caught as after the last retry)
    execution = process(uploaded)
    # Then the document stage raised TransientStageError, and the failure is fatal: the workflow fails
    assert execution.caught == [("Document", "TransientStageError")]
    assert "ServiceUnavailable" in json.loads(execution.state["error"]["Cause"])["errorMessage"]
    assert (execution.status, execution.error) == ("FAILED", "ProcessingFailed")
    assert execution.visited[-4:] == FATAL_FAILURE_PATH
    assert execution.state["failure"] == {
        "outcome": "error",
        "fatal": True,
        "code": "TransientStageError",
        "status": "failed",
    }
    # And the job and the file say it failed, retryable
    [job] = jobs_of(cloud, uploaded.file_id)
    assert (job["status"], job["error"]["code"], job["error"]["retryable"]) == (
        "failed",
        "TransientStageError",
        True,
    )
    item = file_item(cloud, uploaded.file_id)
    assert (item["status"], item["processing_error"]["retryable"]) == ("failed", True)
    # When the fix is in and the execution runs again (a redrive)
    broken[0] = False
    again = run_execution(execution.execution_arn)
    # Then the same job succeeds, and the text is there
    assert again.status == "SUCCEEDED"
    [job] = jobs_of(cloud, uploaded.file_id)
    assert (job["status"], job["attempts"]) == ("succeeded", 2)
    assert "error" not in job
    item = file_item(cloud, uploaded.file_id)
    assert (item["status"], "processing_error" in item) == ("processed", False)
    text = cloud.s3.get_object(Bucket=BUCKET_NAME, Key=f"derived/{USER}/{uploaded.file_id}/text.txt")
    assert b"Hello Fileflow page 2" in text["Body"].read()


def _delete_the_table(cloud: Cloud) -> None:
    cloud.table.delete()


def _delete_the_bucket(cloud: Cloud) -> None:
    listed = cloud.s3.list_object_versions(Bucket=BUCKET_NAME)
    for entry in [*listed.get("Versions", []), *listed.get("DeleteMarkers", [])]:
        cloud.s3.delete_object(Bucket=BUCKET_NAME, Key=entry["Key"], VersionId=entry["VersionId"])
    cloud.s3.delete_bucket(Bucket=BUCKET_NAME)


@pytest.mark.parametrize(
    ("outage", "error_code"),
    [(_delete_the_table, "ResourceNotFoundException"), (_delete_the_bucket, "NoSuchBucket")],
    ids=["dynamodb", "s3"],
)
def test_a_stage_whose_dependency_fails_raises_transient_stage_error(
    cloud: Cloud, outage: Callable[[Cloud], None], error_code: str
) -> None:
    # Given a stored file whose workflow started, and then DynamoDB or S3 failing under the detect stage
    uploaded = upload(cloud, samples.png())
    delivery = deliver([uploaded.record()], run=False)
    [arn] = execution_arns()
    payload = {
        "state": json.loads(cloud.sfn.describe_execution(executionArn=arn)["input"]),
        "execution_arn": arn,
    }
    assert delivery.response == {"batchItemFailures": []}
    outage(cloud)
    # When the stage runs / Then it raises the error the state machine retries, naming the cause
    from fileflow_stages.detect.handler import lambda_handler

    with pytest.raises(TransientStageError, match=error_code):
        lambda_handler(payload, FakeLambdaContext())


# --- files deleted while their workflow runs ----------------------------------------------------------------


@pytest.mark.parametrize("deleted_before", ["Image", "Analysis", "Finalize", "Notify"])
def test_a_file_deleted_mid_workflow_ends_it_quietly_and_nothing_comes_back(
    cloud: Cloud, deleted_before: str
) -> None:
    # Given a PNG whose workflow runs, and its owner deletes it just before one of the stages
    uploaded = upload(cloud, samples.png())
    tombstone: list[dict[str, Any]] = []

    def delete_now(state_id: str, state: dict[str, Any]) -> None:
        if state_id == deleted_before:
            delete_file(cloud, uploaded.file_id)
            tombstone.append(file_item(cloud, uploaded.file_id))

    # When the workflow goes on
    execution = process(uploaded, before=delete_now)
    # Then it ends quietly: the stage found the file gone, and nobody is notified
    assert execution.status == "SUCCEEDED"
    if deleted_before != "Notify":
        assert execution.caught == [(deleted_before, "FileDeleted")]
        assert execution.state["failure"] == {"outcome": "deleted", "fatal": False}
    assert execution.state["notify"] == {"event": None}
    # And no job, event or derivative was written back, and the tombstone is as the delete left it
    assert (jobs_of(cloud, uploaded.file_id), events_of(cloud, uploaded.file_id)) == ([], [])
    assert derivative_versions(cloud, uploaded.file_id) == {}
    assert file_item(cloud, uploaded.file_id) == tombstone[0]


def test_renditions_written_while_the_file_was_being_deleted_are_removed(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the delete runs while the image stage writes its renditions (after the first one)
    uploaded = upload(cloud, samples.png())
    write = S3ObjectStore.write_derivative
    written: list[str] = []

    def write_then_delete(self: S3ObjectStore, key: str, *args: Any, **kwargs: Any) -> None:
        write(self, key, *args, **kwargs)
        written.append(key)
        if len(written) == 1:
            delete_file(cloud, uploaded.file_id)  # its clean-up listed derived/ before the next writes

    monkeypatch.setattr(S3ObjectStore, "write_derivative", write_then_delete)
    # When the workflow goes on
    execution = process(uploaded)
    # Then it ends quietly, and the renditions written after the clean-up are gone too
    assert execution.caught == [("Image", "FileDeleted")]
    assert execution.status == "SUCCEEDED"
    assert len(written) == 6
    assert derivative_versions(cloud, uploaded.file_id) == {}
    assert jobs_of(cloud, uploaded.file_id) == []


# --- the sample stage payloads (events/stage_*.json) --------------------------------------------------------


@pytest.fixture
def sample_started(cloud: Cloud) -> dict[str, Any]:
    """events/sqs_s3_object_created.json through the starter, the upload API having written the item."""
    declare(cloud, "file-0001", user="user-alice", correlation_id="c6af9ac6-7b61-11e6-9a41-93e8deadbeef")
    assert deliver(load_event("sqs_s3_object_created")["Records"], run=False).response == {
        "batchItemFailures": []
    }
    [arn] = execution_arns()
    return {
        "execution_arn": arn,
        "input": json.loads(cloud.sfn.describe_execution(executionArn=arn)["input"]),
    }


def test_the_sample_detect_payload_is_what_the_state_machine_sends_the_first_stage(
    sample_started: dict[str, Any],
) -> None:
    # Given the sample detect payload / Then it is the started execution's input, its ARN, retry 0
    sample = load_event("stage_detect")
    assert sample == {
        "state": sample_started["input"],
        "execution_arn": sample_started["execution_arn"],
        "retry_count": 0,
    }
    assert (
        StageInvocation.model_validate(sample).state.file.job_id == sample["execution_arn"].rsplit(":", 1)[1]
    )


def test_the_detect_stage_of_a_version_that_is_gone_ends_the_workflow_quietly(
    cloud: Cloud, sample_started: dict[str, Any]
) -> None:
    # Given the sample's version is not in the bucket (deleted, or overwritten in an unversioned bucket)
    from fileflow_stages.detect.handler import lambda_handler

    # When the detect stage gets the sample payload / Then it raises FileDeleted (the workflow ends)
    with pytest.raises(FileDeleted, match="is gone"):
        lambda_handler(load_event("stage_detect"), FakeLambdaContext())
    # And nothing was started: the job is still queued
    [job] = jobs_of(cloud, "file-0001")
    assert (job["status"], job["attempts"]) == ("queued", 0)


def test_the_detect_stage_routes_the_sample_payload_once_its_object_is_there(cloud: Cloud) -> None:
    # Given a JPEG stored at the sample's key, and its workflow started (moto names its own version)
    uploaded = upload(cloud, samples.jpeg(64, 48), file_id="file-0001", user="user-alice")
    assert deliver([uploaded.record()], run=False).response == {"batchItemFailures": []}
    # And the sample detect payload pointed at that version
    payload = load_event("stage_detect")
    payload["state"]["file"] |= {
        "etag": uploaded.etag,
        "version_id": uploaded.version_id,
        "size": uploaded.size,
        "job_id": uploaded.job_id,
    }
    payload["execution_arn"] = execution_arn_for(uploaded.job_id)
    from fileflow_stages.detect.handler import lambda_handler

    # When the detect stage runs / Then its output routes it to the image stage, and its job runs
    output = lambda_handler(payload, FakeLambdaContext())
    assert (output["kind"], output["mime"], output["task"]) == ("image", "image/jpeg", "image_renditions")
    [job] = jobs_of(cloud, "file-0001")
    assert (job["status"], job["task"], job["attempts"]) == ("running", "image_renditions", 1)
    item = file_item(cloud, "file-0001", user="user-alice")
    assert (item["status"], item["stage"], item["stage_state"]) == ("processing", "detect", "succeeded")


def test_the_failure_stage_records_the_caught_rejection_of_the_sample_payload(
    cloud: Cloud, sample_started: dict[str, Any]
) -> None:
    # Given the sample failure payload: the image stage's FileRejected, as its Catch put it at $.error
    from fileflow_stages.failure.handler import lambda_handler

    # When the failure stage runs
    output = lambda_handler(load_event("stage_failure"), FakeLambdaContext())
    # Then the bad file is handled: not fatal, with the stage's code
    assert output == {"outcome": "rejected", "fatal": False, "code": "CorruptFile", "status": "failed"}
    # And the file and its (still queued) job failed with the code and message from the Lambda error
    error = {
        "code": "CorruptFile",
        "message": "not a decodable JPEG, PNG, WEBP or GIF image",
        "retryable": False,
    }
    [job] = jobs_of(cloud, "file-0001")
    assert (job["status"], job["error"]) == ("failed", error)
    item = file_item(cloud, "file-0001", user="user-alice")
    assert (item["status"], item["processing_error"], item["detected_type"]) == (
        "failed",
        error,
        "image/jpeg",
    )
    # And one event records it, for the execution, with the upload's correlation id
    [event] = events_of(cloud, "file-0001")
    assert (event["stage"], event["state"], event["detail"]["code"]) == ("failed", "succeeded", "CorruptFile")
    assert (event["execution_arn"], event["correlation_id"]) == (
        sample_started["execution_arn"],
        "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
    )
