"""Reviews, domain logic: the queue by status, one review, a reviewer's decision, the feedback export.
No boto3.

A decision is claimed on the review item first (a conditional write: pending or escalated, and still the
token the workflow waits on), so a second decision is refused (409) and the finalize stage finds the
decision recorded when the execution resumes; then the task token is sent. When Step Functions refuses the
token (TaskTimedOut: the workflow stopped waiting; InvalidToken), the claim is taken back and the
reviewer gets a precise 409: nothing is decided that the workflow never heard.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any, Protocol

from fileflow_api.core.cursors import CursorCodec
from fileflow_api.reviews.errors import (
    InvalidDecisionError,
    ReviewAlreadyDecidedError,
    ReviewExpiredError,
    ReviewNotFoundError,
    ReviewTokenRejectedError,
)
from fileflow_api.reviews.model import DecisionRequest, Review, ReviewList, ReviewPage, Thumbnail
from fileflow_common.clock import to_timestamp, utc_now
from fileflow_common.reviews import (
    MAX_NOTE_CHARS,
    REVIEW_ID_PATTERN,
    Decision,
    ReviewStatus,
    validate_changes,
)

# --- ports -------------------------------------------------------------------------------------------------


class ReviewStore(Protocol):
    def review(self, review_id: str) -> Review | None: ...

    def reviews(self, status: ReviewStatus, *, after: dict[str, str] | None, limit: int) -> ReviewPage:
        """The reviews in `status`, oldest first (decided ones by decision time)."""
        ...

    def claim(self, review: Review, decision: DecisionRequest, *, reviewer: str, at: str) -> bool:
        """Record the decision if the review is still open on `review.task_token`; False otherwise."""
        ...

    def release(self, review: Review, *, reviewer: str, at: str) -> bool:
        """Take back a claim whose token Step Functions refused (only if it is still that claim)."""
        ...

    def decided(self, *, since: str | None, limit: int) -> Iterator[Review]:
        """Decided reviews from `since` (their decision time), oldest first, at most `limit`."""
        ...


class TaskTokenExpiredError(Exception):
    """Step Functions no longer waits on the token (TaskTimedOut): timed out, or closed already."""


class TaskTokenInvalidError(Exception):
    """Step Functions does not know the token (InvalidToken, TaskDoesNotExist)."""


class TaskTokens(Protocol):
    def succeed(self, token: str, output: Mapping[str, Any]) -> None:
        """SendTaskSuccess; TaskTokenExpiredError / TaskTokenInvalidError when Step Functions refuses it."""
        ...


class ThumbnailSigner(Protocol):
    def presign(self, key: str, *, expires_in: int) -> str: ...


# --- the service -------------------------------------------------------------------------------------------

REVIEWS_SCOPE = "reviews"
THUMBNAIL_TTL = timedelta(minutes=5)
MAX_FEEDBACK_LINES = 10_000


class ReviewService:
    def __init__(
        self,
        *,
        store: ReviewStore,
        tokens: TaskTokens,
        thumbnails: ThumbnailSigner,
        cursors: CursorCodec,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._store = store
        self._tokens = tokens
        self._thumbnails = thumbnails
        self._cursors = cursors
        self._clock = clock

    def list(self, reviewer: str, status: ReviewStatus, *, cursor: str | None, limit: int) -> ReviewList:
        query = {"status": status.value}
        after = self._cursors.position(cursor, user_id=reviewer, scope=REVIEWS_SCOPE, query=query)
        page = self._store.reviews(status, after=after, limit=limit)
        next_cursor = self._cursors.next_cursor(
            page.next_position, user_id=reviewer, scope=REVIEWS_SCOPE, query=query
        )
        return ReviewList(reviews=page.reviews, next_cursor=next_cursor)

    def get(self, review_id: str) -> Review:
        review = self._store.review(review_id) if REVIEW_ID_PATTERN.fullmatch(review_id) else None
        if review is None:
            raise ReviewNotFoundError(f"no review {review_id[:64]!r}")
        return review

    def thumbnail(self, review: Review) -> Thumbnail | None:
        """A short-lived URL of the review's thumbnail: the one object of the owner's a reviewer may read."""
        if review.thumbnail_key is None:
            return None
        ttl = int(THUMBNAIL_TTL.total_seconds())
        url = self._thumbnails.presign(review.thumbnail_key, expires_in=ttl)
        return Thumbnail(url=url, expires_at=to_timestamp(self._clock() + THUMBNAIL_TTL))

    def decide(self, reviewer: str, review_id: str, request: DecisionRequest) -> Review:
        review = self.get(review_id)
        _refuse_closed(review)
        decision = _checked(review, request)
        at = to_timestamp(self._clock())
        if review.task_token is None or not self._store.claim(review, decision, reviewer=reviewer, at=at):
            _refuse_closed(self.get(review_id))
            raise ReviewAlreadyDecidedError(f"review {review_id} changed meanwhile: read it again")
        claimed = self.get(review_id)
        try:
            self._tokens.succeed(
                review.task_token, {"review_id": review.review_id, "decision": decision.decision.value}
            )
        except TaskTokenExpiredError as exc:
            self._store.release(claimed, reviewer=reviewer, at=at)
            raise ReviewExpiredError(
                f"Step Functions no longer waits for review {review_id} (TaskTimedOut): it timed out and its"
                " timeout rule applies; the decision changed nothing"
            ) from exc
        except TaskTokenInvalidError as exc:
            self._store.release(claimed, reviewer=reviewer, at=at)
            raise ReviewTokenRejectedError(
                f"Step Functions refused review {review_id}'s task token ({exc}): nothing was decided"
            ) from exc
        except Exception:
            self._store.release(claimed, reviewer=reviewer, at=at)
            raise
        return claimed

    def feedback(self, *, since: datetime | None) -> Iterator[Review]:
        """The decisions from `since`, oldest first (docs/reviews.md, "Feedback export")."""
        return self._store.decided(since=to_timestamp(since) if since else None, limit=MAX_FEEDBACK_LINES)


def _refuse_closed(review: Review) -> None:
    if review.status is ReviewStatus.DECIDED:
        raise ReviewAlreadyDecidedError(
            f"review {review.review_id} was decided ({review.decision}) at {review.decided_at}"
        )
    if review.status is ReviewStatus.EXPIRED:
        raise ReviewExpiredError(
            f"review {review.review_id} waited past its time: the timeout rule closed it {review.decided_at}"
        )


def _checked(review: Review, request: DecisionRequest) -> DecisionRequest:
    if request.decision is Decision.EXPIRED:
        raise InvalidDecisionError("expired is the timeout rule's: decide approve, correct or reject")
    if request.note is not None and len(request.note) > MAX_NOTE_CHARS:
        raise InvalidDecisionError(f"a note holds at most {MAX_NOTE_CHARS} characters")
    if request.decision is Decision.CORRECT:
        changes = validate_changes(review.ai_result, request.changes)
        return DecisionRequest(decision=request.decision, changes=changes, note=request.note)
    if request.changes:
        raise InvalidDecisionError(f"{request.decision.value} takes no changes: correct edits the result")
    return request
