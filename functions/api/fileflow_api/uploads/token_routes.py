"""POST /v1/upload-tokens: a short-lived token scoped to uploads, for Uppy's /uppy/{token} routes."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Security, status
from pydantic import BaseModel

from fileflow_api.audit.request import Audit
from fileflow_api.audit.trail import AuditAction
from fileflow_api.auth.identity import BEARER_AUTH
from fileflow_api.core.params import Caller
from fileflow_api.core.public_url import api_base_url
from fileflow_api.dependencies import ApiDependencies, get_dependencies
from fileflow_common.clock import to_timestamp

# Minting needs the caller's access token, as every /v1 route does.
router = APIRouter(tags=["uploads"], dependencies=[Security(BEARER_AUTH)])


class UploadTokenResponse(BaseModel):
    token: str
    expires_at: str
    uppy_endpoint: str


@router.post("/v1/upload-tokens", status_code=status.HTTP_201_CREATED)
def create_upload_token(
    request: Request,
    user: Caller,
    dependencies: Annotated[ApiDependencies, Depends(get_dependencies)],
    audit: Audit,
) -> UploadTokenResponse:
    minted = dependencies.access.upload_tokens.issue(user.user_id)
    # The token itself is a credential: the event names it by its expiry, never by its value.
    audit.record(
        user,
        AuditAction.UPLOAD_TOKEN_MINTED,
        resource_type="upload_token",
        resource_id=to_timestamp(minted.expires_at),
    )
    base_url = api_base_url(request.scope.get("aws.event") or {}, local_endpoint=dependencies.local_endpoint)
    return UploadTokenResponse(
        token=minted.token,
        expires_at=to_timestamp(minted.expires_at),
        uppy_endpoint=f"{base_url}/uppy/{minted.token}",
    )
