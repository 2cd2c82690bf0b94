"""The review queue's rules without AWS: what a decision does, which changes a correction may make, the
reviewer role (token claim, authorizer context, the router's check), and the decision's claim and token
handling in ReviewService (in-memory store and task tokens)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from fileflow_api.auth.identity import ForbiddenError, User
from fileflow_api.auth.identity import _authorizer_user as authorizer_user
from fileflow_api.core.cursors import CursorCodec
from fileflow_api.errors import status_for
from fileflow_api.reviews.errors import (
    InvalidDecisionError,
    ReviewAlreadyDecidedError,
    ReviewExpiredError,
    ReviewTokenRejectedError,
)
from fileflow_api.reviews.model import DecisionRequest, Review, ReviewPage
from fileflow_api.reviews.params import reviewer
from fileflow_api.reviews.service import ReviewService, TaskTokenExpiredError, TaskTokenInvalidError
from fileflow_authorizer.policy import allow_policy
from fileflow_common.reviews import (
    Decision,
    InvalidChangesError,
    ReviewOutcome,
    ReviewStatus,
    apply_decision,
    review_id_for,
    thumbnail_key,
    validate_changes,
)
from fileflow_common.tokens import TokenClaims
from tests.events import load_event

NOW = datetime(2026, 5, 4, 10, 20, tzinfo=UTC)
RESULT = {"description": "a cat", "tags": ["cat"], "category": "animals", "confidence": 0.4}
AI = {"status": "succeeded", "confidence": 0.4, "result": RESULT}
REVIEW_ID = review_id_for("job-0001")


def outcome(decision: Decision, changes: Mapping[str, Any] | None = None) -> ReviewOutcome:
    return ReviewOutcome(REVIEW_ID, decision, ReviewStatus.DECIDED, reviewer="bob", changes=changes)


# --- what a decision does -----------------------------------------------------------------------------


def test_approve_keeps_the_ai_result() -> None:
    assert apply_decision(AI, outcome(Decision.APPROVE)) == {**AI, "reviewed": "approve"}


def test_correct_replaces_only_the_edited_fields() -> None:
    applied = apply_decision(AI, outcome(Decision.CORRECT, {"description": "a dog"}))
    assert applied is not None
    assert applied["result"] == {**RESULT, "description": "a dog"}
    assert applied["corrected_fields"] == ["description"]
    assert "rejected" not in applied


@pytest.mark.parametrize("decision", [Decision.REJECT, Decision.EXPIRED])
def test_reject_and_expiry_drop_the_result_and_mark_it_rejected(decision: Decision) -> None:
    applied = apply_decision(AI, outcome(decision))
    assert applied is not None
    assert (applied["rejected"], applied["result"], applied["confidence"]) == (True, None, 0.4)


def test_no_ai_analysis_stays_none() -> None:
    assert apply_decision(None, outcome(Decision.REJECT)) is None


# --- which changes a correction may make --------------------------------------------------------------


def test_changes_of_existing_fields_of_the_same_type_are_accepted() -> None:
    assert validate_changes(RESULT, {"tags": ["dog"], "description": "a dog"}) == {
        "tags": ["dog"],
        "description": "a dog",
    }


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({}, "at least one"),
        ({"colour": "red"}, "not a field"),
        ({"tags": "dog"}, "must be a list"),
        ({"description": 3}, "must be a string"),
        ({"confidence": 0.99}, "model's own figure"),
        ({"description": "x" * 9000}, "exceed"),
    ],
)
def test_changes_that_do_not_fit_the_result_are_refused(changes: dict[str, Any], reason: str) -> None:
    with pytest.raises(InvalidChangesError, match=reason):
        validate_changes(RESULT, changes)


def test_a_correction_needs_a_result_to_correct() -> None:
    with pytest.raises(InvalidChangesError, match="no AI result"):
        validate_changes(None, {"description": "a dog"})


def test_the_thumbnail_is_a_jpeg_or_png_rendition_before_a_webp_one_and_the_video_thumbnail_first() -> None:
    renditions = [
        {"name": f"thumb-{size}.{ext}", "key": f"derived/u/f/thumb-{size}.{ext}"}
        for size in (1024, 512)
        for ext in ("webp", "jpg")
    ]
    assert thumbnail_key(renditions) == "derived/u/f/thumb-1024.jpg"
    assert thumbnail_key([renditions[0]]) == "derived/u/f/thumb-1024.webp"
    video = [*renditions, {"name": "thumb-video.jpg", "key": "derived/u/f/thumb-video.jpg"}]
    assert thumbnail_key(video) == "derived/u/f/thumb-video.jpg"
    assert thumbnail_key([{"name": "text.txt", "key": "derived/u/f/text.txt"}]) is None


def test_a_review_id_is_one_per_job() -> None:
    assert review_id_for("job-0001") == review_id_for("job-0001") != review_id_for("job-0002")


# --- the reviewer role ------------------------------------------------------------------------------------

CLAIMS = {"sub": "bob", "iss": "fileflow", "aud": "fileflow-api", "exp": 2_000_000_000, "iat": 1_900_000_000}


@pytest.mark.parametrize(
    ("roles", "expected"),
    [(None, ()), (["reviewer"], ("reviewer",)), ("reviewer admin", ("reviewer", "admin")), ([], ())],
)
def test_the_roles_claim_is_read_from_a_list_or_a_string(roles: Any, expected: tuple[str, ...]) -> None:
    claims = TokenClaims.model_validate({**CLAIMS, **({"roles": roles} if roles is not None else {})})
    assert claims.roles == expected


@pytest.mark.parametrize("roles", [[1], ["Reviewer!"], {"reviewer": True}, ["r"] * 17])
def test_a_malformed_roles_claim_is_refused(roles: Any) -> None:
    with pytest.raises(ValueError, match="role"):
        TokenClaims.model_validate({**CLAIMS, "roles": roles})


def test_the_authorizer_passes_the_roles_in_its_context() -> None:
    method_arn = load_event("authorizer/token")["methodArn"]
    policy = allow_policy(TokenClaims.model_validate({**CLAIMS, "roles": ["reviewer"]}), method_arn)
    assert policy["context"] == {"user_id": "bob", "roles": "reviewer"}


def test_only_a_reviewer_passes_the_review_routes_check() -> None:
    assert reviewer(User("bob", frozenset({"reviewer"}))).user_id == "bob"
    with pytest.raises(ForbiddenError) as refused:
        reviewer(User("alice"))
    assert status_for(refused.value) == 403


class AuthorizedRequest:
    """What identity reads of a request behind API Gateway's authorizer: its context."""

    def __init__(self, context: dict[str, Any]) -> None:
        self.scope = {"aws.event": {"requestContext": {"authorizer": context}}}


