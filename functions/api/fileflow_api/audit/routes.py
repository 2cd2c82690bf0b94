"""GET /v1/audit (the caller's own audit events), and `Audit`, the dependency routes record events with."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Security
from pydantic import BaseModel, Field

from fileflow_api.audit.trail import AuditAction, AuditTrail
from fileflow_api.auth.identity import BEARER_AUTH, User, current_user
from fileflow_api.core.cursors import MAX_CURSOR_LENGTH, CursorCodec
from fileflow_api.dependencies import get_dependencies
from fileflow_common.clock import to_timestamp

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


class AuditPageResponse(BaseModel):
    events: list[AuditEventModel]
    next_cursor: Annotated[str | None, Field(description="?cursor= of the next page; null on the last")]


def _services(request: Request) -> tuple[AuditTrail, CursorCodec]:
    dependencies = get_dependencies(request)
    if dependencies.audit is None or dependencies.cursors is None:
        raise RuntimeError("the audit log is not configured: ApiDependencies.audit is None")
    return dependencies.audit, dependencies.cursors


@router.get("")
def list_audit_events(
    request: Request,
    user: Annotated[User, Depends(current_user)],
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[
        str | None, Query(max_length=MAX_CURSOR_LENGTH, description="next_cursor of the previous page")
    ] = None,
) -> AuditPageResponse:
    """The caller's own audit events, newest first."""
    trail, cursors = _services(request)
    query: dict[str, object] = {}
    after = None
    if cursor is not None:
        after = cursors.decode(cursor, user_id=user.user_id, scope=AUDIT_SCOPE, query=query)
    page = trail.log.page(user.user_id, after=after, limit=limit)
    next_cursor = None
    if page.next_position is not None:
        next_cursor = cursors.encode(page.next_position, user_id=user.user_id, scope=AUDIT_SCOPE, query=query)
    return AuditPageResponse(
        events=[
            AuditEventModel(
                event_id=event.event_id,
                action=event.action,
                resource_type=event.resource_type,
                resource_id=event.resource_id,
                at=to_timestamp(event.at),
                request_id=event.request_id,
                source_ip=event.source_ip,
                user_agent=event.user_agent,
                details=dict(event.details),
            )
            for event in page.events
        ],
        next_cursor=next_cursor,
    )
