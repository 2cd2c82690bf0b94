"""What the /v1/webhooks routes take and answer (docs/webhooks.md). A secret appears in two answers only:
the create's and the rotation's (`EndpointWithSecretModel`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from fileflow_api.webhooks.model import (
    Delivery,
    DeliveryAttempt,
    DeliveryLog,
    Endpoint,
    FileDelivery,
)
from fileflow_api.webhooks.policy import MAX_DESCRIPTION, MAX_ROTATION_OVERLAP_SECONDS
from fileflow_common.webhooks.events import EventType
from fileflow_common.webhooks.targets import MAX_URL_LENGTH


def _unique(events: list[EventType]) -> list[EventType]:
    if len(set(events)) != len(events):
        raise ValueError("each event type at most once")
    return events


Url = Annotated[
    str, Field(min_length=1, max_length=MAX_URL_LENGTH, examples=["https://hooks.example.com/fileflow"])
]
Events = Annotated[
    list[EventType],
    Field(min_length=1, max_length=len(EventType), description="the event types sent to the endpoint"),
    AfterValidator(_unique),
]
Description = Annotated[str, Field(max_length=MAX_DESCRIPTION)]

# --- requests -----------------------------------------------------------------------------------------------


class CreateWebhookRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Url
    events: Events
    description: Description = ""


class UpdateWebhookRequest(BaseModel):
    """Only the fields given change. `enabled: true` re-enables a disabled endpoint (its reason and its
    failure count are cleared); `enabled: false` stops deliveries to it."""

    model_config = ConfigDict(extra="forbid")

    url: Url | None = None
    events: Events | None = None
    description: Description | None = None
    enabled: bool | None = None

    @model_validator(mode="after")
    def _something(self) -> UpdateWebhookRequest:
        if all(value is None for value in (self.url, self.events, self.description, self.enabled)):
            raise ValueError("give at least one of url, events, description, enabled")
        return self


class RotateSecretRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    overlap_seconds: Annotated[
        int | None,
        Field(
            ge=0,
            le=MAX_ROTATION_OVERLAP_SECONDS,
            description="how long the old secret still signs deliveries (default: the deployment's, 1 day)",
        ),
    ] = None


# --- answers ------------------------------------------------------------------------------------------------


class SecretInfoModel(BaseModel):
    """A secret's dates, never its value."""

    created_at: str
    expires_at: Annotated[str | None, Field(description="null: the current secret")]


class EndpointModel(BaseModel):
    endpoint_id: str
    url: str
    events: list[str]
    description: str
    status: Annotated[str, Field(description="enabled or disabled")]
    disabled_reason: Annotated[str | None, Field(description="why it was disabled (410, repeated failures)")]
    disabled_at: str | None
    consecutive_failures: int
    secrets: Annotated[list[SecretInfoModel], Field(description="the secrets that sign deliveries now")]
    created_at: str
    updated_at: str

    @classmethod
    def fields_of(cls, endpoint: Endpoint, *, now: datetime) -> dict[str, Any]:
        return {
            "endpoint_id": endpoint.endpoint_id,
            "url": endpoint.url,
            "events": list(endpoint.events),
            "description": endpoint.description,
            "status": endpoint.status.value,
            "disabled_reason": endpoint.disabled_reason,
            "disabled_at": endpoint.disabled_at,
            "consecutive_failures": endpoint.consecutive_failures,
            "secrets": [
                SecretInfoModel(created_at=secret.created_at, expires_at=secret.expires_at)
                for secret in endpoint.secrets
                if secret.live(now)
            ],
            "created_at": endpoint.created_at,
            "updated_at": endpoint.updated_at,
        }

    @classmethod
    def of(cls, endpoint: Endpoint, *, now: datetime) -> EndpointModel:
        return cls(**cls.fields_of(endpoint, now=now))


class EndpointWithSecretModel(EndpointModel):
    secret: Annotated[
        str, Field(description="whsec_...: shown this once; verify deliveries with it (Standard Webhooks)")
    ]


class EndpointListModel(BaseModel):
    webhooks: Annotated[
        list[EndpointModel], Field(description="oldest first (the first enabled one is the default)")
    ]


