"""/v1/reviews: the queue, one review, a decision, the feedback export (docs/reviews.md). Reviewers only
(the router's dependency: 403 for anyone else). Thin: parse, call, map."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Query
from fastapi.responses import StreamingResponse

from fileflow_api.audit.request import Audit
from fileflow_api.audit.trail import AuditAction
from fileflow_api.core.params import Cursor
from fileflow_api.reviews.feedback import feedback_lines
from fileflow_api.reviews.model import DecisionRequest
from fileflow_api.reviews.params import Reviewer, ReviewId, Reviews, reviews_router
from fileflow_api.reviews.schemas import DecisionBody, ReviewListModel, ReviewModel
from fileflow_api.reviews.service import MAX_FEEDBACK_LINES
from fileflow_common.clock import to_timestamp
from fileflow_common.reviews import ReviewStatus

router = reviews_router()
NDJSON = "application/x-ndjson"
Limit = Annotated[int, Query(ge=1, le=100, description="at most this many reviews")]


@router.get("")
def list_reviews(
    user: Reviewer,
    reviews: Reviews,
    status_: Annotated[ReviewStatus, Query(alias="status")] = ReviewStatus.PENDING,
    limit: Limit = 25,
    cursor: Cursor = None,
) -> ReviewListModel:
    return ReviewListModel.of(reviews.list(user.user_id, status_, cursor=cursor, limit=limit))


# Before /{review_id}: the first route that matches a path serves it.
@router.get(
    "/feedback",
    response_class=StreamingResponse,
    responses={200: {"content": {NDJSON: {}}, "description": "one decision a line, then the summary line"}},
)
def export_feedback(
    reviews: Reviews,
    since: Annotated[datetime | None, Query(description="decisions from this instant (ISO 8601)")] = None,
) -> StreamingResponse:
    decided = reviews.feedback(since=since)
    stamp = to_timestamp(since) if since else None
    return StreamingResponse(
        feedback_lines(decided, since=stamp, truncated_at=MAX_FEEDBACK_LINES), media_type=NDJSON
    )


@router.get("/{review_id}")
def get_review(review_id: ReviewId, reviews: Reviews) -> ReviewModel:
    review = reviews.get(review_id)
    return ReviewModel.of(review, reviews.thumbnail(review))


@router.post("/{review_id}/decision")
def decide(
    review_id: ReviewId, body: DecisionBody, user: Reviewer, reviews: Reviews, audit: Audit
) -> ReviewModel:
    decided = reviews.decide(
        user.user_id,
        review_id,
        DecisionRequest(decision=body.decision, changes=body.changes or {}, note=body.note),
    )
    audit.record(
        user,
        AuditAction.REVIEW_DECIDED,
        resource_type="review",
        resource_id=decided.review_id,
        decision=body.decision.value,
    )
    return ReviewModel.of(decided, reviews.thumbnail(decided))
