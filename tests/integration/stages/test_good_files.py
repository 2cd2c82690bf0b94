"""Good files of each kind: renditions, text, listings, jobs, stage events and processed file items; a
replayed execution repeats nothing."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from fileflow_common.webhooks.events import event_id
from tests import samples
from tests.integration.conftest import BUCKET_NAME, Cloud
from tests.integration.processing import (
    USER,
    declare,
    derivative_versions,
    events_of,
    file_item,
    jobs_of,
    new_file_id,
    stage_events,
    upload,
)
from tests.integration.stages.conftest import DOCX_TYPE, STANDARD_ENTRY, SUCCESS_PATH, THUMBNAILS, process
from tests.integration.workflow import deliver, execution_arns, run_execution


def test_an_uploaded_jpeg_gets_renditions_a_job_stage_events_and_a_processed_file_item(cloud: Cloud) -> None:
    # Given the file item the upload API wrote, with the upload's correlation id
    file_id = new_file_id()
    declare(cloud, file_id, filename="portrait.jpg", content_type="image/jpeg", correlation_id="corr-7f3a")
    # And a JPEG taken in portrait (EXIF orientation 6) stored at uploads/{user}/{file}
    uploaded = upload(cloud, samples.jpeg(1600, 1200, orientation=6), file_id=file_id)
    # When its notification starts the workflow, and the workflow runs
    execution = process(uploaded)
    # Then it went detect -> image -> analysis -> ai -> finalize -> notify, and succeeded
    assert (execution.status, execution.caught) == ("SUCCEEDED", [])
    assert execution.visited == [*STANDARD_ENTRY, "Detect", "RouteByKind", "Image", *SUCCESS_PATH]
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
        for stage in ("detect", "image", "analysis", "ai", "finalize", "notify")
        for state in ("started", "succeeded")
    ]
    events = events_of(cloud, file_id)
    assert {(e["execution_arn"], e["correlation_id"], e["user_id"]) for e in events} == {
        (execution.execution_arn, "corr-7f3a", USER)
    }
    assert events[1]["detail"]["kind"] == "image"
    # (notify's AWS calls: its two events, `started` and this `succeeded`, and the file item's read; no
    # webhook queue here, so no send)
    assert events[-1]["detail"] == {"event": "file.processed", "status": "processed", "file_id": file_id} | {
        "event_id": event_id(USER, "file.processed", execution.execution_arn),
        "duration_ms": events[-1]["detail"]["duration_ms"],
        "aws_calls": 3,
        "aws_operations": {"dynamodb:TransactWriteItems": 2, "dynamodb:GetItem": 1},
        "aws_items": {"dynamodb:TransactWriteItems": 4},
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
    assert execution.visited == [*STANDARD_ENTRY, "Detect", "RouteByKind", stage, *SUCCESS_PATH]
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
