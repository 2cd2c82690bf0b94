"""One workflow execution in-process: the state machine of infra/constructs/pipeline/definition.py, in Python.

The same states, routing and Catch rules as the definition, so the stages' real `lambda_handler`s run the
way Step Functions calls them, against moto:
- every task gets `{"state": <the whole state>, "execution_arn": $$.Execution.Id, "retry_count": 0}` and
  its (JSON) output lands at its result path (`$.detect`, `$.content`, `$.analysis`, ...);
- `RouteByKind` reads `$.detect.kind`; a missing path is a `States.Runtime` failure, as in Step Functions;
- a task's `Catch` (`States.ALL`) puts `{"Error": <exception class name>, "Cause": <the Lambda error's
  JSON>}` at `$.error` of the task's input and goes on to `RecordFailure`; `Notify`'s goes to
  `ProcessingFailed`; `RecordFailure` and `NotifyFailure` have none (their error ends the execution).
Retry is not simulated: a `TransientStageError` is caught at once, as it is once the retries run out.
"""

from __future__ import annotations

import asyncio
import copy
import importlib
import json
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import boto3

from tests import events
from tests.integration.conftest import BUCKET_NAME, FakeLambdaContext

# definition.py's KIND_STAGES: the detect stage's kind -> the content stage's state.
ROUTES = {
    "image": "Image",
    "document": "Document",
    "text": "Document",
    "archive": "Archive",
    "video": "Video",
}
# Each task state: its stage (fileflow_stages.<stage>.handler) and the result path under `$`.
TASKS = {
    "Detect": ("detect", "detect"),
    "Image": ("image", "content"),
    "Document": ("document", "content"),
    "Archive": ("archive", "content"),
    "Video": ("video", "content"),
    "Analysis": ("analysis", "analysis"),
    "Finalize": ("finalize", "finalize"),
    "Notify": ("notify", "notify"),
    "RecordFailure": ("failure", "failure"),
    "NotifyFailure": ("notify", "notify"),
}
# Where each task goes next (a Choice's name for the ones that branch).
NEXT = {
    "Detect": "RouteByKind",
    "Image": "Analysis",
    "Document": "Analysis",
    "Archive": "Analysis",
    "Video": "Analysis",
    "Analysis": "Finalize",
    "Finalize": "Notify",
    "Notify": "Done",
    "RecordFailure": "NotifyFailure",
    "NotifyFailure": "FailureIsFatal",
}
_GUARDED = ("Detect", "Image", "Document", "Archive", "Video", "Analysis", "Finalize")
CATCHES = {**dict.fromkeys(_GUARDED, "RecordFailure"), "Notify": "ProcessingFailed"}
SUCCEED_STATES = ("Done", "FileRejected")
FAIL_STATES = {
    "ProcessingFailed": ("ProcessingFailed", "see the file's processing_error"),
    "UnroutableKind": ("UnroutableKind", "no stage for this kind"),
}

type Hook = Callable[[str, dict[str, Any]], None]


@dataclass
class Execution:
    status: Literal["SUCCEEDED", "FAILED"]
    # The execution's output: the state when it ended.
    state: dict[str, Any]
    # Every state entered, in order (task, Choice and terminal states, by their ids in definition.py).
    visited: list[str]
    execution_arn: str
    # The execution's error and cause when it FAILED.
    error: str | None = None
    cause: str | None = None
    # What each task that raised put at `$.error` (or ended the execution with): (state id, error name).
    caught: list[tuple[str, str]] = field(default_factory=list)

    @property
    def tasks(self) -> list[str]:
        return [name for name in self.visited if name in TASKS]


def lambda_error(exc: BaseException) -> dict[str, str]:
    """What a Lambda task's failure looks like to the state machine (`Catch` puts it at `$.error`)."""
    name = type(exc).__name__
    return {"Error": name, "Cause": json.dumps({"errorMessage": str(exc), "errorType": name})}


def _json(value: Any) -> Any:
    """Through JSON, as every payload and result crosses the Lambda and Step Functions APIs."""
    return json.loads(json.dumps(value))


def _invoke(stage: str, payload: dict[str, Any], context: FakeLambdaContext) -> Any:
    handler = importlib.import_module(f"fileflow_stages.{stage}.handler").lambda_handler
    return handler(_json(payload), context)


def _choice(name: str, state: dict[str, Any]) -> str:
    if name == "RouteByKind":
        kind = (state.get("detect") or {}).get("kind")
        if not isinstance(kind, str):
            raise _RuntimeError(
                "Invalid path '$.detect.kind': the choice state's condition path references an invalid value."
            )
        return ROUTES.get(kind, "UnroutableKind")
    fatal = (state.get("failure") or {}).get("fatal")
    if not isinstance(fatal, bool):
        raise _RuntimeError(
            "Invalid path '$.failure.fatal': the choice state's condition path references an invalid value."
        )
    return "ProcessingFailed" if fatal else "FileRejected"


