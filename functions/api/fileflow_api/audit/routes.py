"""GET /v1/audit: the caller's own audit events, newest first (`Audit`, which records them: request.py)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Security
from pydantic import BaseModel, Field

from fileflow_api.audit.trail import AuditAction, AuditEvent
from fileflow_api.auth.identity import BEARER_AUTH
from fileflow_api.core.params import Caller, Cursor
from fileflow_api.dependencies import get_dependencies

AUDIT_SCOPE = "audit"

router = APIRouter(prefix="/v1/audit", tags=["audit"], dependencies=[Security(BEARER_AUTH)])


class AuditEventModel(BaseModel):
    event_id: str
    action: AuditAction
    resource_type: str
    resource_id: str
    at: str
    request_id: str | None
    source_ip: str | None
    user_agent: str | None
    details: dict[str, Any]

    @classmethod
    def of(cls, event: AuditEvent) -> AuditEventModel:
        # The event as the log describes it; its user_id (always the caller's) is not repeated.
        return cls.model_validate(event.describe())


class AuditPageResponse(BaseModel):
    events: list[AuditEventModel]
    next_cursor: Annotated[str | None, Field(description="?cursor= of the next page; null on the last")]


@router.get("")
def list_audit_events(
    request: Request,
    user: Caller,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Cursor = None,
) -> AuditPageResponse:
    """The caller's own audit events, newest first."""
    dependencies = get_dependencies(request)
    trail, cursors = dependencies.audit, dependencies.cursors
    query: dict[str, object] = {}
    after = cursors.position(cursor, user_id=user.user_id, scope=AUDIT_SCOPE, query=query)
    page = trail.log.page(user.user_id, after=after, limit=limit)
    return AuditPageResponse(
        events=[AuditEventModel.of(event) for event in page.events],
        next_cursor=cursors.next_cursor(
            page.next_position, user_id=user.user_id, scope=AUDIT_SCOPE, query=query
        ),
    )
