"""The processing workflow: a Standard state machine, one function per stage, Retry and Catch on each."""

from __future__ import annotations

import json
from typing import Any

from infra.constructs.pipeline.definition import THROTTLED, TRANSIENT_ERRORS
from infra.constructs.pipeline.stages import STAGES
from tests.infra.synth import Synthesized
from tools.export_pipeline import ASL_FILE, DIAGRAM_FILES, asl_document, mermaid, render_asl, with_diagram

# The failure path's own tasks: a failure there fails the execution (the operator's alarm), no loop.
UNGUARDED = {"RecordFailure", "NotifyFailure", "Notify"}


def _definition() -> dict[str, Any]:
    return asl_document()


def _stage_tasks(states: dict[str, Any]) -> dict[str, Any]:
    """The Lambda tasks (the stages): not the lane's DynamoDB tasks (tests/infra/test_infra_lanes.py)."""
    return {
        name: state
        for name, state in states.items()
        if state["Type"] == "Task" and not state["Resource"].startswith("arn:aws:states:::dynamodb:")
    }


def _state_machine(synthesized: Synthesized) -> dict[str, Any]:
    (machine,) = synthesized.of_type("AWS::StepFunctions::StateMachine").values()
    properties: dict[str, Any] = machine["Properties"]
    return properties


def test_the_workflow_is_a_standard_state_machine_with_logs_and_tracing(synthesized: Synthesized) -> None:
    # Given the state machine
    properties = _state_machine(synthesized)
    log_groups = synthesized.of_type("AWS::Logs::LogGroup")
    # Then it is a Standard workflow (exactly-once starts by name, long waits), traced, logging its errors
    # (every event is in the execution history already)
    assert properties["StateMachineType"] == "STANDARD"
    assert properties["TracingConfiguration"] == {"Enabled": True}
    logging = properties["LoggingConfiguration"]
    assert logging["Level"] == "ERROR"
    assert logging["IncludeExecutionData"] is True
    [destination] = logging["Destinations"]
    log_group_id = destination["CloudWatchLogsLogGroup"]["LogGroupArn"]["Fn::GetAtt"][0]
    assert log_groups[log_group_id]["Properties"]["RetentionInDays"] > 0


def test_every_stage_task_retries_transient_errors_with_backoff_and_catches_the_rest() -> None:
    # Given the rendered definition
    states = _definition()["States"]
    tasks = _stage_tasks(states)
    assert set(tasks) >= {
        "Detect",
        "Image",
        "Document",
        "Archive",
        "Video",
        "Analysis",
        "AI",
        "Finalize",
        "Notify",
    }
    for name, state in tasks.items():
        # Then transient errors (and only those: a bad file is never retried) are retried with backoff
        throttled, retry = state["Retry"]
        # A throttled stage (at its reserved concurrency) waits its turn, long enough to drain a burst
        assert throttled["ErrorEquals"] == [THROTTLED], name
        assert throttled["MaxAttempts"] >= 10
        assert set(retry["ErrorEquals"]) == set(TRANSIENT_ERRORS), name
        assert "FileRejected" not in retry["ErrorEquals"]
        assert retry["BackoffRate"] == 2
        assert retry["MaxAttempts"] >= 3
        assert retry["JitterStrategy"] == "FULL"
        # And every stage but the failure path's catches everything into the failure path
        if name not in UNGUARDED:
            *timeouts, last = state["Catch"]
            assert last == {
                "ErrorEquals": ["States.ALL"],
                "ResultPath": "$.error",
                "Next": "RecordFailure",
            }, name
            # Only the waiting review tasks catch their timeout first (tests/infra/test_infra_reviews.py)
            assert all(catch["ErrorEquals"] == ["States.Timeout"] for catch in timeouts), name
            assert not timeouts or name in {"Review", "EscalateReview"}, name
        # And each has a timeout above its function's, so a hung invocation cannot hold the execution
        assert state["TimeoutSeconds"] > 0, name


