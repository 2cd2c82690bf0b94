"""The human review queue in-process on moto: a file whose AI result needs review waits on its task token
(the workflow driver's Review task), the review item holds what the reviewer needs, the reviewer decides
through the API (routes, roles, pagination, feedback export), and finalize applies the decision.

Most tests stand in for the AI stage where it leaves its output (inject at NeedsReview: the job's `ai`
result and `$.ai`), so each decides what the AI said; the last goes through the AI stage itself, Claude
being the emulator over real HTTP (tests/support/claude_emulator.py). moto's SendTaskSuccess accepts any
token and keeps nothing, so the API's task-token sender is a recording fake here (RecordingTaskTokens);
its Step Functions adapter is tested with botocore's
Stubber (the refusals' error codes).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any, ClassVar

import pytest
from botocore.stub import Stubber

from fileflow_api import handler as api_handler
from fileflow_api.handler import lambda_handler
from fileflow_api.reviews.adapters import SfnTaskTokens
from fileflow_api.reviews.service import TaskTokenExpiredError, TaskTokenInvalidError
from fileflow_common.aws import stepfunctions_client
from fileflow_common.dynamo import to_dynamo
from fileflow_common.reviews import review_id_for
from tests import samples
from tests.integration.api_requests import Answer, api_event, call
from tests.integration.conftest import Cloud, FakeLambdaContext
from tests.integration.processing import USER, declare, file_item, jobs_of, new_file_id, upload, upload_id_of
from tests.integration.stages.conftest import process
from tests.integration.stages.test_ai_stage import IMAGE_ANSWER, claude, emulator  # noqa: F401 - fixtures
from tests.support.claude_emulator import ClaudeEmulator

REVIEWER = "user-rita"
OTHER_REVIEWER = "user-raj"
AI_RESULT = {"description": "a red square", "tags": ["square"], "category": "shapes", "confidence": 0.41}


class RecordingTaskTokens:
    """The API's TaskTokens: every SendTaskSuccess it would make; `refusal` makes the next one fail."""

    sent: ClassVar[list[tuple[str, dict[str, Any]]]] = []
    refusal: ClassVar[Exception | None] = None

    def __init__(self, client: Any) -> None:
        pass

    def succeed(self, token: str, output: Mapping[str, Any]) -> None:
        if RecordingTaskTokens.refusal is not None:
            refusal, RecordingTaskTokens.refusal = RecordingTaskTokens.refusal, None
            raise refusal
        RecordingTaskTokens.sent.append((token, dict(output)))


@pytest.fixture(autouse=True)
def task_tokens(monkeypatch: pytest.MonkeyPatch) -> type[RecordingTaskTokens]:
    RecordingTaskTokens.sent, RecordingTaskTokens.refusal = [], None
    monkeypatch.setattr(api_handler, "SfnTaskTokens", RecordingTaskTokens)
    return RecordingTaskTokens


def ai_stands_in(cloud: Cloud, *, confidence: float = 0.41, result: dict[str, Any] | None = None) -> Any:
    """The AI stage's part, where it would run (before NeedsReview): its job result and its output."""

    def inject(state_id: str, state: dict[str, Any]) -> dict[str, Any]:
        if state_id != "NeedsReview":
            return state
        file = state["file"]
        ai = {
            "status": "succeeded",
            "kind": "image",
            "model": "claude-cheap",
            "prompt_version": "v1",
            "confidence": confidence,
            "result": result or AI_RESULT,
            "usage": {"input_tokens": 900, "output_tokens": 120, "cost_usd": 0.002},
        }
        cloud.table.update_item(
            Key={"pk": f"FILE#{file['file_id']}", "sk": f"JOB#{file['job_id']}"},
            UpdateExpression="SET #result.#ai = :ai",
            ExpressionAttributeNames={"#result": "result", "#ai": "ai"},
            ExpressionAttributeValues={":ai": to_dynamo(ai)},
        )
        review_required = confidence < 0.8
        return {
            **state,
            "ai": {"ai_status": "succeeded", "confidence": confidence, "review_required": review_required},
        }

    return inject


def as_reviewer(context: FakeLambdaContext, method: str, path: str, **kwargs: Any) -> Answer:
    return call(context, method, path, user=REVIEWER, roles="reviewer", **kwargs)


