"""Webhook endpoints and their delivery log (docs/webhooks.md)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from fileflow_client.parsing import (
    Json,
    integer,
    objects,
    opt_integer,
    opt_obj,
    opt_string,
    string,
    strings,
)
from fileflow_client.transport import AsyncRequester, Call, Requester, mirrors, query, segment


@dataclass(frozen=True, slots=True)
class WebhookEndpoint:
    """A webhook endpoint: where deliveries go, for which events, and whether it is enabled."""

    endpoint_id: str
    url: str
    events: tuple[str, ...]
    description: str
    status: str  # enabled | disabled
    disabled_reason: str | None
    consecutive_failures: int
    created_at: str
    updated_at: str
    # Only right after create and rotate-secret: the whsec_ secret that signs deliveries.
    secret: str | None = None


@dataclass(frozen=True, slots=True)
class Delivery:
    """One event sent (or being sent) to one endpoint; `attempts` and `payload` only from `delivery`."""

    delivery_id: str
    webhook_id: str
    endpoint_id: str
    event_type: str | None
    file_id: str | None
    status: str  # pending | retrying | succeeded | failed
    attempt_count: int
    last_status_code: int | None
    created_at: str | None
    updated_at: str | None
    # GET .../deliveries/{id} only: the attempts (oldest first) and the body sent.
    attempts: tuple[Json, ...] = ()
    payload: Json | None = None


@dataclass(frozen=True, slots=True)
class Redelivery:
    """A delivery queued again (`status` is `queued`), with the same `webhook_id`."""

    delivery_id: str
    webhook_id: str
    status: str


# --- the routes -------------------------------------------------------------------------------------
def create_call(url: str, events: Sequence[str], description: str = "") -> Call[WebhookEndpoint]:
    body = {"url": url, "events": list(events), "description": description}
    return Call("POST", "/v1/webhooks", endpoint, json_body=body, idempotent=False)


def list_call() -> Call[tuple[WebhookEndpoint, ...]]:
    return Call(
        "GET", "/v1/webhooks", lambda data: tuple(endpoint(item) for item in objects(data, "webhooks"))
    )


def get_call(endpoint_id: str) -> Call[WebhookEndpoint]:
    return Call("GET", f"/v1/webhooks/{segment(endpoint_id)}", endpoint)


def update_call(endpoint_id: str, **changes: Any) -> Call[WebhookEndpoint]:
    body = {name: value for name, value in changes.items() if value is not None}
    return Call("PATCH", f"/v1/webhooks/{segment(endpoint_id)}", endpoint, json_body=body)


def delete_call(endpoint_id: str) -> Call[None]:
    return Call("DELETE", f"/v1/webhooks/{segment(endpoint_id)}", lambda _: None)


def rotate_call(endpoint_id: str, overlap_seconds: int | None = None) -> Call[WebhookEndpoint]:
    body = {"overlap_seconds": overlap_seconds} if overlap_seconds is not None else {}
    return Call(
        "POST",
        f"/v1/webhooks/{segment(endpoint_id)}/rotate-secret",
        endpoint,
        json_body=body,
        idempotent=False,
    )


def deliveries_call(
    endpoint_id: str, *, status: str | None = None, limit: int | None = None, cursor: str | None = None
) -> Call[tuple[tuple[Delivery, ...], str | None]]:
    return Call(
        "GET",
        f"/v1/webhooks/{segment(endpoint_id)}/deliveries",
        lambda data: (
            tuple(delivery(item) for item in objects(data, "deliveries")),
            opt_string(data, "next_cursor"),
        ),
        params=query(status=status, limit=limit, cursor=cursor),
    )


def delivery_call(endpoint_id: str, delivery_id: str) -> Call[Delivery]:
    return Call("GET", f"/v1/webhooks/{segment(endpoint_id)}/deliveries/{segment(delivery_id)}", delivery)


def redeliver_call(endpoint_id: str, delivery_id: str) -> Call[Redelivery]:
    return Call(
        "POST",
        f"/v1/webhooks/{segment(endpoint_id)}/deliveries/{segment(delivery_id)}/redeliver",
        lambda data: Redelivery(
            string(data, "delivery_id"), string(data, "webhook_id"), string(data, "status")
        ),
        json_body={},
    )


# --- the resources ----------------------------------------------------------------------------------
class Webhooks:
    """`client.webhooks`: the caller's endpoints (at most 20) and what was delivered to them."""

    def __init__(self, requester: Requester) -> None:
        self._run = requester.run

    def create(self, url: str, events: Sequence[str], description: str = "") -> WebhookEndpoint:
        """The answer's `secret` is shown this once: keep it to verify deliveries."""
        return self._run(create_call(url, events, description))

    def list(self) -> tuple[WebhookEndpoint, ...]:
        """Every endpoint of the caller's (no secrets)."""
        return self._run(list_call())

    def get(self, endpoint_id: str) -> WebhookEndpoint:
        """One endpoint: its events, status, why it was disabled, its live secrets' dates."""
        return self._run(get_call(endpoint_id))

    def update(
        self,
        endpoint_id: str,
        *,
        url: str | None = None,
        events: Sequence[str] | None = None,
        description: str | None = None,
        enabled: bool | None = None,
    ) -> WebhookEndpoint:
        """Changes only what is given; `enabled=True` re-enables a disabled endpoint."""
        return self._run(
            update_call(endpoint_id, url=url, events=events, description=description, enabled=enabled)
        )

    def delete(self, endpoint_id: str) -> None:
        """Deletes the endpoint; nothing more is delivered to it."""
        self._run(delete_call(endpoint_id))

    def rotate_secret(self, endpoint_id: str, *, overlap_seconds: int | None = None) -> WebhookEndpoint:
        """A new secret (in the answer, once); the old one still signs for `overlap_seconds`."""
        return self._run(rotate_call(endpoint_id, overlap_seconds))

    def deliveries(self, endpoint_id: str, *, status: str | None = None) -> Iterator[Delivery]:
        """The endpoint's deliveries, newest first, following the cursors."""
        return _follow(lambda cursor: self._run(deliveries_call(endpoint_id, status=status, cursor=cursor)))

    def delivery(self, endpoint_id: str, delivery_id: str) -> Delivery:
        """One delivery with its attempts (codes, timings, errors) and the payload sent."""
        return self._run(delivery_call(endpoint_id, delivery_id))

    def redeliver(self, endpoint_id: str, delivery_id: str) -> Redelivery:
        """Sends the delivery again, with the same `webhook-id` (receivers deduplicate on it)."""
        return self._run(redeliver_call(endpoint_id, delivery_id))


