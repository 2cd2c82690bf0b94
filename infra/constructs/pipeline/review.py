"""The human review gate (docs/reviews.md): after the AI stage, a result that needs review waits for a
reviewer's decision on a task token; a review that waits past its time gets the timeout rule.

    NeedsReview ($.ai.review_required == true) -> Review (waitForTaskToken) -> Finalize
      Review: States.Timeout -> rule escalate: EscalateReview (waitForTaskToken, the same time again)
                                 -> States.Timeout -> ExpireReview -> Finalize
                                rule reject:   ExpireReview -> Finalize
    otherwise -> Finalize

The rule is the deployment's (CDK context), so the definition holds only its own path.
"""

from __future__ import annotations

from collections.abc import Callable

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from infra.context import ReviewContext

# What the review function's task sends on a timeout: States.Timeout, caught into this path.
TIMEOUT_ERROR = "States.Timeout"
REVIEW_REQUIRED = "$.ai.review_required"

type Retried = Callable[[tasks.LambdaInvoke], tasks.LambdaInvoke]
type Guarded = Callable[[tasks.LambdaInvoke], tasks.LambdaInvoke]


def review_payload(action: str, *, waits: bool) -> sfn.TaskInput:
    """The stage payload (state, execution, retry count) with the review action, and the task token."""
    payload: dict[str, object] = {
        "action": action,
        "state": sfn.JsonPath.entire_payload,
        "execution_arn": sfn.JsonPath.string_at("$$.Execution.Id"),
        "retry_count": sfn.JsonPath.number_at("$$.State.RetryCount"),
    }
    if waits:
        payload["task_token"] = sfn.JsonPath.task_token
    return sfn.TaskInput.from_object(payload)


def review_gate(
    scope: Construct,
    function: lambda_.IFunction,
    settings: ReviewContext,
    *,
    finalize: sfn.IChainable,
    retried: Retried,
    guarded: Guarded,
    invoke_timeout: Duration,
) -> sfn.Choice:
    """The Choice that sends a file needing review through the review tasks, and every other to finalize."""
    wait = Duration.seconds(settings.timeout_seconds)

    def waiting(state_id: str, action: str) -> tasks.LambdaInvoke:
        task = tasks.LambdaInvoke(
            scope,
            state_id,
            lambda_function=function,
            integration_pattern=sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
            payload=review_payload(action, waits=True),
            # SendTaskSuccess's output: {review_id, decision}.
            result_path="$.review",
            task_timeout=sfn.Timeout.duration(wait),
            retry_on_service_exceptions=False,
        )
        return retried(task)

    expire = guarded(
        retried(
            tasks.LambdaInvoke(
                scope,
                "ExpireReview",
                lambda_function=function,
                payload=review_payload("expire", waits=False),
                payload_response_only=True,
                result_path="$.review",
                task_timeout=sfn.Timeout.duration(invoke_timeout),
                retry_on_service_exceptions=False,
            )
        )
    )
    expire.next(finalize)
    review = waiting("Review", "open")
    after_timeout: sfn.IChainable = expire
    if settings.timeout_rule == "escalate":
        escalate = waiting("EscalateReview", "escalate")
        escalate.add_catch(expire, errors=[TIMEOUT_ERROR], result_path="$.review_timeout")
        guarded(escalate).next(finalize)
        after_timeout = escalate
    # The timeout first: `States.ALL` (the failure path, added by guarded) must be the last catcher.
    review.add_catch(after_timeout, errors=[TIMEOUT_ERROR], result_path="$.review_timeout")
    guarded(review).next(finalize)
    needs_review = sfn.Condition.and_(
        sfn.Condition.is_present(REVIEW_REQUIRED), sfn.Condition.boolean_equals(REVIEW_REQUIRED, True)
    )
    return sfn.Choice(scope, "NeedsReview").when(needs_review, review).otherwise(finalize)
