"""The webhook items of the metadata table (docs/architecture.md, docs/webhooks.md).

| entity | pk | sk |
| --- | --- | --- |
| endpoint | `USER#{user_id}` | `WEBHOOK#{endpoint_id}` |
| delivery (per event and target) | `USER#{user_id}` | `DELIVERY#{endpoint_id}#{delivery_id}` |
| a file's delivery (what the files API shows) | `FILE#{file_id}` | `DELIVERY#{delivery_id}` |
| fan-out guard (TTL 14 days) | `USER#{user_id}` | `WHEVENT#{event_id}#{endpoint_id}` |

The fan-out writes a delivery and its guard in one transaction (guard `attribute_not_exists(pk)`):
a producer or a fan-out that runs twice for one event makes one delivery per endpoint.

Everything sits in the owner's partition (`USER#...`), so every query names the caller's own user:
one user's request cannot reach another's endpoints or deliveries. `delivery_id`s sort by creation
time (`{epoch ms:013d}{16 hex}`), so a delivery log reads newest first with ScanIndexForward=False.

Endpoint attributes: `endpoint_id`, `user_id`, `url`, `events` (list), `description`, `status`
(`enabled` | `disabled`), `disabled_reason`, `disabled_at`, `secrets` (list of `{secret, created_at,
expires_at}`: the current one without `expires_at`; a rotated-out one until its `expires_at`),
`consecutive_failures`, `created_at`, `updated_at`. The user's default endpoint is the oldest
enabled one: an upload's one-off `callback_url` deliveries are stored under it (with `target_url`)
and signed with its secrets.

Delivery attributes: `delivery_id`, `webhook_id` (`msg_` + delivery id: the `webhook-id` header,
stable across retries and redeliveries), `endpoint_id`, `user_id`, `event_id`, `event_type`,
`file_id`, `payload` (the exact JSON body), `status` (`pending` | `retrying` | `succeeded` | `failed`),
`attempts` (list of `{attempt, at, status_code, duration_ms, error, next_attempt_at}`), `created_at`,
`updated_at`, `next_attempt_at`, `target_url` (a callback's URL).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from enum import StrEnum
from typing import Final

from fileflow_common.clock import utc_now


class EndpointStatus(StrEnum):
    ENABLED = "enabled"
    DISABLED = "disabled"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    RETRYING = "retrying"
    SUCCEEDED = "succeeded"
    FAILED = "failed"

    @property
    def final(self) -> bool:
        """Nothing more is attempted (but an owner's redelivery)."""
        return self in (DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED)


WEBHOOK_PREFIX: Final = "WEBHOOK#"
DELIVERY_PREFIX: Final = "DELIVERY#"
SECRET_PREFIX: Final = "whsec_"  # noqa: S105 - the Standard Webhooks prefix, not a secret


def user_pk(user_id: str) -> str:
    return f"USER#{user_id}"


def endpoint_sk(endpoint_id: str) -> str:
    return f"{WEBHOOK_PREFIX}{endpoint_id}"


def delivery_sk(endpoint_id: str, delivery_id: str) -> str:
    return f"{DELIVERY_PREFIX}{endpoint_id}#{delivery_id}"


def endpoint_deliveries_prefix(endpoint_id: str) -> str:
    return f"{DELIVERY_PREFIX}{endpoint_id}#"


def file_pk(file_id: str) -> str:
    return f"FILE#{file_id}"


def file_delivery_sk(delivery_id: str) -> str:
    return f"{DELIVERY_PREFIX}{delivery_id}"


def fanout_guard_sk(event_id: str, endpoint_id: str) -> str:
    return f"WHEVENT#{event_id}#{endpoint_id}"


def new_endpoint_id() -> str:
    return "ep_" + secrets.token_hex(12)


def delivery_id_for(event_id: str, endpoint_id: str, created_ms: int | None = None) -> str:
    """Time-ordered (creation ms first), then a hash of (event, endpoint)."""
    ms = int(utc_now().timestamp() * 1000) if created_ms is None else created_ms
    digest = hashlib.sha256(f"{event_id}\x1f{endpoint_id}".encode()).hexdigest()[:16]
    return f"{ms:013d}{digest}"


def webhook_id(delivery_id: str) -> str:
    return f"msg_{delivery_id}"


def new_secret() -> str:
    """`whsec_` + base64 of 32 random bytes (Standard Webhooks: 24 to 64)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()
