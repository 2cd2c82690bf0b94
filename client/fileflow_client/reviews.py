"""The human review queue, for reviewers (tokens with the reviewer role): docs/reviews.md."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from fileflow_client.parsing import Json, objects, opt_number, opt_string, string
from fileflow_client.transport import AsyncRequester, Call, Requester, mirrors, query, segment

type Decision = Literal["approve", "correct", "reject"]


@dataclass(frozen=True, slots=True)
class Review:
    """A review item: what the reviewer needs of one file, and nothing else of its owner's (no file id,
    no name): `raw` holds the whole answer (AI result, local features, excerpt, thumbnail URL)."""

    review_id: str
    status: str
    kind: str | None
    category: str | None
    confidence: float | None
    created_at: str | None
    decision: str | None
    raw: Json


def list_call(*, status: str | None, cursor: str | None) -> Call[tuple[tuple[Review, ...], str | None]]:
    return Call(
        "GET",
        "/v1/reviews",
        lambda data: (
            tuple(review(item) for item in objects(data, "reviews")),
            opt_string(data, "next_cursor"),
        ),
        params=query(status=status, cursor=cursor),
    )


def get_call(review_id: str) -> Call[Review]:
    return Call("GET", f"/v1/reviews/{segment(review_id)}", review)


def decide_call(
    review_id: str, decision: Decision, *, changes: Json | None = None, note: str | None = None
) -> Call[Review]:
    body: dict[str, Any] = {"decision": decision}
    if changes is not None:
        body["changes"] = dict(changes)
    if note is not None:
        body["note"] = note
    return Call(
        "POST", f"/v1/reviews/{segment(review_id)}/decision", review, json_body=body, idempotent=False
    )


def feedback_call(since: str | None) -> Call[None]:
    return Call("GET", "/v1/reviews/feedback", lambda _: None, params=query(since=since))


class Reviews:
    """`client.reviews`: answers 403 `PermissionDeniedError` for a token without the reviewer role."""

    def __init__(self, requester: Requester) -> None:
        self._requester = requester

    def list(self, *, status: str | None = "pending") -> Iterator[Review]:
        """The reviews in that status (pending by default), following the cursors."""
        cursor: str | None = None
        while True:
            page, cursor = self._requester.run(list_call(status=status, cursor=cursor))
            yield from page
            if not cursor:
                return

    def get(self, review_id: str) -> Review:
        """What the review holds: the thumbnail, a text excerpt, the AI result, the local features."""
        return self._requester.run(get_call(review_id))

    def decide(
        self, review_id: str, decision: Decision, *, changes: Json | None = None, note: str | None = None
    ) -> Review:
        """approve, correct (with `changes`: the AI result's fields as they should be) or reject."""
        return self._requester.run(decide_call(review_id, decision, changes=changes, note=note))

    def feedback(self, *, since: str | None = None) -> Iterator[Json]:
        """The decisions since an ISO time, one record each (JSON lines), for tuning prompts."""
        return self._requester.lines(feedback_call(since))


@mirrors(Reviews)
class AsyncReviews:
    def __init__(self, requester: AsyncRequester) -> None:
        self._requester = requester

    async def list(self, *, status: str | None = "pending") -> AsyncIterator[Review]:
        cursor: str | None = None
        while True:
            page, cursor = await self._requester.run(list_call(status=status, cursor=cursor))
            for item in page:
                yield item
            if not cursor:
                return

    async def get(self, review_id: str) -> Review:
        return await self._requester.run(get_call(review_id))

    async def decide(
        self, review_id: str, decision: Decision, *, changes: Json | None = None, note: str | None = None
    ) -> Review:
        return await self._requester.run(decide_call(review_id, decision, changes=changes, note=note))

    def feedback(self, *, since: str | None = None) -> AsyncIterator[Json]:
        return self._requester.lines(feedback_call(since))


def review(data: Json) -> Review:
    return Review(
        review_id=string(data, "review_id"),
        status=string(data, "status"),
        kind=opt_string(data, "kind"),
        category=opt_string(data, "category"),
        confidence=opt_number(data, "confidence"),
        created_at=opt_string(data, "created_at"),
        decision=opt_string(data, "decision"),
        raw=data,
    )
