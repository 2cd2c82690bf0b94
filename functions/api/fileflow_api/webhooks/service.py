"""Webhooks, domain logic: endpoints (create, list, read, change, delete, rotate), their delivery logs,
and redeliveries. No boto3.

Every read and write names the caller's own partition (`USER#{caller}`): another user's endpoint or
delivery is "not found", exactly like an absent one. A secret is answered twice only: by the create
and by the rotation that made it. A redelivery queues an `AttemptMessage(manual=True)` for the same
delivery, so the receiver sees the same `webhook-id` again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Protocol

from fileflow_api.core.cursors import CursorCodec
from fileflow_api.webhooks.errors import (
    UnknownDeliveryError,
    UnknownWebhookError,
    WebhookConflictError,
    WebhookLimitError,
)
from fileflow_api.webhooks.model import (
    CreatedEndpoint,
    Delivery,
    DeliveryLog,
    DeliveryPage,
    DeliveryQuery,
    Endpoint,
    EndpointChanges,
    EndpointSecret,
    FileDelivery,
    Redelivery,
)
from fileflow_api.webhooks.policy import DELIVERY_ID, ENDPOINT_ID, WebhooksPolicy
from fileflow_common.clock import to_timestamp, utc_now
from fileflow_common.webhooks.events import AttemptMessage
from fileflow_common.webhooks.items import EndpointStatus, new_endpoint_id, new_secret, webhook_id

# --- ports -------------------------------------------------------------------------------------------------


class EndpointStore(Protocol):
    def create(self, endpoint: Endpoint, *, max_endpoints: int) -> bool:
        """Write the new endpoint and count it; False (nothing written) when the user has `max_endpoints`."""
        ...

    def endpoints(self, user_id: str) -> list[Endpoint]:
        """The user's endpoints, oldest first."""
        ...

    def endpoint(self, user_id: str, endpoint_id: str) -> Endpoint | None: ...

    def update(
        self, user_id: str, endpoint_id: str, changes: EndpointChanges, *, at: datetime
    ) -> Endpoint | None:
        """Apply the changes (enabling clears the reason and the failure count); None when absent."""
        ...

    def replace_secrets(
        self, endpoint: Endpoint, secrets: tuple[EndpointSecret, ...], *, at: datetime
    ) -> bool:
        """Write `secrets` if the endpoint still holds `endpoint.secrets`; False when they changed."""
        ...

    def delete(self, user_id: str, endpoint_id: str) -> bool:
        """Delete the endpoint and uncount it; False when absent."""
        ...

    def deliveries(
        self,
        user_id: str,
        endpoint_id: str,
        query: DeliveryQuery,
        *,
        after: dict[str, str] | None,
        limit: int,
    ) -> DeliveryPage:
        """The endpoint's deliveries, newest first."""
        ...

    def delivery(self, user_id: str, endpoint_id: str, delivery_id: str) -> Delivery | None: ...

    def file_deliveries(self, user_id: str, file_id: str) -> list[FileDelivery]:
        """The file's deliveries (its pointer items) of this user, oldest first."""
        ...


class AttemptQueue(Protocol):
    def send(self, message: AttemptMessage) -> None:
        """Queue the attempt for the sender; raises when it could not be queued."""
        ...


# --- the service -------------------------------------------------------------------------------------------

DELIVERIES_SCOPE = "webhooks.deliveries"


