"""What every /v1/reviews/... route shares: its router (reviewers only), the review id, the service."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Security

from fileflow_api.auth.identity import BEARER_AUTH, ForbiddenError, User, current_user
from fileflow_api.dependencies import get_dependencies
from fileflow_api.reviews.service import ReviewService
from fileflow_common.reviews import REVIEWER_ROLE

ReviewId = Annotated[str, Path(max_length=64, description="the review_id (rv_...)")]


def reviewer(user: Annotated[User, Depends(current_user)]) -> User:
    """The caller, if their token carries the reviewer role; 403 for anyone else, on every review route."""
    if not user.has_role(REVIEWER_ROLE):
        raise ForbiddenError(
            f"the review queue is for reviewers: the token carries no {REVIEWER_ROLE!r} role"
        )
    return user


def reviews_router() -> APIRouter:
    """A router of /v1/reviews/... routes: tagged "reviews", bearer-authenticated, reviewers only."""
    return APIRouter(
        prefix="/v1/reviews",
        tags=["reviews"],
        dependencies=[Security(BEARER_AUTH), Depends(reviewer)],
    )


def get_review_service(request: Request) -> ReviewService:
    return get_dependencies(request).reviews


Reviewer = Annotated[User, Depends(reviewer)]
Reviews = Annotated[ReviewService, Depends(get_review_service)]
