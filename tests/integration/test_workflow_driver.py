"""The in-process driver (workflow.py) against the state machine it mirrors (infra/.../definition.py).

The definition is rendered with CDK (no deploy, no synth of the stack) and compared state by state with
the driver's tables: same states, transitions, result paths, Catches, Choice rules and stage payload.
"""

from __future__ import annotations

from typing import Any

import pytest

from infra.constructs.pipeline import lanes
from tests.integration import workflow

PAYLOAD = {"state.$": "$", "execution_arn.$": "$$.Execution.Id", "retry_count.$": "$$.State.RetryCount"}


@pytest.fixture(scope="module")
def rendered() -> dict[str, Any]:
    """The definition's states (Amazon States Language), as CDK renders them."""
    from aws_cdk import App, Stack
    from aws_cdk import aws_dynamodb as dynamodb
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk import aws_stepfunctions as sfn

    from infra.constructs.pipeline.definition import build_definition
    from infra.constructs.pipeline.lanes import StandardLane
    from infra.constructs.pipeline.stages import STAGES_BY_NAME

    stack = Stack(App(), "Pipeline")
    functions = {
        name: lambda_.Function.from_function_arn(
            stack, name, f"arn:aws:lambda:us-east-1:123456789012:function:{name}"
        )
        for name in STAGES_BY_NAME
    }
    table = dynamodb.Table.from_table_name(stack, "Table", "fileflow-metadata")
    chain = build_definition(stack, functions, StandardLane(stack, table=table, slots=workflow.LANE_SLOTS))
    graph = dict(sfn.StateGraph(chain.start_state, "pipeline").to_graph_json())
    assert graph["StartAt"] == workflow.START
    states: dict[str, Any] = graph["States"]
    return states


_COMPARISONS = ("StringEquals", "BooleanEquals", "NumericGreaterThanEquals", "StringMatches", "IsPresent")


def _rule(choice: dict[str, Any]) -> tuple[str, Any, str]:
    """(variable, compared value, next) of a Choice rule; an IsPresent guard of an And is left out."""
    rule = choice
    if "And" in choice:
        [rule] = [part for part in choice["And"] if part.get("IsPresent") is not True]
    [value] = [rule[key] for key in _COMPARISONS if key in rule]
    return rule["Variable"], value, choice["Next"]


def _integration(state: dict[str, Any]) -> str | None:
    """An optimised integration's name (`arn:<partition>:states:::<name>`); None for a function's ARN."""
    _, found, name = str(state["Resource"]).partition(":states:::")
    return name if found else None