def test_the_authorizer_context_roles_make_the_caller_a_reviewer() -> None:
    bob = authorizer_user(AuthorizedRequest({"user_id": "bob", "roles": "reviewer,auditor"}))  # type: ignore[arg-type]
    alice = authorizer_user(AuthorizedRequest({"user_id": "alice"}))  # type: ignore[arg-type]
    assert bob is not None
    assert alice is not None
    assert (bob.roles, alice.roles) == (frozenset({"reviewer", "auditor"}), frozenset())


# --- the decision: claim, then the token --------------------------------------------------------------


class MemoryReviews:
    def __init__(self, review: Review) -> None:
        self.items = {review.review_id: review}

    def review(self, review_id: str) -> Review | None:
        return self.items.get(review_id)

    def reviews(self, status: ReviewStatus, *, after: dict[str, str] | None, limit: int) -> ReviewPage:
        return ReviewPage([item for item in self.items.values() if item.status is status], None)

    def claim(self, review: Review, decision: DecisionRequest, *, reviewer: str, at: str) -> bool:
        current = self.items[review.review_id]
        if not current.status.open or current.task_token != review.task_token:
            return False
        self.items[review.review_id] = replace(
            current,
            status=ReviewStatus.DECIDED,
            decision=decision.decision,
            reviewer=reviewer,
            decided_at=at,
            changes=dict(decision.changes) or None,
        )
        return True

    def release(self, review: Review, *, reviewer: str, at: str) -> bool:
        current = self.items[review.review_id]
        if current.status is not ReviewStatus.DECIDED or current.reviewer != reviewer:
            return False
        self.items[review.review_id] = replace(
            current, status=ReviewStatus.PENDING, decision=None, reviewer=None, decided_at=None, changes=None
        )
        return True

    def decided(self, *, since: str | None, limit: int) -> Iterator[Review]:
        return iter([item for item in self.items.values() if item.status is ReviewStatus.DECIDED])


