"""Declared types and older versions: the upload API's attributes survive, a mismatch needs review, and an
older version never starts or overwrites anything."""

from __future__ import annotations

import hashlib

from tests import samples
from tests.integration.conftest import Cloud
from tests.integration.processing import declare, file_item, jobs_of, new_file_id, upload
from tests.integration.stages.conftest import STANDARD_ENTRY, SUCCESS_PATH, process
from tests.integration.workflow import deliver, execution_arn_for, execution_arns, run_execution


def test_the_upload_apis_attributes_survive_and_a_declared_type_mismatch_needs_review(cloud: Cloud) -> None:
    # Given the upload API recorded the file first: filename, declared type, sha256, status
    file_id = new_file_id()
    data = samples.zip_file()
    sha256 = hashlib.sha256(data).hexdigest()
    declare(
        cloud, file_id, filename="holiday.jpg", content_type="image/jpeg", sha256=sha256, status="uploaded"
    )
    # And the bytes are really a ZIP
    uploaded = upload(cloud, data, file_id=file_id)
    # When processed
    execution = process(uploaded)
    # Then it was listed as the ZIP it is, and the job and the file need review for the mismatch
    mismatch = {
        "declared_content_type": "image/jpeg",
        "filename_extension": ".jpg",
        "detected_content_type": "application/zip",
    }
    assert execution.visited == [*STANDARD_ENTRY, "Detect", "RouteByKind", "Archive", *SUCCESS_PATH]
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
    assert (item["filename"], item["content_type"], item["sha256"]) == ("holiday.jpg", "image/jpeg", sha256)


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
