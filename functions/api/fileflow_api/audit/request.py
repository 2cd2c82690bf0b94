"""`Audit`: the dependency through which a route appends to the audit log, bound to its request."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request

from fileflow_api.audit.trail import AuditAction, AuditDetail, AuditTrail, RequestOrigin
from fileflow_api.auth.identity import User
from fileflow_api.dependencies import get_dependencies


def request_origin(request: Request) -> RequestOrigin:
    """Request id and source IP as API Gateway recorded them (the client's own headers are not trusted)."""
    event: dict[str, Any] = request.scope.get("aws.event") or {}
    context = event.get("requestContext") or {}
    identity = context.get("identity") or {}
    source_ip = identity.get("sourceIp") or (request.client.host if request.client else None)
    user_agent = request.headers.get("user-agent")
    return RequestOrigin(
        request_id=context.get("requestId"),
        source_ip=source_ip,
        user_agent=user_agent[:256] if user_agent else None,
    )


@dataclass(frozen=True, slots=True)
class RequestAudit:
    """The audit trail, bound to the current request's origin."""

    trail: AuditTrail
    origin: RequestOrigin

    def record(
        self,
        user: User,
        action: AuditAction,
        *,
        resource_type: str,
        resource_id: str,
        **details: AuditDetail,
    ) -> None:
        self.trail.record(
            user.user_id,
            action,
            resource_type=resource_type,
            resource_id=resource_id,
            origin=self.origin,
            details=details,
        )


def get_request_audit(request: Request) -> RequestAudit:
    return RequestAudit(trail=get_dependencies(request).audit, origin=request_origin(request))


Audit = Annotated[RequestAudit, Depends(get_request_audit)]