class _RuntimeError(Exception):
    """States.Runtime: the state machine itself failed (a path that is not there)."""


def run_workflow(
    execution_input: dict[str, Any],
    *,
    execution_arn: str | None = None,
    before: Hook | None = None,
    context: FakeLambdaContext | None = None,
) -> Execution:
    """Run one execution to its end; `before(state_id, state)` is called before each task (to inject)."""
    arn = execution_arn or execution_arn_for(str(execution_input["file"]["job_id"]))
    lambda_context = context or FakeLambdaContext()
    state: dict[str, Any] = _json(execution_input)
    visited: list[str] = []
    caught: list[tuple[str, str]] = []
    current = "Detect"
    while True:
        visited.append(current)
        if current in SUCCEED_STATES:
            return Execution("SUCCEEDED", state, visited, arn, caught=caught)
        if current in FAIL_STATES:
            error, cause = FAIL_STATES[current]
            return Execution("FAILED", state, visited, arn, error=error, cause=cause, caught=caught)
        if current not in TASKS:
            try:
                current = _choice(current, state)
            except _RuntimeError as exc:
                return Execution("FAILED", state, visited, arn, "States.Runtime", str(exc), caught)
            continue
        stage, result_path = TASKS[current]
        if before is not None:
            before(current, copy.deepcopy(state))
        payload = {"state": state, "execution_arn": arn, "retry_count": 0}
        try:
            output = _invoke(stage, payload, lambda_context)
        except Exception as exc:
            lambda_failure = lambda_error(exc)
            caught.append((current, lambda_failure["Error"]))
            catch = CATCHES.get(current)
            if catch is None:
                name, cause = lambda_failure["Error"], lambda_failure["Cause"]
                return Execution("FAILED", state, visited, arn, name, cause, caught)
            state = {**state, "error": lambda_failure}
            current = catch
            continue
        state = {**state, result_path: _json(output)}
        current = NEXT[current]


# --- the starter's side: SQS records of S3 notifications, and the executions they start ---------------------


def execution_arn_for(name: str) -> str:
    machine = os.environ["STATE_MACHINE_ARN"]
    return f"{machine.replace(':stateMachine:', ':execution:')}:{name}"


def run_execution(execution_arn: str, **options: Any) -> Execution:
    """Run an execution the starter started (moto keeps its input)."""
    described = boto3.client("stepfunctions").describe_execution(executionArn=execution_arn)
    return run_workflow(json.loads(described["input"]), execution_arn=execution_arn, **options)


def execution_arns() -> list[str]:
    listed = boto3.client("stepfunctions").list_executions(stateMachineArn=os.environ["STATE_MACHINE_ARN"])
    return [execution["executionArn"] for execution in listed["executions"]]


def raw_message(body: str, *, receive_count: int = 1, message_id: str | None = None) -> dict[str, Any]:
    """An SQS record as the event source mapping passes it."""
    return {
        "messageId": message_id or str(uuid.uuid4()),
        "receiptHandle": f"handle-{uuid.uuid4()}",
        "body": body,
        "attributes": {"ApproximateReceiveCount": str(receive_count), "SentTimestamp": "1777889731200"},
        "messageAttributes": {},
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:fileflow-processing",
        "awsRegion": "us-east-1",
    }


def s3_notification(
    key: str, *, size: int, etag: str, version_id: str | None, sequencer: str, bucket: str = BUCKET_NAME
) -> str:
    """The body S3 sends for one ObjectCreated:Put."""
    return json.dumps(
        events.s3_notification(
            bucket=bucket, key=key, size=size, eTag=etag, versionId=version_id, sequencer=sequencer
        )
    )


@dataclass
class Delivery:
    response: dict[str, Any]
    # The executions the delivery started, each run to its end.
    executions: list[Execution]


def deliver(
    records: list[dict[str, Any]],
    context: FakeLambdaContext | None = None,
    *,
    run: bool = True,
    **options: Any,
) -> Delivery:
    """SQS records to the starter, then every execution it started run in-process (unless not `run`)."""
    from fileflow_intake.handler import lambda_handler

    lambda_context = context or FakeLambdaContext()
    before = set(execution_arns())
    try:
        response: dict[str, Any] = dict(lambda_handler({"Records": records}, lambda_context))
    finally:
        # Outside Lambda, the starter's AsyncBatchProcessor runs asyncio.run(), which leaves this thread
        # without an event loop; the API's Mangum handler, in this same process only in tests, needs one.
        asyncio.set_event_loop(asyncio.new_event_loop())
    started = [arn for arn in execution_arns() if arn not in before]
    if not run:
        return Delivery(response, [])
    return Delivery(response, [run_execution(arn, context=lambda_context, **options) for arn in started])
