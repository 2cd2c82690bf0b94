"""Webhook events: what producers queue, and the payload a receiver gets (Standard Webhooks 1.0).

A producer (the notify stage, the sweeper, the review decision) sends one `EventMessage` to the webhook
queue. The sender fans it out into one delivery per matching endpoint of the user (plus the upload's
one-off `callback_url`), each signed and retried on its own.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from fileflow_common.clock import to_timestamp, utc_now

# A receiver should reject a body larger than this; ours stay far below (spec: < 20 KB).
MAX_PAYLOAD_BYTES = 20 * 1024


class EventType(StrEnum):
    FILE_PROCESSED = "file.processed"
    FILE_FAILED = "file.failed"
    FILE_NEEDS_REVIEW = "file.needs_review"
    REVIEW_DECIDED = "review.decided"
    UPLOAD_EXPIRED = "upload.expired"


EVENT_TYPES: tuple[str, ...] = tuple(event.value for event in EventType)


class EventData(BaseModel):
    """What a payload carries: ids, the status and the correlation id. Never a URL, never content."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    file_id: str | None = None
    upload_id: str | None = None
    status: str
    correlation_id: str | None = None
    reason: str | None = None


class EventMessage(BaseModel):
    """One event, as a producer queues it (message kind `event`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["event"] = "event"
    event_id: str = Field(pattern=r"^evt_[0-9a-f]{32}$")
    user_id: str
    type: EventType
    occurred_at: str
    data: EventData
    # The upload's one-off target, checked at initiate and again at delivery.
    callback_url: str | None = None


class AttemptMessage(BaseModel):
    """ "Deliver (or retry) this delivery now" (message kind `attempt`): queued by the fan-out, by a retry
    (with a delay) and by `POST .../redeliver`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["attempt"] = "attempt"
    user_id: str
    endpoint_id: str
    delivery_id: str
    # Not before this instant (ISO 8601): SQS delays at most 15 minutes, so a longer wait is re-queued.
    due_at: str | None = None
    # A redelivery asked by the owner: sent even when the delivery already succeeded or failed for good.
    manual: bool = False
    # The attempt number this message is for (the sender's own messages): a duplicate or a stale message
    # (its attempt already recorded) is dropped. None (a redelivery): the next attempt, whatever it is.
    attempt: int | None = Field(default=None, ge=1)


def event_id(*parts: str) -> str:
    """A stable event id from what identifies the event (e.g. the execution and the type): a retried
    producer queues the same id, and the fan-out's conditional writes make it one delivery per endpoint."""
    return "evt_" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def new_event(
    *,
    user_id: str,
    type: EventType,
    data: EventData,
    identity: tuple[str, ...],
    callback_url: str | None = None,
    occurred_at: datetime | None = None,
) -> EventMessage:
    return EventMessage(
        event_id=event_id(user_id, type.value, *identity),
        user_id=user_id,
        type=type,
        occurred_at=to_timestamp(occurred_at or utc_now()),
        data=data,
        callback_url=callback_url,
    )


def payload(message: EventMessage) -> bytes:
    """The body a receiver gets: `{type, timestamp, data}`, compact JSON, without the null fields."""
    body: dict[str, Any] = {
        "type": message.type.value,
        "timestamp": message.occurred_at,
        "data": message.data.model_dump(exclude_none=True),
    }
    return json.dumps(body, separators=(",", ":"), sort_keys=True).encode()
