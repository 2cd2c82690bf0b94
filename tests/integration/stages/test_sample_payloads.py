"""The sample stage payloads (events/stage-*/*.json) are what the state machine sends, and the stages
handle them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from fileflow_stages._runtime.stage import FileDeleted
from fileflow_stages._runtime.state import StageInvocation
from tests import samples
from tests.events import load_event
from tests.integration.conftest import Cloud, FakeLambdaContext
from tests.integration.processing import declare, events_of, file_item, jobs_of, upload
from tests.integration.workflow import deliver, execution_arn_for, execution_arns


@pytest.fixture
def sample_started(cloud: Cloud) -> dict[str, Any]:
    """events/starter/s3_object_created.json through the starter, the upload API having written the item."""
    declare(cloud, "file-0001", user="user-alice", correlation_id="c6af9ac6-7b61-11e6-9a41-93e8deadbeef")
    assert deliver(load_event("starter/s3_object_created")["Records"], run=False).response == {
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
    # Given the sample detect payload / Then it is the started execution's input with its lane (a
    # priority-5 file takes a standard-lane slot first), its ARN, retry 0
    sample = load_event("stage-detect/standard_lane")
    assert sample == {
        "state": {**sample_started["input"], "lane": {"name": "standard", "wait_seconds": 3}},
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
        lambda_handler(load_event("stage-detect/standard_lane"), FakeLambdaContext())
    # And nothing was started: the job is still queued
    [job] = jobs_of(cloud, "file-0001")
    assert (job["status"], job["attempts"]) == ("queued", 0)


def test_the_detect_stage_routes_the_sample_payload_once_its_object_is_there(cloud: Cloud) -> None:
    # Given a JPEG stored at the sample's key, and its workflow started (moto names its own version)
    uploaded = upload(cloud, samples.jpeg(64, 48), file_id="file-0001", user="user-alice")
    assert deliver([uploaded.record()], run=False).response == {"batchItemFailures": []}
    # And the sample detect payload pointed at that version
    payload = load_event("stage-detect/standard_lane")
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
    output = lambda_handler(load_event("stage-failure/image_rejected"), FakeLambdaContext())
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
