"""The audit log: who did what, to which resource, when, from where. Append-only; no AWS code here.

Every mutating API action that succeeded appends one event (the routes call `RequestAudit.record`).
The log is its own DynamoDB table that the API may only append to and query (IAM: PutItem and Query,
no UpdateItem or DeleteItem), so no code path of the API can rewrite history; events expire through the
table's TTL after the retention period. A failed append never fails the user's request: the event is
logged in full at ERROR level (the function's log is the fallback trail) and counted (AuditWriteFailed).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from aws_lambda_powertools.metrics import MetricUnit

from fileflow_common.clock import to_timestamp, utc_now
from fileflow_common.observability import logger, metrics

type AuditDetail = str | int | bool | list[str] | None


class AuditAction(StrEnum):
    UPLOAD_INITIATED = "upload.initiated"
    UPLOAD_COMPLETED = "upload.completed"
    UPLOAD_ABORTED = "upload.aborted"
    UPLOAD_TOKEN_MINTED = "upload_token.minted"  # noqa: S105 - an action name, not a secret
    FILE_TAGS_CHANGED = "file.tags_changed"
    FILE_DELETED = "file.deleted"


@dataclass(frozen=True, slots=True)
class AuditEvent:
    event_id: str
    user_id: str  # who: the authenticated caller (the actor and the owner: users act on their own resources)
    action: AuditAction
    resource_type: str  # "upload", "file", "upload_token"
    resource_id: str
    at: datetime
    request_id: str | None
    source_ip: str | None
    user_agent: str | None = None
    details: Mapping[str, AuditDetail] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "user_id": self.user_id,
            "action": self.action.value,
            "resource_type": self.resource_type,
            "resource_id": self.resource_id,
            "at": to_timestamp(self.at),
            "request_id": self.request_id,
            "source_ip": self.source_ip,
            "user_agent": self.user_agent,
            "details": dict(self.details),
        }


@dataclass(frozen=True, slots=True)
class AuditPage:
    events: list[AuditEvent]
    next_position: dict[str, str] | None


class AuditLog(Protocol):
    def append(self, event: AuditEvent) -> None:
        """Store the event; never overwrite one."""
        ...

    def page(self, user_id: str, *, after: dict[str, str] | None, limit: int) -> AuditPage:
        """The user's events, newest first."""
        ...


@dataclass(frozen=True, slots=True)
class RequestOrigin:
    """Where a request came from, as API Gateway saw it."""

    request_id: str | None = None
    source_ip: str | None = None
    user_agent: str | None = None


def new_event_id() -> str:
    return uuid.uuid4().hex


class AuditTrail:
    """Builds events (time, id) and appends them; a storage failure is logged, never raised."""

    def __init__(
        self,
        log: AuditLog,
        *,
        clock: Callable[[], datetime] = utc_now,
        ids: Callable[[], str] = new_event_id,
    ) -> None:
        self._log = log
        self._clock = clock
        self._ids = ids

    @property
    def log(self) -> AuditLog:
        return self._log

    def record(
        self,
        user_id: str,
        action: AuditAction,
        *,
        resource_type: str,
        resource_id: str,
        origin: RequestOrigin,
        details: Mapping[str, AuditDetail] | None = None,
    ) -> AuditEvent:
        event = AuditEvent(
            event_id=self._ids(),
            user_id=user_id,
            action=action,
            resource_type=resource_type,
            resource_id=resource_id,
            at=self._clock(),
            request_id=origin.request_id,
            source_ip=origin.source_ip,
            user_agent=origin.user_agent,
            details={name: value for name, value in (details or {}).items() if value is not None},
        )
        try:
            self._log.append(event)
        except Exception:
            # The action happened: say so where operators look, rather than failing a finished request.
            logger.exception("audit event not stored", extra={"audit_event": event.describe()})
            metrics.add_metric(name="AuditWriteFailed", unit=MetricUnit.Count, value=1)
        return event
