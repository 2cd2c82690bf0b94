"""The hostile-input corpus (tests/corpus.py) in-process: every case uploaded through the API handler and
run through the workflow (tests/integration/workflow.py), followed by a good file.

Each ends with its expected status and reason, the workflow succeeds (a user's bad file is not an
operator's alarm), and the good file delivered after it still ends processed.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests import corpus
from tests.corpus import Case
from tests.integration.api_requests import ALICE, call
from tests.integration.conftest import BUCKET_NAME, Cloud, FakeLambdaContext
from tests.integration.processing import Uploaded, file_item, jobs_of
from tests.integration.workflow import Execution, deliver

pytestmark = pytest.mark.reliability

GOOD = corpus.by_id("good-jpeg")


@pytest.fixture(autouse=True)
def versioned_bucket(cloud: Cloud) -> None:
    # Like the deployed bucket: each stored original has a version id
    cloud.s3.put_bucket_versioning(Bucket=BUCKET_NAME, VersioningConfiguration={"Status": "Enabled"})


def initiate(context: FakeLambdaContext, case: Case, data: bytes) -> Any:
    return call(
        context,
        "POST",
        "/v1/uploads",
        body={"filename": case.filename, "size": len(data), "content_type": case.content_type},
    )


def store(cloud: Cloud, context: FakeLambdaContext, case: Case) -> Uploaded:
    """Initiated through the API, then stored at the upload's key (what a completed upload leaves)."""
    data = case.data()
    started = initiate(context, case, data)
    assert started.status == 201, started.body
    key = started.body["key"]
    put = cloud.s3.put_object(Bucket=BUCKET_NAME, Key=key, Body=data)
    return Uploaded(started.body["file_id"], key, len(data), put["ETag"].strip('"'), put["VersionId"], ALICE)


def execution_of(executions: list[Execution], uploaded: Uploaded) -> Execution:
    [execution] = [run for run in executions if run.state["file"]["file_id"] == uploaded.file_id]
    return execution


def assert_outcome(cloud: Cloud, case: Case, uploaded: Uploaded, execution: Execution) -> None:
    expected = case.expected
    item = file_item(cloud, uploaded.file_id, user=ALICE)
    [job] = jobs_of(cloud, uploaded.file_id)
    # The workflow did its job whatever the file: no execution fails for a user's bad file
    assert execution.status == "SUCCEEDED", (execution.error, execution.cause, execution.caught)
    assert item["status"] == expected.status, item.get("processing_error")
    if expected.status in ("failed", "rejected"):
        # The stage that refused it, once, never retried, with the specific code and a message
        assert execution.caught == [(expected.stage, "FileRejected")]
        error = item["processing_error"]
        assert (error["code"], error["retryable"]) == (expected.code, False), error
        assert error["message"]
        assert job["status"] == "failed"
        return
    assert execution.caught == []
    assert "processing_error" not in item
    findings = tuple(finding["code"] for finding in job["result"]["findings"])
    assert findings == expected.findings, job["result"]["findings"]
    assert bool(item.get("type_mismatch")) is expected.mismatch, item.get("type_mismatch")
    assert job["status"] == ("needs_review" if expected.status == "needs_review" else "succeeded")


@pytest.mark.parametrize("case", corpus.CASES, ids=lambda case: case.id)
def test_a_hostile_file_ends_with_its_status_and_reason_while_a_good_file_is_processed(
    cloud: Cloud, lambda_context: FakeLambdaContext, case: Case
) -> None:
    # Given a good file stored through the API
    good = store(cloud, lambda_context, GOOD)
    if case.expected.status == "refused":
        # When the hostile file's upload is initiated / Then the API refuses it with the reason
        refused = initiate(lambda_context, case, case.data())
        assert (refused.status, refused.error_code) == (422, case.expected.code), refused.body
        assert refused.body["error"]["message"]
        hostile = None
    else:
        # And the hostile file stored the same way
        hostile = store(cloud, lambda_context, case)
    # When the hostile file's notification reaches the starter and its execution runs, then the good
    # file's (one delivery each: moto's DynamoDB is not thread-safe, and the starter handles a batch's
    # records concurrently)
    executions = []
    for uploaded in [hostile, good] if hostile else [good]:
        delivery = deliver([uploaded.record()], lambda_context)
        # Then each notification was handled, and started one execution
        assert delivery.response == {"batchItemFailures": []}
        [execution] = delivery.executions
        executions.append(execution)
    # And the hostile file ended with its expected status and reason
    if hostile is not None:
        assert_outcome(cloud, case, hostile, execution_of(executions, hostile))
    # And the good file that came after it was processed all the same
    assert_outcome(cloud, GOOD, good, execution_of(executions, good))


def test_the_corpus_holds_at_least_40_distinct_cases_of_every_kind() -> None:
    ids = [case.id for case in corpus.CASES]
    assert len(ids) >= 40
    assert len(set(ids)) == len(ids)
    assert {case.expected.status for case in corpus.CASES} == {
        "processed",
        "needs_review",
        "failed",
        "rejected",
        "refused",
    }
