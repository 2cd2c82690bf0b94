"""The adapters the sender's domain (fanout, attempt) needs: small interfaces, faked in unit tests."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from fileflow_common.pipeline import StageEvent
from fileflow_common.webhooks.events import AttemptMessage
from fileflow_common.webhooks.items import DeliveryStatus
from fileflow_webhooks.model import AttemptRecord, Delivery, Endpoint
from fileflow_webhooks.transport import Sent


class EndpointStore(Protocol):
    def endpoints(self, user_id: str) -> list[Endpoint]: ...

    def endpoint(self, user_id: str, endpoint_id: str) -> Endpoint | None: ...

    def reset_failures(self, endpoint: Endpoint, at: datetime) -> None: ...

    def count_failed_delivery(self, endpoint: Endpoint, at: datetime) -> int:
        """+1 consecutive failed delivery; returns the new count (0: the endpoint is gone)."""
        ...

    def disable(self, endpoint: Endpoint, reason: str, at: datetime) -> bool:
        """enabled -> disabled with `reason`; False when it was not enabled (or is gone)."""
        ...


class DeliveryStore(Protocol):
    def create(self, delivery: Delivery, guard_sk: str) -> str | None:
        """The delivery, its fan-out guard and its file pointer, together: None when written. When the guard
        exists (the event was fanned out before), the id of the delivery that run created."""
        ...

    def get(self, user_id: str, endpoint_id: str, delivery_id: str) -> Delivery | None: ...

    def record(
        self,
        delivery: Delivery,
        *,
        status: DeliveryStatus,
        at: datetime,
        attempt: AttemptRecord | None,
        next_attempt_at: str | None,
        failure_reason: str | None,
        event: StageEvent | None,
    ) -> bool:
        """Append `attempt` (if any) and set the status, only while the delivery holds the attempts it was
        read with; False when another writer got there first (a duplicate message)."""
        ...


class AttemptQueue(Protocol):
    def send(self, message: AttemptMessage, delay_seconds: int = 0) -> None: ...


class Poster(Protocol):
    def post(self, url: str, headers: dict[str, str], body: bytes) -> Sent: ...