def uploaded_png(cloud: Cloud) -> Any:
    file_id = new_file_id()
    declare(cloud, file_id, filename="private-red.png", content_type="image/png")
    uploaded = upload(cloud, samples.png(), file_id=file_id)
    # The session as POST /v1/uploads writes it, so GET /v1/files/{id} can show the file's lineage
    cloud.table.update_item(
        Key={"pk": f"USER#{USER}", "sk": f"UPLOAD#{upload_id_of(file_id)}"},
        UpdateExpression="SET #mode = :mode, filename = :name, content_type = :type, created_at = :at,"
        " session_expires_at = :at",
        ExpressionAttributeNames={"#mode": "mode"},
        ExpressionAttributeValues={
            ":mode": "single",
            ":name": "private-red.png",
            ":type": "image/png",
            ":at": "2026-05-04T10:00:00.000Z",
        },
    )
    return uploaded


def test_a_low_confidence_result_waits_for_a_reviewer_whose_correction_finalizes_the_file(
    cloud: Cloud, lambda_context: FakeLambdaContext, task_tokens: type[RecordingTaskTokens]
) -> None:
    # Given an uploaded PNG whose AI result has a confidence of 0.41 (below the 0.8 threshold)
    uploaded = uploaded_png(cloud)
    review_id = review_id_for(uploaded.job_id)
    seen: dict[str, Any] = {}

    def reviewer_decides(state_id: str, token: str, state: dict[str, Any]) -> dict[str, Any] | None:
        # While the execution waits: the review is pending, on the file for its owner too
        owner_view = call(lambda_context, "GET", f"/v1/files/{uploaded.file_id}", user=USER)
        seen["owner_review"] = owner_view.body["review"]
        seen["listing"] = as_reviewer(lambda_context, "GET", "/v1/reviews", query={"status": "pending"}).body
        seen["review"] = as_reviewer(lambda_context, "GET", f"/v1/reviews/{review_id}").body
        # A user without the role is refused on every review route, the decision included
        seen["refused"] = [
            call(lambda_context, method, path, user=USER, body=body).status
            for method, path, body in (
                ("GET", "/v1/reviews", None),
                ("GET", f"/v1/reviews/{review_id}", None),
                ("GET", "/v1/reviews/feedback", None),
                ("POST", f"/v1/reviews/{review_id}/decision", {"decision": "approve"}),
            )
        ]
        # And the reviewer cannot read the owner's file through the file routes
        seen["reviewer_file"] = as_reviewer(lambda_context, "GET", f"/v1/files/{uploaded.file_id}").status
        # When the reviewer corrects the description
        decided = as_reviewer(
            lambda_context,
            "POST",
            f"/v1/reviews/{review_id}/decision",
            body={"decision": "correct", "changes": {"description": "a red square on white"}, "note": "ok"},
        )
        seen["decided"] = decided
        seen["again"] = call(
            lambda_context,
            "POST",
            f"/v1/reviews/{review_id}/decision",
            user=OTHER_REVIEWER,
            roles="reviewer",
            body={"decision": "reject"},
        )
        # Then the API resumed the execution with the task token the review waits on
        [(sent_token, output)] = task_tokens.sent
        assert sent_token == token
        return output

    execution = process(uploaded, inject=ai_stands_in(cloud), on_review=reviewer_decides)

    # The execution waited in Review, resumed with the decision and SUCCEEDED through Finalize
    assert (execution.status, execution.caught) == ("SUCCEEDED", [])
    assert execution.visited[execution.visited.index("NeedsReview") :][:3] == [
        "NeedsReview",
        "Review",
        "Finalize",
    ]
    assert execution.state["review"] == {"review_id": review_id, "decision": "correct"}
    # While it waited, the owner saw the review pending and the reviewer found it in the queue
    assert seen["owner_review"] == {"review_id": review_id, "status": "pending"}
    assert [review["review_id"] for review in seen["listing"]["reviews"]] == [review_id]
    review = seen["review"]
    assert (review["status"], review["kind"], review["category"], review["confidence"]) == (
        "pending",
        "image",
        "shapes",
        0.41,
    )
    assert review["ai"]["result"] == AI_RESULT
    assert review["thumbnail"]["url"].startswith("https://")
    # And the reviewer saw what the review holds and nothing else of the owner's
    assert "private-red" not in json.dumps(review)
    assert USER not in json.dumps({name: value for name, value in review.items() if name != "thumbnail"})
    assert set(review) == {
        "review_id", "status", "kind", "category", "confidence", "created_at", "escalated_at", "decided_at",
        "ai", "features", "excerpt", "thumbnail", "decision", "reviewer", "changes", "note",
    }  # fmt: skip
    assert seen["refused"] == [403, 403, 403, 403]
    assert seen["reviewer_file"] == 404
    # The decision answered 200 with the decided review; a second one is a conflict
    assert seen["decided"].status == 200
    assert (seen["decided"].body["status"], seen["decided"].body["reviewer"]) == ("decided", REVIEWER)
    assert (seen["again"].status, seen["again"].error_code) == (409, "ReviewAlreadyDecided")
    # And the file's analysis shows the correction, the owner sees the review decided
    item = file_item(cloud, uploaded.file_id)
    assert item["analysis"]["ai"]["result"]["description"] == "a red square on white"
    assert item["analysis"]["ai"]["result"]["tags"] == ["square"]
    assert item["analysis"]["review"]["decision"] == "correct"
    owner = call(lambda_context, "GET", f"/v1/files/{uploaded.file_id}", user=USER).body
    assert owner["status"] == "processed"
    assert (owner["review"]["status"], owner["review"]["decision"], owner["review"]["reviewer"]) == (
        "decided",
        "correct",
        REVIEWER,
    )
    assert owner["analysis"]["ai"]["corrected_fields"] == ["description"]
    [job] = jobs_of(cloud, uploaded.file_id)
    assert job["result"]["review"]["changes"] == {"description": "a red square on white"}