class AttemptModel(BaseModel):
    attempt: int
    at: str | None
    status_code: Annotated[int | None, Field(description="the receiver's answer; null when none came")]
    duration_ms: int | None
    error: str | None
    next_attempt_at: str | None

    @classmethod
    def of(cls, attempt: DeliveryAttempt) -> AttemptModel:
        return cls(
            attempt=attempt.attempt,
            at=attempt.at,
            status_code=attempt.status_code,
            duration_ms=attempt.duration_ms,
            error=attempt.error,
            next_attempt_at=attempt.next_attempt_at,
        )


class DeliverySummaryModel(BaseModel):
    delivery_id: str
    webhook_id: Annotated[str, Field(description="the webhook-id header: the same on every attempt")]
    endpoint_id: str
    event_id: str | None
    event_type: str | None
    file_id: str | None
    status: Annotated[str, Field(description="pending, retrying, succeeded or failed")]
    attempt_count: int
    last_status_code: int | None
    target_url: Annotated[str | None, Field(description="an upload's callback_url; null: the endpoint's url")]
    created_at: str | None
    updated_at: str | None
    next_attempt_at: str | None

    @classmethod
    def fields_of(cls, delivery: Delivery) -> dict[str, Any]:
        last = delivery.attempts[-1] if delivery.attempts else None
        return {
            "delivery_id": delivery.delivery_id,
            "webhook_id": delivery.webhook_id,
            "endpoint_id": delivery.endpoint_id,
            "event_id": delivery.event_id,
            "event_type": delivery.event_type,
            "file_id": delivery.file_id,
            "status": delivery.status,
            "attempt_count": len(delivery.attempts),
            "last_status_code": last.status_code if last else None,
            "target_url": delivery.target_url,
            "created_at": delivery.created_at,
            "updated_at": delivery.updated_at,
            "next_attempt_at": delivery.next_attempt_at,
        }

    @classmethod
    def of(cls, delivery: Delivery) -> DeliverySummaryModel:
        return cls(**cls.fields_of(delivery))


class DeliveryModel(DeliverySummaryModel):
    attempts: Annotated[list[AttemptModel], Field(description="oldest first")]
    payload: Annotated[dict[str, Any] | None, Field(description="the body sent: {type, timestamp, data}")]

    @classmethod
    def of(cls, delivery: Delivery) -> DeliveryModel:
        return cls(
            **DeliverySummaryModel.fields_of(delivery),
            attempts=[AttemptModel.of(attempt) for attempt in delivery.attempts],
            payload=dict(delivery.payload) if delivery.payload is not None else None,
        )


class DeliveryListModel(BaseModel):
    deliveries: Annotated[list[DeliverySummaryModel], Field(description="newest first")]
    next_cursor: Annotated[
        str | None,
        Field(
            description="?cursor= of the next page (same filter); null on the last. A filtered page may "
            "hold fewer deliveries than `limit` while a cursor follows."
        ),
    ]

    @classmethod
    def of(cls, log: DeliveryLog) -> DeliveryListModel:
        return cls(
            deliveries=[DeliverySummaryModel.of(delivery) for delivery in log.deliveries],
            next_cursor=log.next_cursor,
        )


class RedeliveryModel(BaseModel):
    delivery_id: str
    webhook_id: Annotated[str, Field(description="the receiver sees this webhook-id again")]
    status: Annotated[str, Field(description="queued: the sender attempts it shortly")] = "queued"


class FileDeliveryModel(BaseModel):
    """A file's delivery on GET /v1/files/{id}; GET /v1/webhooks/{endpoint_id}/deliveries/{delivery_id}
    has its attempts and payload."""

    delivery_id: str
    endpoint_id: str
    event_type: str | None
    status: str
    attempt_count: int
    last_status_code: int | None
    updated_at: str | None

    @classmethod
    def of(cls, delivery: FileDelivery) -> FileDeliveryModel:
        return cls(
            delivery_id=delivery.delivery_id,
            endpoint_id=delivery.endpoint_id,
            event_type=delivery.event_type,
            status=delivery.status,
            attempt_count=delivery.attempt_count,
            last_status_code=delivery.last_status_code,
            updated_at=delivery.updated_at,
        )
