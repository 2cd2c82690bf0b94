"""One workflow execution in-process: the state machine of infra/constructs/pipeline/definition.py, in Python.

The same states, routing and Catch rules as the definition, so the stages' real `lambda_handler`s run the
way Step Functions calls them, against moto:
- every task gets `{"state": <the whole state>, "execution_arn": $$.Execution.Id, "retry_count": 0}` and
  its (JSON) output lands at its result path (`$.detect`, `$.content`, `$.analysis`, ...);
- `RouteByKind` reads `$.detect.kind`; a missing path is a `States.Runtime` failure, as in Step Functions;
- a task's `Catch` (`States.ALL`) puts `{"Error": <exception class name>, "Cause": <the Lambda error's
  JSON>}` at `$.error` of the task's input and goes on to `RecordFailure`; `Notify`'s, and those of
  `RecordFailure` and `NotifyFailure` (at `$.failure_error`), go to `ProcessingFailed` via the release;
- the review gate (infra/constructs/pipeline/review.py): `NeedsReview` reads `$.ai.review_required`; the
  waiting tasks (`Review`, `EscalateReview`) invoke the review function with a task token, then call the
  `on_review` hook, which returns what SendTaskSuccess sent, or None for the task's timeout (the rule's
  path); `inject` lets a test stand in for a stage this branch lacks (the AI stage's `$.ai`);
- the lanes (infra/constructs/pipeline/lanes.py): `ChooseLane` by `$.file.priority`, the standard lane's
  slot taken and given back with the definition's own expressions, on the moto table;
  `WaitForStandardSlot` calls the `on_wait` hook instead of sleeping.
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
from datetime import UTC, datetime
from typing import Any, Literal

import boto3

from infra.constructs.pipeline import lanes
from infra.context import DEFAULT_STANDARD_LANE_SLOTS
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
    "AI": ("ai", "ai"),
    "Finalize": ("finalize", "finalize"),
    "Notify": ("notify", "notify"),
    "ExpireReview": ("review", "review"),
    "RecordFailure": ("failure", "failure"),
    "NotifyFailure": ("notify", "notify"),
}
# The review tasks that wait for a task token (review.py): their action, and where a timeout goes by rule.
WAITING = {"Review": "open", "EscalateReview": "escalate"}
ON_TIMEOUT = {
    "escalate": {"Review": "EscalateReview", "EscalateReview": "ExpireReview"},
    "reject": {"Review": "ExpireReview"},
}
# Where each task goes next (a Choice's name for the ones that branch).
NEXT = {
    "Detect": "RouteByKind",
    "Image": "Analysis",
    "Document": "Analysis",
    "Archive": "Analysis",
    "Video": "Analysis",
    "Analysis": "AI",
    "AI": "NeedsReview",
    "ExpireReview": "Finalize",
    "Finalize": "Notify",
    "Notify": "HeldSlotDone",
    "RecordFailure": "NotifyFailure",
    "NotifyFailure": "HeldSlotFailure",
}
_GUARDED = (
    "Detect",
    "Image",
    "Document",
    "Archive",
    "Video",
    "Analysis",
    "AI",
    "Finalize",
    *WAITING,
    "ExpireReview",
)
CATCHES = {
    **dict.fromkeys(_GUARDED, ("RecordFailure", "error")),
    "Notify": ("HeldSlotError", "error"),
    "RecordFailure": ("HeldSlotError", "failure_error"),
    "NotifyFailure": ("HeldSlotError", "failure_error"),
}
SUCCEED_STATES = ("Done", "FileRejected")
FAIL_STATES = {
    "ProcessingFailed": ("ProcessingFailed", "see the file's processing_error"),
    "UnroutableKind": ("UnroutableKind", "no stage for this kind"),
}
START = "ChooseLane"
# The lanes' Pass states: where each goes, and what it sets.
PASSES = {"UrgentLane": "Detect", "StandardLane": "AcquireStandardSlot", "DefaultPriority": "StandardLane"}
# Each end's release: the Choice (a standard-lane execution releases), its release task, and the end.
RELEASES = {
    "HeldSlotDone": ("ReleaseSlotDone", "Done"),
    "HeldSlotFailure": ("ReleaseSlotFailure", "FailureIsFatal"),
    "HeldSlotError": ("ReleaseSlotError", "ProcessingFailed"),
    "HeldSlotUnroutable": ("ReleaseSlotUnroutable", "UnroutableKind"),
}
# The lane's DynamoDB tasks: (integration, next, [(errors caught, next)]). DynamoDB errors other than a
# refused condition are not simulated, so CheckStandardSlot and HoldsStandardSlot are never entered here.
LANE_TASKS = {
    "AcquireStandardSlot": (
        "dynamodb:updateItem",
        "Detect",
        [([lanes.CONDITION_FAILED], "WaitForStandardSlot"), (["States.ALL"], "CheckStandardSlot")],
    ),
    "CheckStandardSlot": ("dynamodb:getItem", "HoldsStandardSlot", [(["States.ALL"], "RecordFailure")]),
    **{task: ("dynamodb:updateItem", end, [(["States.ALL"], end)]) for task, end in RELEASES.values()},
}
LANE_SLOTS = DEFAULT_STANDARD_LANE_SLOTS
# Waits in a row after which a lane with no on_wait hook is taken as never freeing (a test's bug).
MAX_WAITS = 100

type Hook = Callable[[str, dict[str, Any]], None]
# Called at each WaitForStandardSlot with the seconds the execution waits (a test frees a slot there).
type WaitHook = Callable[[int], None]
# Called when a review task waits, with the state id, the task token and the state: it returns what
# SendTaskSuccess sent (a reviewer's decision through the API), or None for the task's timeout.
type ReviewHook = Callable[[str, str, dict[str, Any]], dict[str, Any] | None]
# Called as each state is entered, with its id and the state: what it returns is the state from then on
# (a stage this branch does not have, such as the AI stage, stands in by adding its output).
type InjectHook = Callable[[str, dict[str, Any]], dict[str, Any]]


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
        return [name for name in self.visited if name in TASKS or name in WAITING]


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
    if name == "ChooseLane":
        priority = state["file"].get("priority")
        if priority is None:
            return "DefaultPriority"
        return "UrgentLane" if priority >= lanes.URGENT_PRIORITY else "StandardLane"
    if name in RELEASES:
        release, end = RELEASES[name]
        return release if (state.get("lane") or {}).get("name") == "standard" else end
    if name == "NeedsReview":
        return "Review" if (state.get("ai") or {}).get("review_required") is True else "Finalize"
    if name == "RouteByKind":
        kind = (state.get("detect") or {}).get("kind")
        if not isinstance(kind, str):
            raise _RuntimeError(
                "Invalid path '$.detect.kind': the choice state's condition path references an invalid value."
            )
        return ROUTES.get(kind, "HeldSlotUnroutable")
    fatal = (state.get("failure") or {}).get("fatal")
    if not isinstance(fatal, bool):
        raise _RuntimeError(
            "Invalid path '$.failure.fatal': the choice state's condition path references an invalid value."
        )
    return "ProcessingFailed" if fatal else "FileRejected"


class _RuntimeError(Exception):
    """States.Runtime: the state machine itself failed (a path that is not there)."""


def _pass(name: str, state: dict[str, Any]) -> dict[str, Any]:
    if name == "UrgentLane":
        return {**state, "lane": {"name": "urgent"}}
    if name == "DefaultPriority":
        return {**state, "file": {**state["file"], "priority": lanes.DEFAULT_PRIORITY}}
    wait = lanes.slot_wait_seconds(int(state["file"]["priority"]))
    return {**state, "lane": {"name": "standard", "wait_seconds": wait}}


def lane_table() -> Any:
    return boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])


def _lane_update(execution_name: str, *, update: str, condition: str, values: dict[str, Any]) -> bool:
    """One of the lane's UpdateItem tasks, with the definition's expressions; False when refused."""
    table = lane_table()
    try:
        table.update_item(
            Key={"pk": lanes.LANE_PARTITION, "sk": lanes.SLOTS_SORT_KEY},
            UpdateExpression=update,
            ConditionExpression=condition,
            ExpressionAttributeNames={"#held": lanes.HELD_ATTRIBUTE, "#holder": execution_name},
            ExpressionAttributeValues=values,
        )
    except table.meta.client.exceptions.ConditionalCheckFailedException:
        return False
    return True


def acquire(execution_name: str, acquired_at: str) -> bool:
    return _lane_update(
        execution_name,
        update=lanes.ACQUIRE_UPDATE,
        condition=lanes.ACQUIRE_CONDITION,
        values={":one": 1, ":limit": LANE_SLOTS, ":acquired_at": acquired_at},
    )


def release(execution_name: str) -> bool:
    return _lane_update(
        execution_name,
        update=lanes.RELEASE_UPDATE,
        condition=lanes.RELEASE_CONDITION,
        values={":minus_one": -1},
    )


def run_workflow(
    execution_input: dict[str, Any],
    *,
    execution_arn: str | None = None,
    before: Hook | None = None,
    on_wait: WaitHook | None = None,
    on_review: ReviewHook | None = None,
    review_rule: str = "escalate",
    inject: InjectHook | None = None,
    context: FakeLambdaContext | None = None,
) -> Execution:
    """Run one execution to its end; `before(state_id, state)` is called before each task (to inject)."""
    arn = execution_arn or execution_arn_for(str(execution_input["file"]["job_id"]))
    name = arn.rsplit(":", 1)[1]
    lambda_context = context or FakeLambdaContext()
    state: dict[str, Any] = _json(execution_input)
    visited: list[str] = []
    caught: list[tuple[str, str]] = []
    waits = 0
    current = START
    while True:
        visited.append(current)
        if inject is not None:
            state = _json(inject(current, copy.deepcopy(state)))
        if current in PASSES:
            state, current = _pass(current, state), PASSES[current]
            continue
        if current == "AcquireStandardSlot":
            if before is not None:
                before(current, copy.deepcopy(state))
            acquired = acquire(name, datetime.now(UTC).isoformat().replace("+00:00", "Z"))
            current = "Detect" if acquired else "WaitForStandardSlot"
            continue
        if current == "WaitForStandardSlot":
            waits += 1
            if on_wait is None and waits > MAX_WAITS:
                raise AssertionError(f"the standard lane stayed full for {MAX_WAITS} waits")
            if on_wait is not None:
                on_wait(int(state["lane"]["wait_seconds"]))
            current = "AcquireStandardSlot"
            continue
        if current.startswith("ReleaseSlot"):
            if before is not None:
                before(current, copy.deepcopy(state))
            release(name)  # refused: not held (never taken, or reclaimed): the end stands either way
            current = LANE_TASKS[current][1]
            continue
        if current in SUCCEED_STATES:
            return Execution("SUCCEEDED", state, visited, arn, caught=caught)
        if current in FAIL_STATES:
            error, cause = FAIL_STATES[current]
            return Execution("FAILED", state, visited, arn, error=error, cause=cause, caught=caught)
        if current in WAITING:
            if before is not None:
                before(current, copy.deepcopy(state))
            token = f"token-{uuid.uuid4().hex}"
            payload = {"action": WAITING[current], "state": state, "execution_arn": arn, "retry_count": 0}
            try:
                _invoke("review", {**payload, "task_token": token}, lambda_context)
            except Exception as exc:
                lambda_failure = lambda_error(exc)
                caught.append((current, lambda_failure["Error"]))
                state, current = {**state, "error": lambda_failure}, "RecordFailure"
                continue
            if on_review is None:
                raise AssertionError(f"{current} waits for a decision, and the test gave no on_review")
            decided = on_review(current, token, copy.deepcopy(state))
            if decided is None:
                timeout = {"Error": "States.Timeout", "Cause": "the task timed out"}
                state, current = {**state, "review_timeout": timeout}, ON_TIMEOUT[review_rule][current]
                continue
            state, current = {**state, "review": _json(decided)}, "Finalize"
            continue
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
        if current == "ExpireReview":
            payload["action"] = "expire"
        try:
            output = _invoke(stage, payload, lambda_context)
        except Exception as exc:
            lambda_failure = lambda_error(exc)
            caught.append((current, lambda_failure["Error"]))
            catch, result_path = CATCHES[current]
            state = {**state, result_path: lambda_failure}
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
