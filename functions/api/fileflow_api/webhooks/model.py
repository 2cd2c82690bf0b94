"""Webhooks, the model: endpoints with their secrets, deliveries with their attempts, a file's deliveries."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fileflow_common.clock import from_timestamp
from fileflow_common.webhooks.items import DeliveryStatus, EndpointStatus


@dataclass(frozen=True, slots=True)
class EndpointSecret:
    secret: str
    created_at: str
    # None: the current secret. Else a rotated-out one, signing deliveries until then.
    expires_at: str | None = None

    def live(self, now: datetime) -> bool:
        return self.expires_at is None or from_timestamp(self.expires_at) > now


@dataclass(frozen=True, slots=True)
class Endpoint:
    user_id: str
    endpoint_id: str
    url: str
    events: tuple[str, ...]
    description: str
    status: EndpointStatus
    secrets: tuple[EndpointSecret, ...]
    created_at: str
    updated_at: str
    disabled_reason: str | None = None
    disabled_at: str | None = None
    consecutive_failures: int = 0


@dataclass(frozen=True, slots=True)
class CreatedEndpoint:
    """An endpoint and the secret it was given: the one answer that shows a secret."""

    endpoint: Endpoint
    secret: str


@dataclass(frozen=True, slots=True)
class EndpointChanges:
    """A PATCH: None leaves the field as it is."""

    url: str | None = None
    events: tuple[str, ...] | None = None
    description: str | None = None
    enabled: bool | None = None


@dataclass(frozen=True, slots=True)
class DeliveryAttempt:
    attempt: int
    at: str | None
    status_code: int | None
    duration_ms: int | None
    error: str | None
    next_attempt_at: str | None


@dataclass(frozen=True, slots=True)
class Delivery:
    user_id: str
    endpoint_id: str
    delivery_id: str
    webhook_id: str
    event_id: str | None
    event_type: str | None
    file_id: str | None
    status: str
    attempts: tuple[DeliveryAttempt, ...]
    created_at: str | None
    updated_at: str | None
    next_attempt_at: str | None
    target_url: str | None
    payload: Mapping[str, Any] | None


@dataclass(frozen=True, slots=True)
class DeliveryQuery:
    status: DeliveryStatus | None = None

    def fingerprint(self, endpoint_id: str) -> dict[str, str | None]:
        return {"endpoint": endpoint_id, "status": self.status.value if self.status else None}


@dataclass(frozen=True, slots=True)
class DeliveryPage:
    deliveries: list[Delivery]
    next_position: dict[str, str] | None


@dataclass(frozen=True, slots=True)
class DeliveryLog:
    deliveries: list[Delivery]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class FileDelivery:
    """A file's delivery as GET /v1/files/{id} shows it (the `FILE#{f}`/`DELIVERY#{d}` pointer)."""

    delivery_id: str
    endpoint_id: str
    event_type: str | None
    status: str
    attempt_count: int
    last_status_code: int | None
    updated_at: str | None


@dataclass(frozen=True, slots=True)
class Redelivery:
    delivery_id: str
    webhook_id: str
