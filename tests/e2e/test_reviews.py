"""The human review queue on the deployed stack: a low-confidence AI result pauses the file's workflow on a
task token (waitForTaskToken on the local cloud's Step Functions), a reviewer corrects it through the
API, the execution resumes and SUCCEEDS, and the file's analysis shows the correction; a non-reviewer's
decision gets 403 and the reviewer cannot read the owner's files.

The AI stage is not part of this branch (issue #11 builds it beside this one), so its part stands in:
the owner's PNG is processed by the deployed pipeline, then its workflow runs again as the AI stage leaves
a low-confidence file: the job queued as the starter queues it, carrying the AI stage's result, and the
execution started with the AI stage's output (`$.ai`: confidence 0.41, review_required). Everything from
the Choice on is the deployed stack's own: the review function, the wait, the API's SendTaskSuccess,
finalize and notify. With the Claude emulator in the suite, the stand-in gives way to a real
low-confidence answer.
"""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import Any

import boto3
import pytest
import requests

from fileflow_common.reviews import review_id_for
from infra import outputs as names
from tests import samples
from tests.e2e.polling import wait_for
from tests.e2e.test_isolation import Client, upload_file
from tools.stack import StackOutputs, client_kwargs
from tools.token import TokenFactory

AI_RESULT = {"description": "a small square", "tags": ["square"], "category": "shapes", "confidence": 0.41}
AI_JOB_RESULT = {
    "status": "succeeded",
    "reason": "policy",
    "kind": "image",
    "model": "claude-haiku-4-5",
    "prompt_version": "v1",
    "result": AI_RESULT,
    "confidence": 0.41,
}
AI_OUTPUT = {"ai_status": "succeeded", "confidence": 0.41, "review_required": True, "kind": "image"}


@pytest.fixture(scope="module")
def people(stack: StackOutputs) -> tuple[Client, Client, Client]:
    tokens = TokenFactory.for_stack(stack)
    run = uuid.uuid4().hex[:8]
    return (
        Client(stack.api_url, tokens.valid(f"e2e-rv-owner-{run}")),
        Client(stack.api_url, tokens.reviewer(f"e2e-rv-rita-{run}")),
        Client(stack.api_url, tokens.valid(f"e2e-rv-bob-{run}")),
    )


def processed_png(owner: Client) -> dict[str, Any]:
    started = upload_file(owner, samples.png(), filename="holiday-private.png", content_type="image/png")

    def processed() -> dict[str, Any] | None:
        body: dict[str, Any] = owner("GET", f"/v1/files/{started['file_id']}").json()
        return body if body.get("status") == "processed" and body.get("derivatives") else None

    return wait_for(processed, timeout=120, what="the owner's file to be processed")


def low_confidence_run(stack: StackOutputs, file: dict[str, Any]) -> tuple[str, str]:
    """The file's workflow again, as the AI stage leaves a low-confidence result: (job id, execution ARN)."""
    kwargs = client_kwargs()
    table = boto3.resource("dynamodb", **kwargs).Table(stack[names.TABLE_NAME])
    sfn = boto3.client("stepfunctions", **kwargs)
    first = json.loads(sfn.describe_execution(executionArn=file["execution_arn"])["input"])
    job_id = f"{first['file']['job_id']}-rv"
    [job] = [job for job in file["jobs"] if job["job_id"] == first["file"]["job_id"]]
    item = table.get_item(Key={"pk": f"FILE#{file['file_id']}", "sk": f"JOB#{job['job_id']}"})["Item"]
    queued = {
        **{name: value for name, value in item.items() if name not in ("started_at", "ended_at", "error")},
        "sk": f"JOB#{job_id}",
        "job_id": job_id,
        "status": "queued",
        "attempts": 0,
        "result": {"ai": json.loads(json.dumps(AI_JOB_RESULT), parse_float=Decimal)},
    }
    table.put_item(Item=queued)
    execution_input = {**first, "file": {**first["file"], "job_id": job_id}, "ai": AI_OUTPUT}
    started = sfn.start_execution(
        stateMachineArn=stack[names.STATE_MACHINE_ARN], name=job_id, input=json.dumps(execution_input)
    )
    return job_id, started["executionArn"]


