"""Reviews, the model: a review as its reviewer sees it, a page of them, a decision, a feedback entry."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fileflow_common.reviews import Decision, ReviewStatus


@dataclass(frozen=True, slots=True)
class Review:
    """One review item. `owner_id`, `file_id` and `thumbnail_key` stay inside the API: a reviewer gets the
    thumbnail as a short-lived URL, never the owner's ids."""

    review_id: str
    status: ReviewStatus
    owner_id: str
    file_id: str
    kind: str | None
    category: str
    created_at: str
    updated_at: str | None = None
    confidence: float | None = None
    ai: Mapping[str, Any] | None = None
    features: Mapping[str, Any] | None = None
    excerpt: str | None = None
    thumbnail_key: str | None = None
    task_token: str | None = None
    escalated_at: str | None = None
    decision: Decision | None = None
    reviewer: str | None = None
    decided_at: str | None = None
    changes: Mapping[str, Any] | None = None
    note: str | None = None

    @property
    def ai_result(self) -> Mapping[str, Any] | None:
        result = (self.ai or {}).get("result")
        return result if isinstance(result, Mapping) else None


@dataclass(frozen=True, slots=True)
class ReviewPage:
    reviews: list[Review]
    next_position: dict[str, str] | None


@dataclass(frozen=True, slots=True)
class ReviewList:
    reviews: list[Review]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class DecisionRequest:
    decision: Decision
    changes: Mapping[str, Any] = field(default_factory=dict)
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Thumbnail:
    url: str
    expires_at: str