def test_a_confident_result_goes_straight_to_finalize(cloud: Cloud) -> None:
    uploaded = uploaded_png(cloud)
    execution = process(uploaded, inject=ai_stands_in(cloud, confidence=0.95))
    assert execution.status == "SUCCEEDED"
    assert "Review" not in execution.visited
    assert (
        cloud.table.get_item(Key={"pk": f"REVIEW#{review_id_for(uploaded.job_id)}", "sk": "REVIEW"}).get(
            "Item"
        )
        is None
    )


@pytest.mark.parametrize(
    ("rule", "path"),
    [("escalate", ["Review", "EscalateReview", "ExpireReview"]), ("reject", ["Review", "ExpireReview"])],
)
def test_a_review_that_waits_past_its_time_is_closed_by_the_rule_and_the_file_finalized(
    cloud: Cloud, lambda_context: FakeLambdaContext, rule: str, path: list[str]
) -> None:
    uploaded = uploaded_png(cloud)
    review_id = review_id_for(uploaded.job_id)
    statuses: list[str] = []

    def nobody_decides(state_id: str, token: str, state: dict[str, Any]) -> None:
        statuses.append(as_reviewer(lambda_context, "GET", f"/v1/reviews/{review_id}").body["status"])
        return None

    execution = process(uploaded, inject=ai_stands_in(cloud), on_review=nobody_decides, review_rule=rule)
    # The rule's path, then Finalize: the workflow ends normally
    assert execution.status == "SUCCEEDED"
    start = execution.visited.index("Review")
    assert execution.visited[start : start + len(path) + 1] == [*path, "Finalize"]
    assert statuses == (["pending", "escalated"] if rule == "escalate" else ["pending"])
    # And the review is expired, the AI result dropped as rejected; a late decision is refused precisely
    item = file_item(cloud, uploaded.file_id)
    assert (item["analysis"]["ai"]["rejected"], item["analysis"]["ai"]["result"]) == (True, None)
    assert item["review"]["status"] == "expired"
    late = as_reviewer(
        lambda_context, "POST", f"/v1/reviews/{review_id}/decision", body={"decision": "approve"}
    )
    assert (late.status, late.error_code) == (409, "ReviewExpired")


def test_a_token_step_functions_no_longer_waits_on_gives_409_and_the_review_stays_pending(
    cloud: Cloud, lambda_context: FakeLambdaContext, task_tokens: type[RecordingTaskTokens]
) -> None:
    uploaded = uploaded_png(cloud)
    review_id = review_id_for(uploaded.job_id)
    answers: list[Answer] = []

    def too_late(state_id: str, token: str, state: dict[str, Any]) -> dict[str, Any] | None:
        task_tokens.refusal = TaskTokenExpiredError("TaskTimedOut")
        decision = {"decision": "approve"}
        answers.append(
            as_reviewer(lambda_context, "POST", f"/v1/reviews/{review_id}/decision", body=decision)
        )
        answers.append(as_reviewer(lambda_context, "GET", f"/v1/reviews/{review_id}"))
        task_tokens.refusal = TaskTokenInvalidError("InvalidToken")
        answers.append(
            as_reviewer(lambda_context, "POST", f"/v1/reviews/{review_id}/decision", body=decision)
        )
        return None

    process(uploaded, inject=ai_stands_in(cloud), on_review=too_late, review_rule="reject")
    expired, after, invalid = answers
    assert (expired.status, expired.error_code) == (409, "ReviewExpired")
    assert "TaskTimedOut" in expired.body["error"]["message"]
    assert (after.body["status"], after.body["decision"]) == ("pending", None)
    assert (invalid.status, invalid.error_code) == (409, "ReviewTokenRejected")


