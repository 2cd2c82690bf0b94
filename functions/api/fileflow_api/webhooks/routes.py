"""/v1/webhooks: endpoints, secret rotation, delivery logs and redelivery (docs/webhooks.md). Thin: parse,
call, map."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import Body, Query, Response, status

from fileflow_api.core.params import Caller, Cursor
from fileflow_api.webhooks.model import DeliveryQuery, EndpointChanges
from fileflow_api.webhooks.params import DeliveryId, EndpointId, Webhooks, webhooks_router
from fileflow_api.webhooks.schemas import (
    CreateWebhookRequest,
    DeliveryListModel,
    DeliveryModel,
    EndpointListModel,
    EndpointModel,
    EndpointWithSecretModel,
    RedeliveryModel,
    RotateSecretRequest,
    UpdateWebhookRequest,
)
from fileflow_common.clock import utc_now
from fileflow_common.webhooks.items import DeliveryStatus

router = webhooks_router()
Limit = Annotated[int, Query(ge=1, le=100, description="at most this many deliveries")]


@router.post("", status_code=status.HTTP_201_CREATED)
def create_webhook(body: CreateWebhookRequest, user: Caller, webhooks: Webhooks) -> EndpointWithSecretModel:
    created = webhooks.create(
        user.user_id,
        url=body.url,
        events=tuple(event.value for event in body.events),
        description=body.description,
    )
    return EndpointWithSecretModel(
        **EndpointModel.fields_of(created.endpoint, now=utc_now()), secret=created.secret
    )


@router.get("")
def list_webhooks(user: Caller, webhooks: Webhooks) -> EndpointListModel:
    now = utc_now()
    return EndpointListModel(
        webhooks=[EndpointModel.of(endpoint, now=now) for endpoint in webhooks.endpoints(user.user_id)]
    )


@router.get("/{endpoint_id}")
def get_webhook(endpoint_id: EndpointId, user: Caller, webhooks: Webhooks) -> EndpointModel:
    return EndpointModel.of(webhooks.get(user.user_id, endpoint_id), now=utc_now())


@router.patch("/{endpoint_id}")
def update_webhook(
    endpoint_id: EndpointId, body: UpdateWebhookRequest, user: Caller, webhooks: Webhooks
) -> EndpointModel:
    changes = EndpointChanges(
        url=body.url,
        events=tuple(event.value for event in body.events) if body.events is not None else None,
        description=body.description,
        enabled=body.enabled,
    )
    return EndpointModel.of(webhooks.update(user.user_id, endpoint_id, changes), now=utc_now())


@router.delete("/{endpoint_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_webhook(endpoint_id: EndpointId, user: Caller, webhooks: Webhooks) -> Response:
    webhooks.delete(user.user_id, endpoint_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{endpoint_id}/rotate-secret")
def rotate_secret(
    endpoint_id: EndpointId,
    user: Caller,
    webhooks: Webhooks,
    body: Annotated[RotateSecretRequest | None, Body()] = None,
) -> EndpointWithSecretModel:
    seconds = body.overlap_seconds if body is not None else None
    rotated = webhooks.rotate_secret(
        user.user_id, endpoint_id, overlap=timedelta(seconds=seconds) if seconds is not None else None
    )
    return EndpointWithSecretModel(
        **EndpointModel.fields_of(rotated.endpoint, now=utc_now()), secret=rotated.secret
    )


@router.get("/{endpoint_id}/deliveries")
def list_deliveries(
    endpoint_id: EndpointId,
    user: Caller,
    webhooks: Webhooks,
    status_: Annotated[DeliveryStatus | None, Query(alias="status")] = None,
    limit: Limit = 25,
    cursor: Cursor = None,
) -> DeliveryListModel:
    log = webhooks.deliveries(
        user.user_id, endpoint_id, DeliveryQuery(status=status_), cursor=cursor, limit=limit
    )
    return DeliveryListModel.of(log)


@router.get("/{endpoint_id}/deliveries/{delivery_id}")
def get_delivery(
    endpoint_id: EndpointId, delivery_id: DeliveryId, user: Caller, webhooks: Webhooks
) -> DeliveryModel:
    return DeliveryModel.of(webhooks.delivery(user.user_id, endpoint_id, delivery_id))


@router.post("/{endpoint_id}/deliveries/{delivery_id}/redeliver", status_code=status.HTTP_202_ACCEPTED)
def redeliver(
    endpoint_id: EndpointId, delivery_id: DeliveryId, user: Caller, webhooks: Webhooks
) -> RedeliveryModel:
    queued = webhooks.redeliver(user.user_id, endpoint_id, delivery_id)
    return RedeliveryModel(delivery_id=queued.delivery_id, webhook_id=queued.webhook_id)