def test_the_route_sends_each_kind_to_its_stage_and_the_failure_path_ends_by_outcome() -> None:
    states = _definition()["States"]
    # Given the Choice after detect
    route = {choice["StringEquals"]: choice["Next"] for choice in states["RouteByKind"]["Choices"]}
    # Then every kind has its content stage, and they all go on to analysis -> ai -> finalize -> notify
    assert route == {
        "image": "Image",
        "document": "Document",
        "text": "Document",
        "archive": "Archive",
        "video": "Video",
    }
    for stage in set(route.values()):
        assert states[stage]["Next"] == "Analysis"
    # (through the AI stage and the review gate: tests/infra/test_infra_reviews.py)
    assert states["Analysis"]["Next"] == "AI"
    assert states["AI"]["Next"] == "NeedsReview"
    assert states["NeedsReview"]["Default"] == "Finalize"
    assert states["Finalize"]["Next"] == "Notify"
    assert states["Notify"]["Next"] == "HeldSlotDone"
    # And the failure path records, notifies, then fails the execution only for a fatal error
    assert states["RecordFailure"]["Next"] == "NotifyFailure"
    fatal = states["FailureIsFatal"]
    assert fatal["Choices"] == [
        {"Variable": "$.failure.fatal", "BooleanEquals": True, "Next": "ProcessingFailed"}
    ]
    assert fatal["Default"] == "FileRejected"


def test_every_stage_gets_the_state_the_execution_arn_and_its_retry_count() -> None:
    for name, state in _stage_tasks(_definition()["States"]).items():
        # Then the payload passes ids and keys only (the state), and what the events need; the review
        # function's also names its action, and a waiting task's its token (tests/infra/test_infra_reviews.py)
        payload = dict(state["Parameters"].get("Payload", state["Parameters"]))
        if name in {"Review", "EscalateReview", "ExpireReview"}:
            assert payload.pop("action") in {"open", "escalate", "expire"}
            payload.pop("task_token.$", None)
        assert payload == {
            "state.$": "$",
            "execution_arn.$": "$$.Execution.Id",
            "retry_count.$": "$$.State.RetryCount",
        }, name


def test_the_state_machine_may_invoke_exactly_the_stage_functions(synthesized: Synthesized) -> None:
    # Given the state machine's role
    role_id = _state_machine(synthesized)["RoleArn"]["Fn::GetAtt"][0]
    statements = [
        statement
        for policy in synthesized.of_type("AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    # When collecting the functions it may invoke
    invoked = {
        resource["Fn::GetAtt"][0]
        for statement in statements
        if "lambda:InvokeFunction" in statement["Action"]
        for resource in statement["Resource"]
        if isinstance(resource, dict) and "Fn::GetAtt" in resource
    }
    # Then those are the stage functions, and no other
    assert invoked == {stage.construct_id for stage in STAGES}


def test_the_starter_may_start_executions_of_this_workflow_only(synthesized: Synthesized) -> None:
    role_id = synthesized.resources["StarterFunction"]["Properties"]["Role"]["Fn::GetAtt"][0]
    machine_id = synthesized.logical_id(synthesized.stack.pipeline.state_machine)
    statements = [
        statement
        for policy in synthesized.of_type("AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    [start] = [s for s in statements if "states:StartExecution" in json.dumps(s["Action"])]
    assert start["Resource"] == {"Ref": machine_id}


def test_each_stage_reserves_its_concurrency(synthesized: Synthesized) -> None:
    for stage in STAGES:
        properties = synthesized.resources[stage.construct_id]["Properties"]
        assert properties["ReservedConcurrentExecutions"] == stage.reserved_concurrency, stage.name


def test_the_video_stage_has_the_ephemeral_storage_for_its_work(synthesized: Synthesized) -> None:
    properties = synthesized.resources["VideoStageFunction"]["Properties"]
    assert properties["EphemeralStorage"] == {"Size": 6144}


def test_the_committed_definition_and_diagrams_match_the_code() -> None:
    # Given the definition as the code builds it / When rendered like `make pipeline-docs` does
    document = asl_document()
    # Then docs/pipeline.asl.json and the diagrams in the docs are current (else: make pipeline-docs)
    assert ASL_FILE.read_text() == render_asl(document)
    diagram = mermaid(document)
    for path in DIAGRAM_FILES:
        text = path.read_text()
        assert with_diagram(text, diagram) == text, path
