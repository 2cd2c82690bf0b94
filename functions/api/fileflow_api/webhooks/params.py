"""What every /v1/webhooks/... route shares: its router, the ids in its path, the service."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Security

from fileflow_api.auth.identity import BEARER_AUTH
from fileflow_api.dependencies import get_dependencies
from fileflow_api.webhooks.service import WebhookService

EndpointId = Annotated[str, Path(max_length=64, description="the endpoint_id (ep_...)")]
DeliveryId = Annotated[str, Path(max_length=64, description="the delivery_id")]


def webhooks_router() -> APIRouter:
    """A router of /v1/webhooks/... routes: tagged "webhooks", bearer-authenticated."""
    return APIRouter(prefix="/v1/webhooks", tags=["webhooks"], dependencies=[Security(BEARER_AUTH)])


def get_webhook_service(request: Request) -> WebhookService:
    return get_dependencies(request).webhooks


Webhooks = Annotated[WebhookService, Depends(get_webhook_service)]