@mirrors(Webhooks)
class AsyncWebhooks:
    def __init__(self, requester: AsyncRequester) -> None:
        self._run = requester.run

    async def create(self, url: str, events: Sequence[str], description: str = "") -> WebhookEndpoint:
        return await self._run(create_call(url, events, description))

    async def list(self) -> tuple[WebhookEndpoint, ...]:
        return await self._run(list_call())

    async def get(self, endpoint_id: str) -> WebhookEndpoint:
        return await self._run(get_call(endpoint_id))

    async def update(self, endpoint_id: str, **changes: Any) -> WebhookEndpoint:
        return await self._run(update_call(endpoint_id, **changes))

    async def delete(self, endpoint_id: str) -> None:
        await self._run(delete_call(endpoint_id))

    async def rotate_secret(self, endpoint_id: str, *, overlap_seconds: int | None = None) -> WebhookEndpoint:
        return await self._run(rotate_call(endpoint_id, overlap_seconds))

    async def deliveries(self, endpoint_id: str, *, status: str | None = None) -> AsyncIterator[Delivery]:
        cursor: str | None = None
        while True:
            page, cursor = await self._run(deliveries_call(endpoint_id, status=status, cursor=cursor))
            for item in page:
                yield item
            if not cursor:
                return

    async def delivery(self, endpoint_id: str, delivery_id: str) -> Delivery:
        return await self._run(delivery_call(endpoint_id, delivery_id))

    async def redeliver(self, endpoint_id: str, delivery_id: str) -> Redelivery:
        return await self._run(redeliver_call(endpoint_id, delivery_id))


def _follow(fetch: Callable[[str | None], tuple[tuple[Delivery, ...], str | None]]) -> Iterator[Delivery]:
    cursor: str | None = None
    while True:
        page, cursor = fetch(cursor)
        yield from page
        if not cursor:
            return


# --- parsing ----------------------------------------------------------------------------------------
def endpoint(data: Json) -> WebhookEndpoint:
    return WebhookEndpoint(
        endpoint_id=string(data, "endpoint_id"),
        url=string(data, "url"),
        events=strings(data, "events"),
        description=opt_string(data, "description") or "",
        status=string(data, "status"),
        disabled_reason=opt_string(data, "disabled_reason"),
        consecutive_failures=opt_integer(data, "consecutive_failures") or 0,
        created_at=string(data, "created_at"),
        updated_at=string(data, "updated_at"),
        secret=opt_string(data, "secret"),
    )


def delivery(data: Json) -> Delivery:
    return Delivery(
        delivery_id=string(data, "delivery_id"),
        webhook_id=string(data, "webhook_id"),
        endpoint_id=string(data, "endpoint_id"),
        event_type=opt_string(data, "event_type"),
        file_id=opt_string(data, "file_id"),
        status=string(data, "status"),
        attempt_count=integer(data, "attempt_count"),
        last_status_code=opt_integer(data, "last_status_code"),
        created_at=opt_string(data, "created_at"),
        updated_at=opt_string(data, "updated_at"),
        attempts=tuple(objects(data, "attempts")) if "attempts" in data else (),
        payload=opt_obj(data, "payload"),
    )
