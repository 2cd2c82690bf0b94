"""The webhook items of the table as this capability's records (layout: fileflow_common.webhooks.items)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from fileflow_api.webhooks.model import (
    Delivery,
    DeliveryAttempt,
    Endpoint,
    EndpointSecret,
    FileDelivery,
)
from fileflow_common.dynamo import from_dynamo
from fileflow_common.webhooks.items import EndpointStatus, webhook_id


def _str(item: Mapping[str, Any], name: str) -> str | None:
    value = item.get(name)
    return None if value is None else str(value)


def _int(item: Mapping[str, Any], name: str) -> int | None:
    value = item.get(name)
    return None if value is None else int(value)


def secret_to_item(secret: EndpointSecret) -> dict[str, str]:
    entry = {"secret": secret.secret, "created_at": secret.created_at}
    if secret.expires_at is not None:
        entry["expires_at"] = secret.expires_at
    return entry


def endpoint_to_item(endpoint: Endpoint) -> dict[str, Any]:
    item: dict[str, Any] = {
        "entity": "webhook_endpoint",
        "endpoint_id": endpoint.endpoint_id,
        "user_id": endpoint.user_id,
        "url": endpoint.url,
        "events": list(endpoint.events),
        "description": endpoint.description,
        "status": endpoint.status.value,
        "secrets": [secret_to_item(secret) for secret in endpoint.secrets],
        "consecutive_failures": endpoint.consecutive_failures,
        "created_at": endpoint.created_at,
        "updated_at": endpoint.updated_at,
    }
    return item


def endpoint_from_item(item: Mapping[str, Any]) -> Endpoint:
    return Endpoint(
        user_id=str(item["user_id"]),
        endpoint_id=str(item["endpoint_id"]),
        url=str(item.get("url", "")),
        events=tuple(str(event) for event in item.get("events") or []),
        description=str(item.get("description", "")),
        status=EndpointStatus(str(item.get("status", EndpointStatus.ENABLED.value))),
        secrets=tuple(
            EndpointSecret(
                secret=str(entry["secret"]),
                created_at=str(entry.get("created_at", "")),
                expires_at=_str(entry, "expires_at"),
            )
            for entry in item.get("secrets") or []
        ),
        created_at=str(item.get("created_at", "")),
        updated_at=str(item.get("updated_at") or item.get("created_at", "")),
        disabled_reason=_str(item, "disabled_reason"),
        disabled_at=_str(item, "disabled_at"),
        consecutive_failures=int(item.get("consecutive_failures", 0)),
    )


def _attempt(entry: Mapping[str, Any]) -> DeliveryAttempt:
    return DeliveryAttempt(
        attempt=int(entry.get("attempt", 0)),
        at=_str(entry, "at"),
        status_code=_int(entry, "status_code"),
        duration_ms=_int(entry, "duration_ms"),
        error=_str(entry, "error"),
        next_attempt_at=_str(entry, "next_attempt_at"),
    )


def _payload(value: Any) -> Mapping[str, Any] | None:
    """The stored body (the exact JSON sent, a string) as an object."""
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            return None
        return parsed if isinstance(parsed, dict) else None
    return from_dynamo(value) if isinstance(value, dict) else None


def delivery_from_item(item: Mapping[str, Any]) -> Delivery:
    delivery_id = str(item["delivery_id"])
    return Delivery(
        user_id=str(item["user_id"]),
        endpoint_id=str(item["endpoint_id"]),
        delivery_id=delivery_id,
        webhook_id=str(item.get("webhook_id") or webhook_id(delivery_id)),
        event_id=_str(item, "event_id"),
        event_type=_str(item, "event_type"),
        file_id=_str(item, "file_id"),
        status=str(item.get("status", "pending")),
        attempts=tuple(_attempt(entry) for entry in item.get("attempts") or []),
        created_at=_str(item, "created_at"),
        updated_at=_str(item, "updated_at"),
        next_attempt_at=_str(item, "next_attempt_at"),
        target_url=_str(item, "target_url"),
        payload=_payload(item.get("payload")),
    )


def file_delivery_from_item(item: Mapping[str, Any]) -> FileDelivery:
    return FileDelivery(
        delivery_id=str(item["delivery_id"]),
        endpoint_id=str(item.get("endpoint_id", "")),
        event_type=_str(item, "event_type"),
        status=str(item.get("status", "pending")),
        attempt_count=int(item.get("attempt_count", 0)),
        last_status_code=_int(item, "last_status_code"),
        updated_at=_str(item, "updated_at"),
    )
