"""The human review queue on the deployed stack: a low-confidence AI result pauses the file's workflow on a
task token (waitForTaskToken on the local cloud's Step Functions), a reviewer corrects it through the
API, the execution resumes and SUCCEEDS, and the file's analysis shows the correction; a non-reviewer's
decision gets 403 and the reviewer cannot read the owner's files.

The low confidence is Claude's own, through the emulator the suite starts: the owner's PNG is uploaded for
`deep` analysis, and the emulator answers the AI stage's forced tool with a confidence of 0.41 for this
owner only. Everything after the upload is the deployed stack's code: the AI stage, the Choice, the review
function, the wait, the API's SendTaskSuccess, finalize and notify.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import requests

from tests import samples
from tests.e2e.polling import wait_for
from tests.e2e.test_isolation import Client
from tests.e2e.uploading import upload
from tests.support.claude_emulator import ClaudeEmulator
from tools.stack import StackOutputs, client_kwargs
from tools.token import TokenFactory

AI_RESULT = {
    "description": "a small square",
    "tags": ["square"],
    "text_seen": "",
    "category": "diagram",
    "moderation": {"adult": False, "violence": False, "hate": False, "self_harm": False},
    "confidence": 0.41,
}


@pytest.fixture(scope="module")
def people(stack: StackOutputs, claude_emulator: ClaudeEmulator) -> Iterator[tuple[Client, Client, Client]]:
    """The owner (whose files Claude, through the emulator, is unsure of), a reviewer and a stranger."""
    tokens = TokenFactory.for_stack(stack)
    run = uuid.uuid4().hex[:8]
    owner = f"e2e-rv-owner-{run}"
    claude_emulator.set_tool_input(owner, AI_RESULT)
    yield (
        Client(stack.api_url, tokens.valid(owner)),
        Client(stack.api_url, tokens.reviewer(f"e2e-rv-rita-{run}")),
        Client(stack.api_url, tokens.valid(f"e2e-rv-bob-{run}")),
    )
    claude_emulator.reset(owner)


def test_a_low_confidence_result_waits_for_a_reviewer_whose_correction_finalizes_the_file(
    stack: StackOutputs, people: tuple[Client, Client, Client]
) -> None:
    owner, reviewer, stranger = people
    sfn = boto3.client("stepfunctions", **client_kwargs())
    # Given the owner's PNG, uploaded for Claude's analysis, which comes back with a confidence of 0.41
    file_id = upload(
        owner, samples.png(), filename="holiday-private.png", content_type="image/png", analysis="deep"
    ).file_id

    # Then the workflow waits on the review: pending, for the owner to see on the file
    def pending() -> dict[str, Any] | None:
        body: dict[str, Any] = owner.ok("GET", f"/v1/files/{file_id}")
        review = body.get("review")
        return body if review and review.get("status") == "pending" else None

    file = wait_for(pending, timeout=180, interval=0.5, what="the review to be pending")
    review_id, execution_arn = file["review"]["review_id"], file["execution_arn"]
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
        "diagram",
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
    assert summary["categories"]["diagram"]["corrected"] >= 1