def test_a_low_confidence_result_waits_for_a_reviewer_whose_correction_finalizes_the_file(
    stack: StackOutputs, people: tuple[Client, Client, Client]
) -> None:
    owner, reviewer, stranger = people
    sfn = boto3.client("stepfunctions", **client_kwargs())
    # Given the owner's processed PNG, whose AI result comes back with a confidence of 0.41
    file = processed_png(owner)
    file_id = file["file_id"]
    job_id, execution_arn = low_confidence_run(stack, file)
    review_id = review_id_for(job_id)

    # Then the workflow waits on the review: pending, for the owner to see on the file
    def pending() -> dict[str, Any] | None:
        review: dict[str, Any] | None = owner.ok("GET", f"/v1/files/{file_id}").get("review")
        return review if review and review.get("review_id") == review_id else None

    assert wait_for(pending, timeout=120, what="the review to be pending")["status"] == "pending"
    assert sfn.describe_execution(executionArn=execution_arn)["status"] == "RUNNING"
    history = sfn.get_execution_history(executionArn=execution_arn, maxResults=1000)["events"]
    scheduled = [event for event in history if event["type"] == "TaskScheduled"]
    assert scheduled[-1]["taskScheduledEventDetails"]["resource"] == "invoke.waitForTaskToken"

    # And the reviewer finds it in the queue, with what the review needs and nothing else of the owner's
    queue = reviewer.ok("GET", "/v1/reviews", params={"status": "pending", "limit": 100})
    assert review_id in [review["review_id"] for review in queue["reviews"]]
    review = reviewer.ok("GET", f"/v1/reviews/{review_id}")
    assert (review["status"], review["kind"], review["category"], review["confidence"]) == (
        "pending",
        "image",
        "shapes",
        0.41,
    )
    assert review["ai"]["result"] == AI_RESULT
    assert "holiday-private" not in json.dumps(review)
    thumbnail = requests.get(review["thumbnail"]["url"], timeout=30)
    assert thumbnail.status_code == 200
    assert thumbnail.content[:4] in (
        b"\x89PNG",
        b"\xff\xd8\xff\xe0",
        b"\xff\xd8\xff\xe1",
        b"\xff\xd8\xff\xdb",
    )

    # When a user without the reviewer role decides: 403, and nothing changes
    refused = stranger("POST", f"/v1/reviews/{review_id}/decision", json={"decision": "approve"})
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "Forbidden")
    assert stranger("GET", "/v1/reviews").status_code == 403
    # And the reviewer cannot read the owner's file, nor find it
    assert reviewer("GET", f"/v1/files/{file_id}").status_code == 404
    assert reviewer("GET", f"/v1/files/{file_id}/events", params={"wait": 0}).status_code == 404
    assert file_id not in reviewer("GET", "/v1/files").text
    assert sfn.describe_execution(executionArn=execution_arn)["status"] == "RUNNING"

    # When the reviewer corrects the description
    decided = reviewer.ok(
        "POST",
        f"/v1/reviews/{review_id}/decision",
        json={"decision": "correct", "changes": {"description": "a small red square"}, "note": "colour"},
    )
    assert (decided["status"], decided["decision"]) == ("decided", "correct")

    # Then the execution resumes and SUCCEEDS, with the decision at $.review
    def ended() -> dict[str, Any] | None:
        described = sfn.describe_execution(executionArn=execution_arn)
        return dict(described) if described["status"] != "RUNNING" else None

    described = wait_for(ended, timeout=120, what="the execution to resume and end")
    assert described["status"] == "SUCCEEDED"
    output = json.loads(described["output"])
    assert output["review"] == {"review_id": review_id, "decision": "correct"}
    assert output["finalize"]["status"] == "processed"
    # And the file's analysis shows the correction, and the owner sees the review decided
    after = owner.ok("GET", f"/v1/files/{file_id}")
    assert after["analysis"]["ai"]["result"] == {**AI_RESULT, "description": "a small red square"}
    assert after["analysis"]["ai"]["corrected_fields"] == ["description"]
    assert (after["review"]["status"], after["review"]["decision"], after["review"]["changes"]) == (
        "decided",
        "correct",
        {"description": "a small red square"},
    )
    # And a second decision is refused
    again = reviewer("POST", f"/v1/reviews/{review_id}/decision", json={"decision": "reject"})
    assert (again.status_code, again.json()["error"]["code"]) == (409, "ReviewAlreadyDecided")
    # And the decision is in the feedback export, with the approval rates last
    export = reviewer("GET", "/v1/reviews/feedback", params={"since": decided["decided_at"]})
    assert export.headers["content-type"].startswith("application/x-ndjson")
    *lines, summary = [json.loads(line) for line in export.text.splitlines()]
    mine = [line for line in lines if line["review_id"] == review_id]
    assert [(line["decision"], line["changes"]) for line in mine] == [
        ("correct", {"description": {"from": "a small square", "to": "a small red square"}})
    ]
    assert summary["type"] == "summary"
    assert summary["categories"]["shapes"]["corrected"] >= 1
