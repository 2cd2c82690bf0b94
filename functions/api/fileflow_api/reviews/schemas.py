"""The reviews routes' request and response bodies (the OpenAPI document shows them)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from fileflow_api.reviews.model import Review, ReviewList, Thumbnail
from fileflow_common.reviews import MAX_NOTE_CHARS, Decision, ReviewStatus


class DecisionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Annotated[Decision, Field(description="approve, correct (with changes) or reject")]
    changes: Annotated[
        dict[str, Any] | None,
        Field(description="correct only: the edited fields of the AI result, each of its own type"),
    ] = None
    note: Annotated[str | None, Field(max_length=MAX_NOTE_CHARS)] = None


class ThumbnailModel(BaseModel):
    url: Annotated[str, Field(description="presigned GET of the review's thumbnail, valid until expires_at")]
    expires_at: str

    @classmethod
    def of(cls, thumbnail: Thumbnail | None) -> ThumbnailModel | None:
        return None if thumbnail is None else cls(url=thumbnail.url, expires_at=thumbnail.expires_at)


class ReviewSummaryModel(BaseModel):
    review_id: str
    status: ReviewStatus
    kind: str | None
    category: str
    confidence: float | None
    created_at: str
    escalated_at: str | None
    decided_at: str | None

    @classmethod
    def fields_of(cls, review: Review) -> dict[str, Any]:
        return {
            "review_id": review.review_id,
            "status": review.status,
            "kind": review.kind,
            "category": review.category,
            "confidence": review.confidence,
            "created_at": review.created_at,
            "escalated_at": review.escalated_at,
            "decided_at": review.decided_at,
        }


class ReviewModel(ReviewSummaryModel):
    """What the reviewer needs, and nothing else of the owner's (no filename, no owner, no other file)."""

    ai: Annotated[dict[str, Any] | None, Field(description="the AI result under review, with its confidence")]
    features: Annotated[dict[str, Any] | None, Field(description="the file's local features")]
    excerpt: Annotated[str | None, Field(description="a text excerpt (document text or OCR)")]
    thumbnail: ThumbnailModel | None
    decision: Decision | None
    reviewer: str | None
    changes: dict[str, Any] | None
    note: str | None

    @classmethod
    def of(cls, review: Review, thumbnail: Thumbnail | None) -> ReviewModel:
        return cls(
            **cls.fields_of(review),
            ai=dict(review.ai) if review.ai else None,
            features=dict(review.features) if review.features else None,
            excerpt=review.excerpt,
            thumbnail=ThumbnailModel.of(thumbnail),
            decision=review.decision,
            reviewer=review.reviewer,
            changes=dict(review.changes) if review.changes else None,
            note=review.note,
        )


class ReviewListModel(BaseModel):
    reviews: list[ReviewSummaryModel]
    next_cursor: str | None

    @classmethod
    def of(cls, listing: ReviewList) -> ReviewListModel:
        return cls(
            reviews=[
                ReviewSummaryModel(**ReviewSummaryModel.fields_of(review)) for review in listing.reviews
            ],
            next_cursor=listing.next_cursor,
        )
