"""Standard Webhooks 1.0 signatures (the `standardwebhooks` library): one `v1,<base64>` per live secret,
so a receiver that rotated its secret verifies with either during the overlap."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from standardwebhooks import Webhook

USER_AGENT = "Fileflow-Webhooks/1"


class NoLiveSecretError(ValueError):
    """The endpoint has no secret to sign with (every one expired): nothing may be sent unsigned."""


def signature_header(msg_id: str, timestamp: int, body: str, secrets: Sequence[str]) -> str:
    if not secrets:
        raise NoLiveSecretError("the endpoint has no live secret")
    moment = datetime.fromtimestamp(timestamp, UTC)
    return " ".join(Webhook(secret).sign(msg_id, moment, body) for secret in secrets)


def signed_headers(msg_id: str, timestamp: int, body: str, secrets: Sequence[str]) -> dict[str, str]:
    """Every header of a delivery request."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(msg_id, timestamp, body, secrets),
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }
