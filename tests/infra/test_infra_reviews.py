"""The human review gate in the workflow: a waitForTaskToken task with the token in its payload, its
timeout and the timeout rule's path to Finalize, the Choice that sends only files needing review, and
who may resume an execution (the API, on this state machine only)."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import App

from infra.context import ReviewContext, review_context
from tests.infra.synth import Synthesized
from tools.export_pipeline import asl_document

WAIT_FOR_TOKEN = "arn:aws:states:::lambda:invoke.waitForTaskToken"


def _states(review: ReviewContext | None = None) -> dict[str, Any]:
    states: dict[str, Any] = asl_document(review)["States"]
    return states


def _catch(state: dict[str, Any], error: str) -> dict[str, Any]:
    return next(catch for catch in state["Catch"] if catch["ErrorEquals"] == [error])


def test_a_file_needing_review_waits_on_a_task_token_then_goes_to_finalize() -> None:
    states = _states()
    # Given the Choice after the AI stage: only an AI result that asks for review goes to Review
    choice = states["NeedsReview"]
    [rule] = choice["Choices"]
    assert rule == {
        "And": [
            {"Variable": "$.ai.review_required", "IsPresent": True},
            {"Variable": "$.ai.review_required", "BooleanEquals": True},
        ],
        "Next": "Review",
    }
    assert choice["Default"] == "Finalize"
    assert states["AI"]["Next"] == "NeedsReview"
    # Then Review invokes the review function and waits for the token it passes ($$.Task.Token)
    review = states["Review"]
    assert review["Resource"] == WAIT_FOR_TOKEN
    assert review["Parameters"]["FunctionName"] == "${ReviewStageFunction}"
    payload = review["Parameters"]["Payload"]
    assert (payload["action"], payload["task_token.$"], payload["state.$"]) == ("open", "$$.Task.Token", "$")
    # And the decision (SendTaskSuccess's output) lands at $.review, then Finalize applies it
    assert review["ResultPath"] == "$.review"
    assert review["Next"] == "Finalize"
    # And the default timeout is a day
    assert review["TimeoutSeconds"] == 86400


def test_the_escalate_rule_waits_once_more_then_expires_and_finalizes() -> None:
    states = _states(ReviewContext(timeout_seconds=120, timeout_rule="escalate"))
    review, escalate, expire = states["Review"], states["EscalateReview"], states["ExpireReview"]
    # A timed-out review is escalated: a second wait on a new token, for the same time
    assert _catch(review, "States.Timeout")["Next"] == "EscalateReview"
    assert review["TimeoutSeconds"] == escalate["TimeoutSeconds"] == 120
    assert escalate["Resource"] == WAIT_FOR_TOKEN
    assert escalate["Parameters"]["Payload"]["action"] == "escalate"
    assert escalate["Parameters"]["Payload"]["task_token.$"] == "$$.Task.Token"
    assert escalate["Next"] == "Finalize"
    # Then, timed out again, a function expires it (a plain invoke) and the workflow ends normally
    assert _catch(escalate, "States.Timeout")["Next"] == "ExpireReview"
    assert expire["Resource"] == "${ReviewStageFunction}"
    assert expire["Parameters"]["action"] == "expire"
    assert (expire["ResultPath"], expire["Next"]) == ("$.review", "Finalize")
    # And any other error of these tasks goes to the failure path, never hangs
    for state in (review, escalate, expire):
        assert state["Catch"][-1] == {
            "ErrorEquals": ["States.ALL"],
            "ResultPath": "$.error",
            "Next": "RecordFailure",
        }


def test_the_reject_rule_expires_the_review_at_the_first_timeout() -> None:
    states = _states(ReviewContext(timeout_seconds=30, timeout_rule="reject"))
    assert "EscalateReview" not in states
    assert _catch(states["Review"], "States.Timeout")["Next"] == "ExpireReview"
    assert states["Review"]["TimeoutSeconds"] == 30
    assert states["ExpireReview"]["Next"] == "Finalize"


def test_the_review_settings_come_from_context_and_are_checked() -> None:
    assert review_context(App()) == ReviewContext(timeout_seconds=86400, timeout_rule="escalate")
    given = App(context={"review_timeout_seconds": "60", "review_timeout_rule": "reject"})
    assert review_context(given) == ReviewContext(timeout_seconds=60, timeout_rule="reject")
    with pytest.raises(ValueError, match="review_timeout_rule"):
        review_context(App(context={"review_timeout_rule": "ignore"}))
    with pytest.raises(ValueError, match="review_timeout_seconds"):
        review_context(App(context={"review_timeout_seconds": 0}))


def _statements_with(synthesized: Synthesized, prefix: str) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for policy in synthesized.of_type("AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            if any(str(action).startswith(prefix) for action in actions):
                for role in policy["Properties"]["Roles"]:
                    found.append((role["Ref"], statement))
    return found


def test_only_the_api_may_resume_an_execution_and_only_on_this_state_machine(
    synthesized: Synthesized,
) -> None:
    stack = synthesized.stack
    api_role = synthesized.logical_id(stack.api.handler.role)
    machine = synthesized.logical_id(stack.pipeline.state_machine)
    # Given every statement that grants a task response
    granted = _statements_with(synthesized, "states:SendTask")
    # Then only the API's role has one: SendTaskSuccess and SendTaskFailure on the workflow, nothing else
    assert [role for role, _ in granted] == [api_role]
    [(_, statement)] = granted
    assert sorted(statement["Action"]) == ["states:SendTaskFailure", "states:SendTaskSuccess"]
    assert statement["Resource"] == {"Ref": machine}