def test_invalid_decisions_are_refused_before_anything_changes(
    cloud: Cloud, lambda_context: FakeLambdaContext, task_tokens: type[RecordingTaskTokens]
) -> None:
    uploaded = uploaded_png(cloud)
    review_id = review_id_for(uploaded.job_id)
    answers: list[Answer] = []

    def invalid(state_id: str, token: str, state: dict[str, Any]) -> dict[str, Any] | None:
        for body in (
            {"decision": "correct", "changes": {"colour": "blue"}},
            {"decision": "correct", "changes": {"tags": "square"}},
            {"decision": "correct"},
            {"decision": "approve", "changes": {"description": "x"}},
            {"decision": "maybe"},
        ):
            answers.append(
                as_reviewer(lambda_context, "POST", f"/v1/reviews/{review_id}/decision", body=body)
            )
        answers.append(
            as_reviewer(lambda_context, "POST", "/v1/reviews/rv_nope/decision", body={"decision": "approve"})
        )
        return None

    process(uploaded, inject=ai_stands_in(cloud), on_review=invalid, review_rule="reject")
    assert [(answer.status, answer.error_code) for answer in answers] == [
        (422, "InvalidChanges"),
        (422, "InvalidChanges"),
        (422, "InvalidChanges"),
        (422, "InvalidDecision"),
        (422, "InvalidRequest"),
        (404, "ReviewNotFound"),
    ]
    assert task_tokens.sent == []


def test_the_queue_pages_with_cursors_and_the_feedback_export_gives_lines_and_rates(
    cloud: Cloud, lambda_context: FakeLambdaContext
) -> None:
    # Given two reviews closed by the timeout rule (expired: no decision of a reviewer's)
    expired = [uploaded_png(cloud) for _ in range(2)]
    for uploaded in expired:
        process(uploaded, inject=ai_stands_in(cloud), on_review=lambda *_: None, review_rule="reject")
    # When the reviewer pages through them one at a time
    first = as_reviewer(lambda_context, "GET", "/v1/reviews", query={"status": "expired", "limit": "1"}).body
    query = {"status": "expired", "limit": "1", "cursor": first["next_cursor"]}
    second = as_reviewer(lambda_context, "GET", "/v1/reviews", query=query).body
    # Then both come, oldest first, each once
    listed = [review["review_id"] for review in (*first["reviews"], *second["reviews"])]
    assert listed == [review_id_for(uploaded.job_id) for uploaded in expired]
    # And a cursor is the reviewer's own and the listing's own
    foreign = call(lambda_context, "GET", "/v1/reviews", user=OTHER_REVIEWER, roles="reviewer", query=query)
    other_status = as_reviewer(lambda_context, "GET", "/v1/reviews", query={**query, "status": "decided"})
    assert [(answer.status, answer.error_code) for answer in (foreign, other_status)] == [
        (400, "InvalidCursor"),
        (400, "InvalidCursor"),
    ]

    # Given three reviews decided approve, reject and correct
    decisions = iter([("approve", None), ("reject", None), ("correct", {"tags": ["square", "red"]})])

    def decide(state_id: str, token: str, state: dict[str, Any]) -> dict[str, Any] | None:
        review_id = review_id_for(state["file"]["job_id"])
        decision, changes = next(decisions)
        body: dict[str, Any] = {"decision": decision, **({"changes": changes} if changes else {})}
        answer = as_reviewer(lambda_context, "POST", f"/v1/reviews/{review_id}/decision", body=body)
        assert answer.status == 200, answer.body
        return {"review_id": review_id, "decision": decision}

    for uploaded in [uploaded_png(cloud) for _ in range(3)]:
        process(uploaded, inject=ai_stands_in(cloud), on_review=decide)
    # When the feedback is exported
    status, content_type, text = raw_call(
        lambda_context, "/v1/reviews/feedback", query={"since": "2020-01-01T00:00:00Z"}
    )
    # Then one JSON line per decision (who, when, what changed), then the summary with the rates
    assert (status, content_type.split(";")[0]) == (200, "application/x-ndjson")
    *decided, summary = [json.loads(line) for line in text.splitlines()]
    assert [line["decision"] for line in decided] == ["approve", "reject", "correct"]
    assert all(line["reviewer"] == REVIEWER and line["decided_at"] for line in decided)
    assert decided[2]["changes"] == {"tags": {"from": ["square"], "to": ["square", "red"]}}
    assert summary["type"] == "summary"
    assert summary["categories"]["shapes"] == {
        "decisions": 3,
        "approved": 1,
        "corrected": 1,
        "rejected": 1,
        "approval_rate": 0.3333,
    }
    # And `since` leaves out what was decided before it
    _, _, later = raw_call(lambda_context, "/v1/reviews/feedback", query={"since": decided[2]["decided_at"]})
    assert [json.loads(line)["type"] for line in later.splitlines()] == ["decision", "summary"]