class RecordedTokens:
    def __init__(self, refusal: Exception | None = None) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.refusal = refusal

    def succeed(self, token: str, output: Mapping[str, Any]) -> None:
        if self.refusal is not None:
            raise self.refusal
        self.sent.append((token, dict(output)))


class NoThumbnails:
    def presign(self, key: str, *, expires_in: int) -> str:
        return f"https://signed.example/{key}?ttl={expires_in}"


PENDING = Review(
    review_id=REVIEW_ID,
    status=ReviewStatus.PENDING,
    owner_id="alice",
    file_id="file-1",
    kind="image",
    category="animals",
    created_at="2026-05-04T10:00:00.000Z",
    ai=AI,
    task_token="token-1",
)


def service(store: MemoryReviews, tokens: RecordedTokens) -> ReviewService:
    return ReviewService(
        store=store,
        tokens=tokens,
        thumbnails=NoThumbnails(),
        cursors=CursorCodec(lambda: b"k" * 32),
        clock=lambda: NOW,
    )


def test_a_correction_is_claimed_then_resumes_the_execution_with_the_decision() -> None:
    store, tokens = MemoryReviews(PENDING), RecordedTokens()
    decided = service(store, tokens).decide(
        "bob", REVIEW_ID, DecisionRequest(Decision.CORRECT, {"description": "a dog"})
    )
    assert tokens.sent == [("token-1", {"review_id": REVIEW_ID, "decision": "correct"})]
    assert (decided.status, decided.reviewer, decided.changes) == (
        ReviewStatus.DECIDED,
        "bob",
        {"description": "a dog"},
    )


def test_a_second_decision_is_a_conflict_and_sends_nothing() -> None:
    store, tokens = MemoryReviews(PENDING), RecordedTokens()
    service(store, tokens).decide("bob", REVIEW_ID, DecisionRequest(Decision.APPROVE))
    with pytest.raises(ReviewAlreadyDecidedError) as conflict:
        service(store, tokens).decide("carol", REVIEW_ID, DecisionRequest(Decision.REJECT))
    assert status_for(conflict.value) == 409
    assert len(tokens.sent) == 1


@pytest.mark.parametrize(
    ("refusal", "error"),
    [
        (TaskTokenExpiredError("TaskTimedOut"), ReviewExpiredError),
        (TaskTokenInvalidError("InvalidToken"), ReviewTokenRejectedError),
    ],
)
def test_a_token_step_functions_refuses_takes_the_claim_back(
    refusal: Exception, error: type[Exception]
) -> None:
    store = MemoryReviews(PENDING)
    with pytest.raises(error) as refused:
        service(store, RecordedTokens(refusal)).decide("bob", REVIEW_ID, DecisionRequest(Decision.APPROVE))
    assert status_for(refused.value) == 409  # type: ignore[arg-type]
    # The review waits as before: nothing was decided that the workflow never heard
    assert store.items[REVIEW_ID].status is ReviewStatus.PENDING
    assert store.items[REVIEW_ID].decision is None


@pytest.mark.parametrize(
    "request_",
    [
        DecisionRequest(Decision.APPROVE, {"description": "x"}),
        DecisionRequest(Decision.EXPIRED),
        DecisionRequest(Decision.CORRECT, {"nope": 1}),
    ],
)
def test_a_decision_that_does_not_fit_is_refused_before_anything_is_claimed(
    request_: DecisionRequest,
) -> None:
    store, tokens = MemoryReviews(PENDING), RecordedTokens()
    with pytest.raises((InvalidDecisionError, InvalidChangesError)) as refused:
        service(store, tokens).decide("bob", REVIEW_ID, request_)
    assert status_for(refused.value) == 422
    assert store.items[REVIEW_ID].status is ReviewStatus.PENDING
    assert tokens.sent == []
