"""The workflow's definition, from CDK chainables (rendered to docs/pipeline.asl.json, checked by a test).

lane (urgent, or a standard-lane slot: lanes.py) -> detect -> (image | document | archive | video) ->
analysis -> ai -> (a human review, when the AI result needs one: review.py) -> finalize -> notify, and
from any of them a `Catch` to the failure path: record the failure -> notify -> succeed for a bad file
(the workflow did its job) or fail for anything else (the operator's alarm sees it). Every end gives the
standard lane's slot back first.
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from infra.constructs.pipeline.lanes import StandardLane
from infra.constructs.pipeline.review import review_gate
from infra.constructs.pipeline.stages import STAGES_BY_NAME
from infra.context import ReviewContext

# Errors the stages raise for a dependency that failed, Lambda's own transient errors, and an execution
# environment that died mid-run (killed, crashed: `Runtime.ExitError`): retried. Not `Runtime.OutOfMemory`:
# a file that exhausts the memory would exhaust it again, so it fails with its reason.
TRANSIENT_ERRORS = (
    "TransientStageError",
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Runtime.ExitError",
)
# A stage at its reserved concurrency throttles: the execution waits its turn, for minutes if need be.
THROTTLED = "Lambda.TooManyRequestsException"
THROTTLE_RETRY_INTERVAL = Duration.seconds(1)
THROTTLE_RETRY_ATTEMPTS = 20
THROTTLE_MAX_DELAY = Duration.seconds(15)
RETRY_INTERVAL = Duration.seconds(1)
RETRY_ATTEMPTS = 4
RETRY_BACKOFF_RATE = 2.0
RETRY_MAX_DELAY = Duration.seconds(30)
# The error the stages raise for a file deleted while its workflow ran.
FILE_DELETED = "FileDeleted"
# How the file's kind (the detect stage's output) selects its content stage.
KIND_STAGES = (
    ("image", "image"),
    ("document", "document"),
    ("text", "document"),
    ("archive", "archive"),
    ("video", "video"),
)


def stage_payload() -> sfn.TaskInput:
    """What every stage gets: the whole (small) state, the execution's ARN and the retry count."""
    return sfn.TaskInput.from_object(
        {
            "state": sfn.JsonPath.entire_payload,
            "execution_arn": sfn.JsonPath.string_at("$$.Execution.Id"),
            "retry_count": sfn.JsonPath.number_at("$$.State.RetryCount"),
        }
    )


def stage_task(
    scope: Construct, state_id: str, function: lambda_.IFunction, *, result_path: str, timeout: Duration
) -> tasks.LambdaInvoke:
    """One stage: its Lambda with the stage payload, its output at `result_path`, transient errors retried."""
    task = tasks.LambdaInvoke(
        scope,
        state_id,
        lambda_function=function,
        payload=stage_payload(),
        payload_response_only=True,
        result_path=result_path,
        task_timeout=sfn.Timeout.duration(Duration.seconds(timeout.to_seconds() + 30)),
        retry_on_service_exceptions=False,
    )
    return with_retries(task)


def with_retries(task: tasks.LambdaInvoke) -> tasks.LambdaInvoke:
    """Throttling waited out, transient errors retried with capped, jittered backoff."""
    task.add_retry(
        errors=[THROTTLED],
        interval=THROTTLE_RETRY_INTERVAL,
        max_attempts=THROTTLE_RETRY_ATTEMPTS,
        backoff_rate=1.5,
        max_delay=THROTTLE_MAX_DELAY,
        jitter_strategy=sfn.JitterType.FULL,
    )
    task.add_retry(
        errors=list(TRANSIENT_ERRORS),
        interval=RETRY_INTERVAL,
        max_attempts=RETRY_ATTEMPTS,
        backoff_rate=RETRY_BACKOFF_RATE,
        max_delay=RETRY_MAX_DELAY,
        jitter_strategy=sfn.JitterType.FULL,
    )
    return task


def build_definition(
    scope: Construct,
    functions: Mapping[str, lambda_.IFunction],
    lane: StandardLane,
    review: ReviewContext | None = None,
) -> sfn.IChainable:
    def task(name: str, state_id: str, result_path: str) -> tasks.LambdaInvoke:
        return stage_task(
            scope, state_id, functions[name], result_path=result_path, timeout=STAGES_BY_NAME[name].timeout
        )

    # The failure path.
    record_failure = task("failure", "RecordFailure", "$.failure")
    notify_failure = task("notify", "NotifyFailure", "$.notify")
    failed = sfn.Fail(
        scope, "ProcessingFailed", error="ProcessingFailed", cause="see the file's processing_error"
    )
    handled = sfn.Succeed(scope, "FileRejected", comment="A bad file: recorded as failed with its reason")
    # Every way out gives the standard lane's slot back first: the failure path once, before its outcome;
    # an error of the failure path itself (or of Notify, or of the lane) on its way to ProcessingFailed.
    errored = lane.released("Error", failed)
    record_failure.next(notify_failure).next(
        lane.released(
            "Failure",
            sfn.Choice(scope, "FailureIsFatal")
            .when(sfn.Condition.boolean_equals("$.failure.fatal", True), failed)
            .otherwise(handled),
        )
    )
    for step in (record_failure, notify_failure):
        step.add_catch(errored, errors=["States.ALL"], result_path="$.failure_error")

    def guarded(step: tasks.LambdaInvoke) -> tasks.LambdaInvoke:
        step.add_catch(record_failure, errors=["States.ALL"], result_path="$.error")
        return step

    detect = guarded(task("detect", "Detect", "$.detect"))
    analysis = guarded(task("analysis", "Analysis", "$.analysis"))
    # The AI stage catches its own failures (an ai_status says what happened); the Catch is for the runner.
    ai = guarded(task("ai", "AI", "$.ai"))
    notify = task("notify", "Notify", "$.notify")
    notify.add_catch(errored, errors=["States.ALL"], result_path="$.error")
    finalize = guarded(task("finalize", "Finalize", "$.finalize"))
    finalize.next(notify).next(lane.released("Done", sfn.Succeed(scope, "Done")))
    analysis.next(ai).next(
        review_gate(
            scope,
            functions["review"],
            review or ReviewContext(),
            finalize=finalize,
            retried=with_retries,
            guarded=guarded,
            invoke_timeout=Duration.seconds(STAGES_BY_NAME["review"].timeout.to_seconds() + 30),
        )
    )

    route = sfn.Choice(scope, "RouteByKind")
    content_stages: dict[str, tasks.LambdaInvoke] = {}
    for kind, stage in KIND_STAGES:
        if stage not in content_stages:
            content_stages[stage] = guarded(task(stage, stage.capitalize(), "$.content"))
            content_stages[stage].next(analysis)
        route.when(sfn.Condition.string_equals("$.detect.kind", kind), content_stages[stage])
    # The detect stage rejects every other kind itself; an unknown one here is a bug, and fails loudly.
    route.otherwise(
        lane.released(
            "Unroutable",
            sfn.Fail(scope, "UnroutableKind", error="UnroutableKind", cause="no stage for this kind"),
        )
    )
    detect.next(route)
    return lane.entry(detect, on_error=record_failure)