def raw_call(context: FakeLambdaContext, path: str, *, query: dict[str, str]) -> tuple[int, str, str]:
    """A reviewer's GET whose body is not one JSON document (the ndjson export)."""
    response = lambda_handler(api_event("GET", path, query=query, user=REVIEWER, roles="reviewer"), context)
    return response["statusCode"], response["headers"]["content-type"], response["body"]


def test_the_step_functions_adapter_names_each_refusal() -> None:
    client = stepfunctions_client()
    tokens = SfnTaskTokens(lambda: client)
    with Stubber(client) as stub:
        stub.add_response("send_task_success", {}, {"taskToken": "t1", "output": '{"decision": "approve"}'})
        stub.add_client_error("send_task_success", "TaskTimedOut", "Task Timed Out: 't2'")
        stub.add_client_error("send_task_success", "InvalidToken", "Invalid Token: 't3'")
        tokens.succeed("t1", {"decision": "approve"})
        with pytest.raises(TaskTokenExpiredError):
            tokens.succeed("t2", {"decision": "approve"})
        with pytest.raises(TaskTokenInvalidError):
            tokens.succeed("t3", {"decision": "approve"})


def test_a_low_confidence_answer_from_claude_waits_for_review_and_the_correction_finalizes(
    cloud: Cloud,
    claude: ClaudeEmulator,  # noqa: F811 - the fixture imported above
    lambda_context: FakeLambdaContext,
    task_tokens: type[RecordingTaskTokens],
) -> None:
    # Given Claude (the emulator, through the real SDK) answering an image with a confidence of 0.41
    user = f"user-{uuid.uuid4().hex[:10]}"
    claude.set_tool_input(user, {**IMAGE_ANSWER, "confidence": 0.41})
    file_id = new_file_id()
    declare(cloud, file_id, user=user, analysis_mode="deep", filename="card.png", content_type="image/png")
    uploaded = upload(cloud, samples.png(), file_id=file_id, user=user)
    seen: dict[str, Any] = {}

    def reviewer_corrects(state_id: str, token: str, state: dict[str, Any]) -> dict[str, Any] | None:
        seen["ai"] = state["ai"]
        review_id = review_id_for(state["file"]["job_id"])
        seen["review"] = as_reviewer(lambda_context, "GET", f"/v1/reviews/{review_id}").body
        decided = as_reviewer(
            lambda_context,
            "POST",
            f"/v1/reviews/{review_id}/decision",
            body={"decision": "correct", "changes": {"description": "a test card, reviewed"}},
        )
        assert decided.status == 200, decided.body
        [(_, output)] = task_tokens.sent
        return output

    # When its workflow runs (the AI stage calls Claude)
    execution = process(uploaded, on_review=reviewer_corrects)
    # Then the AI result asked for review, the execution waited in Review and SUCCEEDED after the decision
    assert execution.status == "SUCCEEDED"
    assert (seen["ai"]["ai_status"], seen["ai"]["review_required"]) == ("succeeded", True)
    start = execution.visited.index("AI")
    assert execution.visited[start : start + 4] == ["AI", "NeedsReview", "Review", "Finalize"]
    assert seen["review"]["ai"]["result"]["description"] == IMAGE_ANSWER["description"]
    assert seen["review"]["confidence"] == 0.41
    # And the file's analysis shows Claude's result with the reviewer's correction
    ai = file_item(cloud, file_id, user=user)["analysis"]["ai"]
    assert ai["result"]["description"] == "a test card, reviewed"
    assert ai["result"]["tags"] == IMAGE_ANSWER["tags"]
    assert ai["reviewed"] == "correct"