class WebhookService:
    def __init__(
        self,
        *,
        store: EndpointStore,
        queue: AttemptQueue,
        cursors: CursorCodec,
        policy: WebhooksPolicy | None = None,
        clock: Callable[[], datetime] = utc_now,
        secrets: Callable[[], str] = new_secret,
        endpoint_ids: Callable[[], str] = new_endpoint_id,
    ) -> None:
        self._store = store
        self._queue = queue
        self._cursors = cursors
        self._policy = policy or WebhooksPolicy()
        self._clock = clock
        self._new_secret = secrets
        self._new_endpoint_id = endpoint_ids

    @property
    def policy(self) -> WebhooksPolicy:
        return self._policy

    # --- endpoints -----------------------------------------------------------------------------------------

    def create(self, user_id: str, *, url: str, events: tuple[str, ...], description: str) -> CreatedEndpoint:
        self._policy.check_url(url)
        now = to_timestamp(self._clock())
        secret = self._new_secret()
        endpoint = Endpoint(
            user_id=user_id,
            endpoint_id=self._new_endpoint_id(),
            url=url,
            events=events,
            description=description,
            status=EndpointStatus.ENABLED,
            secrets=(EndpointSecret(secret=secret, created_at=now),),
            created_at=now,
            updated_at=now,
        )
        limit = self._policy.max_endpoints
        if not self._store.create(endpoint, max_endpoints=limit):
            raise WebhookLimitError(
                f"at most {limit} webhook endpoints per user: delete one (DELETE /v1/webhooks/{{id}}) first"
            )
        return CreatedEndpoint(endpoint=endpoint, secret=secret)

    def endpoints(self, user_id: str) -> list[Endpoint]:
        return self._store.endpoints(user_id)

    def get(self, user_id: str, endpoint_id: str) -> Endpoint:
        endpoint = self._store.endpoint(user_id, endpoint_id) if ENDPOINT_ID.fullmatch(endpoint_id) else None
        if endpoint is None:
            raise UnknownWebhookError(f"no webhook endpoint {endpoint_id[:64]!r}")
        return endpoint

    def update(self, user_id: str, endpoint_id: str, changes: EndpointChanges) -> Endpoint:
        self.get(user_id, endpoint_id)
        if changes.url is not None:
            self._policy.check_url(changes.url)
        updated = self._store.update(user_id, endpoint_id, changes, at=self._clock())
        if updated is None:  # deleted meanwhile
            raise UnknownWebhookError(f"no webhook endpoint {endpoint_id!r}")
        return updated

    def delete(self, user_id: str, endpoint_id: str) -> None:
        if not (ENDPOINT_ID.fullmatch(endpoint_id) and self._store.delete(user_id, endpoint_id)):
            raise UnknownWebhookError(f"no webhook endpoint {endpoint_id[:64]!r}")

    def rotate_secret(
        self, user_id: str, endpoint_id: str, *, overlap: timedelta | None = None
    ) -> CreatedEndpoint:
        """A new current secret; the old one signs too until now + overlap (rotated-out expired ones go)."""
        overlap = self._policy.rotation_overlap if overlap is None else overlap
        secret = self._new_secret()
        for _ in range(3):
            endpoint = self.get(user_id, endpoint_id)
            now = self._clock()
            expires = to_timestamp(now + overlap)
            kept = tuple(
                old if old.expires_at is not None else replace(old, expires_at=expires)
                for old in endpoint.secrets
                if old.live(now)
            )
            secrets = (EndpointSecret(secret=secret, created_at=to_timestamp(now)), *kept)
            if self._store.replace_secrets(endpoint, secrets, at=now):
                stamp = to_timestamp(now)
                return CreatedEndpoint(replace(endpoint, secrets=secrets, updated_at=stamp), secret=secret)
        raise WebhookConflictError("the endpoint's secrets changed concurrently; rotate again")

    # --- deliveries ----------------------------------------------------------------------------------------

    def deliveries(
        self, user_id: str, endpoint_id: str, query: DeliveryQuery, *, cursor: str | None, limit: int
    ) -> DeliveryLog:
        self.get(user_id, endpoint_id)
        fingerprint = query.fingerprint(endpoint_id)
        after = self._cursors.position(cursor, user_id=user_id, scope=DELIVERIES_SCOPE, query=fingerprint)
        page = self._store.deliveries(user_id, endpoint_id, query, after=after, limit=limit)
        next_cursor = self._cursors.next_cursor(
            page.next_position, user_id=user_id, scope=DELIVERIES_SCOPE, query=fingerprint
        )
        return DeliveryLog(deliveries=page.deliveries, next_cursor=next_cursor)

    def delivery(self, user_id: str, endpoint_id: str, delivery_id: str) -> Delivery:
        self.get(user_id, endpoint_id)
        found = (
            self._store.delivery(user_id, endpoint_id, delivery_id)
            if DELIVERY_ID.fullmatch(delivery_id)
            else None
        )
        if found is None:
            raise UnknownDeliveryError(f"no delivery {delivery_id[:64]!r} of webhook endpoint {endpoint_id}")
        return found

    def redeliver(self, user_id: str, endpoint_id: str, delivery_id: str) -> Redelivery:
        """Queue the delivery again, whatever its status (the sender sends a manual attempt regardless)."""
        found = self.delivery(user_id, endpoint_id, delivery_id)
        self._queue.send(
            AttemptMessage(
                user_id=user_id, endpoint_id=endpoint_id, delivery_id=found.delivery_id, manual=True
            )
        )
        return Redelivery(delivery_id=found.delivery_id, webhook_id=webhook_id(found.delivery_id))

    def file_deliveries(self, user_id: str, file_id: str) -> list[FileDelivery]:
        """A file's deliveries: only after the caller's file was found (GET /v1/files/{id})."""
        return self._store.file_deliveries(user_id, file_id)
