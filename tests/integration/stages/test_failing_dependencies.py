"""Failing dependencies (S3, DynamoDB): transient stage errors, retried, then a retryable failure."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from fileflow_stages._runtime.object_store import S3ObjectStore
from fileflow_stages._runtime.stage import TransientStageError
from tests import samples
from tests.integration.conftest import BUCKET_NAME, Cloud, FakeLambdaContext
from tests.integration.processing import USER, delete_object_versions, file_item, jobs_of, upload
from tests.integration.stages.conftest import FATAL_FAILURE_PATH, process, service_unavailable
from tests.integration.workflow import deliver, execution_arns, run_execution


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
    assert execution.visited[-len(FATAL_FAILURE_PATH) :] == FATAL_FAILURE_PATH
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
    delete_object_versions(cloud)
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
