"""Review stage: a low-confidence AI result waits for a human reviewer (docs/reviews.md).

One function, three actions (the task's payload names it):
- `open` (a `waitForTaskToken` task): creates the review item with the task token, records `review:
  {status: pending}` on the job and the file, and returns; the execution waits until a reviewer's
  decision (the API's SendTaskSuccess) or the task's timeout.
- `escalate` (the timeout rule `escalate`, another `waitForTaskToken` task): flags the review escalated
  and waits once more, on the new token.
- `expire` (after the last timeout): closes the review by the timeout rule (`decision: expired`, which
  finalize applies as a rejection), so a review is never left hanging.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from fileflow_common.clock import to_timestamp
from fileflow_common.observability import metrics
from fileflow_common.pipeline import Stage
from fileflow_common.reviews import TIMEOUT_REVIEWER, Decision, ReviewStatus, review_id_for
from fileflow_stages._runtime.stage import StageContext, StageResult, StageWork, stage_handler
from fileflow_stages.review.items import review_item


class ReviewStateError(Exception):
    """The review is not where this action expects it (no token, or no open review): a bug, not retried."""


def _kind(context: StageContext) -> str | None:
    ai = getattr(context.invocation.state, "ai", None) or {}
    kind = ai.get("kind") if isinstance(ai, dict) else None
    detected = context.invocation.state.detect
    return kind if isinstance(kind, str) else (detected.kind.value if detected else None)


def _token(context: StageContext) -> str:
    token = context.invocation.task_token
    if not token:
        raise ReviewStateError("the review task passes no task token ($$.Task.Token)")
    return token


def _record(context: StageContext, review: dict[str, Any]) -> None:
    """The review's state on the job (finalize's input) and on the file item (what the owner sees)."""
    records = context.services.records
    records.merge_job_result(context.job(), {"review": review})
    records.record_review(context.file.upload, context.file.source, review)


def open_review(context: StageContext) -> StageResult:
    token = _token(context)
    review_id = review_id_for(context.file.job_id)
    at = to_timestamp(context.clock())
    item = review_item(
        context.job(),
        review_id=review_id,
        kind=_kind(context),
        execution_arn=context.invocation.execution_arn,
        at=at,
    )
    if not context.services.records.open_review(item, task_token=token):
        raise ReviewStateError(f"review {review_id} is closed already: nothing to wait for")
    _record(context, {"review_id": review_id, "status": ReviewStatus.PENDING.value})
    metrics.add_metric(name="ReviewsOpened", unit=MetricUnit.Count, value=1)
    return StageResult(
        output={"review_id": review_id, "status": ReviewStatus.PENDING.value},
        detail={"review_id": review_id, "status": ReviewStatus.PENDING.value},
    )


def escalate_review(context: StageContext) -> StageResult:
    token = _token(context)
    review_id = review_id_for(context.file.job_id)
    at = to_timestamp(context.clock())
    if not context.services.records.escalate_review(review_id, task_token=token, at=at):
        raise ReviewStateError(f"review {review_id} cannot be escalated: it is gone or expired")
    _record(context, {"review_id": review_id, "status": ReviewStatus.ESCALATED.value, "escalated_at": at})
    metrics.add_metric(name="ReviewsEscalated", unit=MetricUnit.Count, value=1)
    return StageResult(
        output={"review_id": review_id, "status": ReviewStatus.ESCALATED.value},
        detail={"review_id": review_id, "status": ReviewStatus.ESCALATED.value},
    )


def expire_review(context: StageContext) -> StageResult:
    review_id = review_id_for(context.file.job_id)
    at = to_timestamp(context.clock())
    expired = context.services.records.expire_review(
        review_id, decision=Decision.EXPIRED.value, reviewer=TIMEOUT_REVIEWER, at=at
    )
    if expired is None:
        raise ReviewStateError(f"review {review_id} does not exist: nothing to expire")
    _record(
        context,
        {
            "review_id": review_id,
            "status": ReviewStatus.EXPIRED.value,
            "decision": Decision.EXPIRED.value,
            "reviewer": TIMEOUT_REVIEWER,
            "decided_at": at,
        },
    )
    metrics.add_metric(name="ReviewsExpired", unit=MetricUnit.Count, value=1)
    # What a reviewer's SendTaskSuccess would have put at $.review.
    return StageResult(
        output={"review_id": review_id, "decision": Decision.EXPIRED.value},
        detail={"review_id": review_id, "decision": Decision.EXPIRED.value},
    )


ACTIONS: dict[str, StageWork] = {"open": open_review, "escalate": escalate_review, "expire": expire_review}
# The waiting actions record `started` only: the stage is done when the decision comes.
_HANDLERS = {
    "open": stage_handler(Stage.REVIEW, open_review, record_succeeded=False),
    "escalate": stage_handler(Stage.REVIEW, escalate_review, record_succeeded=False),
    "expire": stage_handler(Stage.REVIEW, expire_review),
}


def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    action = event.get("action", "open")
    if action not in _HANDLERS:
        raise ReviewStateError(f"unknown review action {action!r}")
    return _HANDLERS[action](event, context)
