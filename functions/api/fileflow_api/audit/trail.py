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
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from aws_lambda_powertools.metrics import MetricUnit

# The event and its actions are shared with the starter, which records the objects it refuses.
from fileflow_common.audit import AuditAction as AuditAction
from fileflow_common.audit import AuditDetail as AuditDetail
from fileflow_common.audit import AuditEvent as AuditEvent
from fileflow_common.clock import utc_now
from fileflow_common.observability import logger, metrics


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
        _count(event)
        try:
            self._log.append(event)
        except Exception:
            # The action happened: say so where operators look, rather than failing a finished request.
            logger.exception("audit event not stored", extra={"audit_event": event.describe()})
            metrics.add_metric(name="AuditWriteFailed", unit=MetricUnit.Count, value=1)
        return event


# What operators count of the API's trail: uploads started, completed (and their bytes), aborted; deletes.
ACTION_METRICS: Mapping[AuditAction, str] = {
    AuditAction.UPLOAD_INITIATED: "UploadsStarted",
    AuditAction.UPLOAD_COMPLETED: "UploadsCompleted",
    AuditAction.UPLOAD_ABORTED: "UploadsAborted",
    AuditAction.FILE_DELETED: "FilesDeleted",
}


def _count(event: AuditEvent) -> None:
    name = ACTION_METRICS.get(event.action)
    if name is None:
        return
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
    size = event.details.get("size")
    if event.action is AuditAction.UPLOAD_COMPLETED and isinstance(size, int) and not isinstance(size, bool):
        metrics.add_metric(name="UploadedBytes", unit=MetricUnit.Bytes, value=size)
