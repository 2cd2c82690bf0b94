"""What the sender reads and writes: endpoints, deliveries and their attempts (fileflow_common.webhooks.items
describes the items)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from fileflow_common.webhooks.items import DeliveryStatus


class Outcome(StrEnum):
    """What one attempt led to (the file event's `detail.delivery.outcome`)."""

    DELIVERED = "delivered"
    RETRYING = "retrying"
    FAILED = "failed"
    # The attempt disabled the endpoint (410, or the last of N consecutive failed deliveries).
    DISABLED = "disabled"


@dataclass(frozen=True)
class Secret:
    secret: str
    created_at: datetime
    expires_at: datetime | None = None

    def live(self, now: datetime) -> bool:
        return self.expires_at is None or self.expires_at > now


@dataclass(frozen=True)
class Endpoint:
    user_id: str
    endpoint_id: str
    url: str
    events: tuple[str, ...]
    enabled: bool
    secrets: tuple[Secret, ...]
    created_at: str
    consecutive_failures: int = 0

    def live_secrets(self, now: datetime) -> list[str]:
        """The current secret and the rotated-out ones still within their overlap, newest first."""
        live = [secret for secret in self.secrets if secret.live(now)]
        live.sort(key=lambda secret: (secret.expires_at is not None, -secret.created_at.timestamp()))
        return [secret.secret for secret in live]

    def subscribed(self, event_type: str) -> bool:
        return self.enabled and event_type in self.events


@dataclass(frozen=True)
class AttemptRecord:
    attempt: int
    at: str
    status_code: int | None
    duration_ms: int
    error: str | None
    next_attempt_at: str | None

    def describe(self) -> dict[str, Any]:
        return {
            "attempt": self.attempt,
            "at": self.at,
            "status_code": self.status_code,
            "duration_ms": self.duration_ms,
            "error": self.error,
            "next_attempt_at": self.next_attempt_at,
        }


@dataclass(frozen=True)
class Delivery:
    user_id: str
    endpoint_id: str
    delivery_id: str
    webhook_id: str
    event_id: str
    event_type: str
    payload: str
    status: DeliveryStatus
    created_at: str
    file_id: str | None = None
    correlation_id: str | None = None
    target_url: str | None = None
    next_attempt_at: str | None = None
    attempts: tuple[AttemptRecord, ...] = field(default_factory=tuple)

    @property
    def attempt_count(self) -> int:
        return len(self.attempts)

    @property
    def callback(self) -> bool:
        """A delivery to the upload's one-off callback_url (stored under the default endpoint)."""
        return self.target_url is not None