def normalized(states: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """What the driver mirrors of each state (retries, timeouts, expressions and ARNs aside)."""
    shapes: dict[str, dict[str, Any]] = {}
    for name, state in states.items():
        shape: dict[str, Any] = {"Type": state["Type"]}
        if state["Type"] == "Task" and _integration(state) is not None:
            shape |= {
                "Integration": _integration(state),
                "Next": state["Next"],
                "Catch": [(c["ErrorEquals"], c["Next"]) for c in state.get("Catch", [])],
            }
        elif state["Type"] == "Task":
            shape |= {
                "Stage": state["Resource"].rsplit(":", 1)[1],
                "ResultPath": state["ResultPath"],
                "Next": state["Next"],
                "Catch": [(c["ErrorEquals"], c["ResultPath"], c["Next"]) for c in state.get("Catch", [])],
            }
        elif state["Type"] == "Choice":
            shape |= {"Choices": [_rule(c) for c in state["Choices"]], "Default": state["Default"]}
        elif state["Type"] in ("Pass", "Wait"):
            shape |= {"Next": state["Next"]}
        elif state["Type"] == "Fail":
            shape |= {"Error": state["Error"], "Cause": state["Cause"]}
        shapes[name] = shape
    return shapes


def mirrored() -> dict[str, dict[str, Any]]:
    shapes: dict[str, dict[str, Any]] = {}
    for name, (stage, result_path) in workflow.TASKS.items():
        catch = workflow.CATCHES.get(name)
        shapes[name] = {
            "Type": "Task",
            "Stage": stage,
            "ResultPath": f"$.{result_path}",
            "Next": workflow.NEXT[name],
            "Catch": [(["States.ALL"], f"$.{catch[1]}", catch[0])] if catch else [],
        }
    for name, (integration, next_state, catches) in workflow.LANE_TASKS.items():
        shapes[name] = {"Type": "Task", "Integration": integration, "Next": next_state, "Catch": catches}
    shapes |= {name: {"Type": "Pass", "Next": next_state} for name, next_state in workflow.PASSES.items()}
    shapes["WaitForStandardSlot"] = {"Type": "Wait", "Next": "AcquireStandardSlot"}
    # The review tasks that wait for a token: a timeout takes the (default, escalate) rule's path.
    for name in workflow.WAITING:
        shapes[name] = {
            "Type": "Task",
            "Integration": "lambda:invoke.waitForTaskToken",
            "Next": "Finalize",
            "Catch": [
                (["States.Timeout"], workflow.ON_TIMEOUT["escalate"][name]),
                (["States.ALL"], "RecordFailure"),
            ],
        }
    shapes["NeedsReview"] = {
        "Type": "Choice",
        "Choices": [("$.ai.review_required", True, "Review")],
        "Default": "Finalize",
    }
    shapes["ChooseLane"] = {
        "Type": "Choice",
        "Choices": [
            ("$.file.priority", False, "DefaultPriority"),
            ("$.file.priority", lanes.URGENT_PRIORITY, "UrgentLane"),
        ],
        "Default": "StandardLane",
    }
    shapes["HoldsStandardSlot"] = {
        "Type": "Choice",
        "Choices": [("$.lane.check.item", "*:*", "Detect")],
        "Default": "WaitForStandardSlot",
    }
    for name, (release, end) in workflow.RELEASES.items():
        shapes[name] = {"Type": "Choice", "Choices": [("$.lane.name", "standard", release)], "Default": end}
    shapes["RouteByKind"] = {
        "Type": "Choice",
        "Choices": [("$.detect.kind", kind, state) for kind, state in workflow.ROUTES.items()],
        "Default": "HeldSlotUnroutable",
    }
    shapes["FailureIsFatal"] = {
        "Type": "Choice",
        "Choices": [("$.failure.fatal", True, "ProcessingFailed")],
        "Default": "FileRejected",
    }
    shapes |= {name: {"Type": "Succeed"} for name in workflow.SUCCEED_STATES}
    shapes |= {
        name: {"Type": "Fail", "Error": error, "Cause": cause}
        for name, (error, cause) in workflow.FAIL_STATES.items()
    }
    return shapes


def test_the_driver_mirrors_every_state_of_the_definition(rendered: dict[str, Any]) -> None:
    # Given the rendered definition / When normalized / Then it is exactly what the driver runs
    assert normalized(rendered) == mirrored()


def test_every_task_gets_the_payload_the_driver_sends_and_retries_transient_errors(
    rendered: dict[str, Any],
) -> None:
    tasks = {
        name: state
        for name, state in rendered.items()
        if state["Type"] == "Task" and _integration(state) is None
    }
    assert set(tasks) == set(workflow.TASKS)
    for name, state in tasks.items():
        # The review function's payload also names its action (the driver's, for ExpireReview)
        expected = {**PAYLOAD, "action": "expire"} if name == "ExpireReview" else PAYLOAD
        assert state["Parameters"] == expected, name
        # The driver does not retry: it catches a TransientStageError at once, as after the last retry
        retried = {error for retry in state["Retry"] for error in retry["ErrorEquals"]}
        assert "TransientStageError" in retried, name
        assert not retried & {"FileRejected", "FileDeleted", "States.ALL"}, name
