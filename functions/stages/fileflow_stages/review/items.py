"""The review stage's domain: the review item made from the job, and the outcome read back. No boto3.

The item holds what the reviewer needs and nothing else of the owner's (fileflow_common.reviews).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fileflow_common.reviews import (
    Decision,
    ReviewOutcome,
    ReviewStatus,
    ai_for_review,
    bounded_features,
    category_of,
    index_attributes,
    review_item_key,
    text_excerpt,
    thumbnail_key,
)
from fileflow_stages._runtime.jobs import Job


def review_item(
    job: Job, *, review_id: str, kind: str | None, execution_arn: str | None, at: str
) -> dict[str, Any]:
    """The review as the reviewer will read it (plus the owner and file, which the API never shows)."""
    result = job.result
    ai = ai_for_review(result.get("ai"))
    item: dict[str, Any] = {
        **review_item_key(review_id),
        **index_attributes(ReviewStatus.PENDING, at, review_id),
        "entity": "review",
        "review_id": review_id,
        "owner_id": job.user_id,
        "file_id": job.file_id,
        "job_id": job.job_id,
        "kind": kind,
        "category": category_of(ai, kind),
        "confidence": (ai or {}).get("confidence"),
        "ai": ai,
        "features": bounded_features(result.get("features")),
        "excerpt": text_excerpt(result),
        "thumbnail_key": thumbnail_key(list(result.get("derivative_records") or [])),
        "created_at": at,
        "updated_at": at,
    }
    if execution_arn:
        item["execution_arn"] = execution_arn
    return {name: value for name, value in item.items() if value is not None}


def outcome_of(item: Mapping[str, Any] | None, *, review_id: str, decision: str) -> ReviewOutcome:
    """The closed review, as recorded; the workflow's own word (`$.review.decision`) where it is not."""
    recorded = dict(item or {})
    status = ReviewStatus(recorded.get("status", ReviewStatus.DECIDED.value))
    if not status.open and recorded.get("decision"):
        decision = str(recorded["decision"])
    changes = recorded.get("changes") if decision == Decision.CORRECT.value else None
    return ReviewOutcome(
        review_id=review_id,
        decision=Decision(decision),
        status=ReviewStatus.EXPIRED if decision == Decision.EXPIRED.value else ReviewStatus.DECIDED,
        reviewer=recorded.get("reviewer"),
        decided_at=recorded.get("decided_at"),
        changes=changes if isinstance(changes, Mapping) else None,
        note=recorded.get("note"),
    )
