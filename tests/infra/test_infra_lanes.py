"""Priority lanes: the standard lane's semaphore states, a release on every end, least privilege, the
reclaimer's schedule, and the limit from context."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_dynamodb as dynamodb

from fileflow_common import lanes as common_lanes
from infra.constructs.pipeline import lanes
from infra.context import standard_lane_slots
from tests.infra.synth import Synthesized
from tools.export_pipeline import asl_document

ACQUIRE = "AcquireStandardSlot"
END_TYPES = ("Succeed", "Fail")


def _states() -> dict[str, Any]:
    states: dict[str, Any] = asl_document()["States"]
    return states


def _next_states(state: dict[str, Any]) -> Iterator[str]:
    """Every state `state` can go on to: Next, Default, each Choice rule's and each Catch's."""
    yield from (target for target in (state.get("Next"), state.get("Default")) if target)
    yield from (choice["Next"] for choice in state.get("Choices", []))
    yield from (catch["Next"] for catch in state.get("Catch", []))


def _standard_lane_steps(name: str, state: dict[str, Any]) -> Iterator[str]:
    """Where a standard-lane execution can go from `name`: a HeldSlot* Choice sends it to its release."""
    if name.startswith("HeldSlot"):
        (rule,) = state["Choices"]
        yield rule["Next"]
        return
    yield from _next_states(state)


def test_the_standard_lane_takes_a_slot_with_a_conditional_update_and_waits_when_refused() -> None:
    states = _states()
    # Given the entry: the lane is chosen by priority, urgent files going straight to Detect
    choose = states["ChooseLane"]
    assert asl_document()["StartAt"] == "ChooseLane"
    [missing, urgent] = choose["Choices"]
    assert (missing["Variable"], missing["IsPresent"], missing["Next"]) == (
        "$.file.priority",
        False,
        "DefaultPriority",
    )
    assert (urgent["NumericGreaterThanEquals"], urgent["Next"]) == (7, "UrgentLane")
    assert states["UrgentLane"]["Next"] == "Detect"
    assert choose["Default"] == "StandardLane"
    assert states["StandardLane"]["Next"] == ACQUIRE
    # Then the standard lane takes a slot with the optimized DynamoDB integration: count < limit, not held
    acquire = states[ACQUIRE]
    assert acquire["Resource"] == "arn:aws:states:::dynamodb:updateItem"
    parameters = acquire["Parameters"]
    assert parameters["Key"] == {"pk": {"S": "LANE#standard"}, "sk": {"S": "SLOTS"}}
    assert parameters["UpdateExpression"] == "ADD #held :one SET #holder = :acquired_at"
    assert parameters["ConditionExpression"] == (
        "(attribute_not_exists(#held) OR #held < :limit) AND attribute_not_exists(#holder)"
    )
    assert parameters["ExpressionAttributeNames"] == {"#held": "held", "#holder.$": "$$.Execution.Name"}
    assert parameters["ExpressionAttributeValues"][":limit"] == {"N": "3"}
    assert parameters["ExpressionAttributeValues"][":acquired_at"] == {"S.$": "$$.State.EnteredTime"}
    assert acquire["Next"] == "Detect"
    # And its result is dropped (ResultPath null, present): the stages get the state, not DynamoDB's answer
    assert acquire["ResultPath"] is None
    # And a refused take waits (the priority's seconds) and tries again; never a blind retry
    assert "Retry" not in acquire
    refused, other = acquire["Catch"]
    assert (refused["ErrorEquals"], refused["Next"]) == (
        ["DynamoDB.ConditionalCheckFailedException"],
        "WaitForStandardSlot",
    )
    wait = states["WaitForStandardSlot"]
    assert (wait["Type"], wait["SecondsPath"], wait["Next"]) == ("Wait", "$.lane.wait_seconds", ACQUIRE)
    # And any other error reads whether the take happened anyway before going on or waiting
    assert (other["ErrorEquals"], other["Next"]) == (["States.ALL"], "CheckStandardSlot")
    check = states["CheckStandardSlot"]
    assert check["Resource"] == "arn:aws:states:::dynamodb:getItem"
    assert check["Parameters"]["ConsistentRead"] is True
    holds = states[check["Next"]]
    assert [rule["Next"] for rule in holds["Choices"]] == ["Detect"]
    assert holds["Default"] == "WaitForStandardSlot"


def test_lower_priorities_wait_longer_for_a_slot() -> None:
    # Given the wait table the StandardLane state indexes by priority
    expression = _states()["StandardLane"]["Parameters"]["wait_seconds.$"]
    table = expression.removeprefix("States.ArrayGetItem(States.Array(").removesuffix("), $.file.priority)")
    waits = [int(value) for value in table.split(", ")]
    # Then it is slot_wait_seconds for each priority, and never shorter for a lower priority
    assert waits[1:] == [lanes.slot_wait_seconds(priority) for priority in range(1, 10)]
    assert waits[1:] == sorted(waits[1:], reverse=True)
    assert waits[1] > waits[5] > waits[9] >= 1


def test_every_end_of_a_standard_lane_execution_is_reached_only_through_a_release() -> None:
    states = _states()
    ends = {name for name, state in states.items() if state["Type"] in END_TYPES}
    assert ends == {"Done", "FileRejected", "ProcessingFailed", "UnroutableKind"}
    releases = {name for name in states if name.startswith("ReleaseSlot")}
    # Given a standard-lane execution that holds its slot (after the take, or a check that found it)
    holding = [states[ACQUIRE]["Next"], *(rule["Next"] for rule in states["HoldsStandardSlot"]["Choices"])]
    # When every path from there is walked, every Next, Choice and Catch, releases excluded
    seen: set[str] = set()
    pending = list(holding)
    while pending:
        name = pending.pop()
        if name in seen or name in releases:
            continue
        seen.add(name)
        pending.extend(_standard_lane_steps(name, states[name]))
    # Then no end is reached without passing a release
    assert not seen & ends, seen & ends
    # And no task on the way can end the execution by an uncaught error (an implicit end, unreleased)
    uncaught = {
        name
        for name in seen
        if states[name]["Type"] == "Task"
        and not any("States.ALL" in catch["ErrorEquals"] for catch in states[name].get("Catch", []))
    }
    assert not uncaught, uncaught
    assert all("Default" in states[name] for name in seen if states[name]["Type"] == "Choice")
    # And each end's HeldSlot Choice: the standard lane to its release, which goes on to that end
    # whatever happens to the release; any other lane straight to the end
    for name in releases:
        release = states[name]
        assert release["Resource"] == "arn:aws:states:::dynamodb:updateItem"
        assert release["Parameters"]["UpdateExpression"] == "ADD #held :minus_one REMOVE #holder"
        assert release["Parameters"]["ConditionExpression"] == "attribute_exists(#holder)"
        assert release["ResultPath"] is None, name
        assert [catch["Next"] for catch in release["Catch"]] == [release["Next"]]
        assert release["Catch"][0]["ErrorEquals"] == ["States.ALL"]
        # A refused release (not held: never taken, or reclaimed) is not retried
        assert release["Retry"][0] == {
            "ErrorEquals": ["DynamoDB.ConditionalCheckFailedException"],
            "MaxAttempts": 0,
        }
        choice = states[name.replace("ReleaseSlot", "HeldSlot")]
        [rule] = choice["Choices"]
        assert rule["Next"] == name
        assert {"Variable": "$.lane.name", "StringEquals": "standard"} in rule["And"]
        assert choice["Default"] == release["Next"]
    # And every state that leads to an end leads to it through such a Choice (or is a release)
    for name, state in states.items():
        for target in _next_states(state):
            if target in ends:
                assert name.startswith(("HeldSlot", "ReleaseSlot")) or name == "FailureIsFatal", name


def test_the_failure_path_and_notify_no_longer_end_the_execution_without_releasing() -> None:
    states = _states()
    # Given the tasks whose error used to end the execution at once
    for name in ("RecordFailure", "NotifyFailure", "Notify"):
        # Then their errors go to ProcessingFailed through the release
        assert [catch["Next"] for catch in states[name]["Catch"]] == ["HeldSlotError"], name
    assert states["HeldSlotError"]["Default"] == "ProcessingFailed"
    assert states["RouteByKind"]["Default"] == "HeldSlotUnroutable"
    assert states["NotifyFailure"]["Next"] == "HeldSlotFailure"


def test_the_lane_limit_comes_from_context(synthesized: Synthesized) -> None:
    # Given the deployed definition (cdk.json's context: the local default)
    (machine,) = synthesized.of_type("AWS::StepFunctions::StateMachine").values()
    definition = json.dumps(machine["Properties"]["DefinitionString"])
    assert '\\":limit\\":{\\"N\\":\\"3\\"}' in definition
    # When the context sets another limit / Then the lane uses it; no slot at all is refused
    assert standard_lane_slots(App(context={"standard_lane_slots": "12"})) == 12
    assert standard_lane_slots(App()) == 3
    with pytest.raises(ValueError, match="standard_lane_slots"):
        standard_lane_slots(App(context={"standard_lane_slots": 0}))
    stack = Stack(App(), "Lane")
    table = dynamodb.Table.from_table_name(stack, "T", "t")
    with pytest.raises(ValueError, match="at least one slot"):
        lanes.StandardLane(stack, table=table, slots=0)


def _statements(synthesized: Synthesized, role_id: str) -> list[dict[str, Any]]:
    return [
        statement
        for policy in synthesized.of_type("AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def _dynamodb_statements(statements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [s for s in statements if any(str(a).startswith("dynamodb:") for a in _actions(s))]


def _actions(statement: dict[str, Any]) -> list[str]:
    actions = statement["Action"]
    return [actions] if isinstance(actions, str) else list(actions)


LEADING_KEY = {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["LANE#standard"]}}


def test_the_workflow_may_read_and_update_the_lane_item_only(synthesized: Synthesized) -> None:
    (machine,) = synthesized.of_type("AWS::StepFunctions::StateMachine").values()
    role_id = machine["Properties"]["RoleArn"]["Fn::GetAtt"][0]
    # Given the state machine role's DynamoDB statements
    [statement] = _dynamodb_statements(_statements(synthesized, role_id))
    # Then GetItem and UpdateItem of the table, on the lane's leading key only
    assert sorted(_actions(statement)) == ["dynamodb:GetItem", "dynamodb:UpdateItem"]
    table_id = synthesized.logical_id(synthesized.stack.metadata.table)
    assert statement["Resource"] == {"Fn::GetAtt": [table_id, "Arn"]}
    assert statement["Condition"] == LEADING_KEY


def test_the_reclaimer_runs_every_minute_with_least_privilege(synthesized: Synthesized) -> None:
    reclaimer = synthesized.stack.lane_reclaimer
    function_id = "LaneReclaimerFunction"
    properties = synthesized.resources[function_id]["Properties"]
    assert properties["Handler"] == "fileflow_intake.slots_handler.lambda_handler"
    assert set(properties["Environment"]["Variables"]) >= {"TABLE_NAME", "STATE_MACHINE_ARN"}
    # Given its schedule / Then every minute, to the reclaimer
    rule = synthesized.resource(reclaimer.schedule)["Properties"]
    assert rule["ScheduleExpression"] == "rate(1 minute)"
    [target] = rule["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [function_id, "Arn"]}
    # And its role reads and updates the lane item only, and describes this workflow's executions only
    role_id = properties["Role"]["Fn::GetAtt"][0]
    statements = _statements(synthesized, role_id)
    [table_statement] = _dynamodb_statements(statements)
    assert sorted(_actions(table_statement)) == ["dynamodb:GetItem", "dynamodb:UpdateItem"]
    assert table_statement["Condition"] == LEADING_KEY
    [describe] = [s for s in statements if "states:DescribeExecution" in _actions(s)]
    assert _actions(describe) == ["states:DescribeExecution"]
    assert ":execution:FileflowTest-pipeline:*" in json.dumps(describe["Resource"])


def test_the_lane_item_layout_is_the_same_for_the_workflow_and_the_reclaimer() -> None:
    # Given the definition's constants and the functions' / Then they name the same item and expressions
    assert (lanes.LANE_PARTITION, lanes.SLOTS_SORT_KEY, lanes.HELD_ATTRIBUTE) == (
        common_lanes.LANE_PARTITION,
        common_lanes.SLOTS_SORT_KEY,
        common_lanes.HELD_ATTRIBUTE,
    )
    assert (lanes.RELEASE_UPDATE, lanes.RELEASE_CONDITION) == (
        common_lanes.RELEASE_UPDATE,
        common_lanes.RELEASE_CONDITION,
    )
    assert (lanes.URGENT_PRIORITY, lanes.DEFAULT_PRIORITY) == (
        common_lanes.URGENT_PRIORITY,
        common_lanes.DEFAULT_PRIORITY,
    )
