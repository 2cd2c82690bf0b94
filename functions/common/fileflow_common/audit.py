"""The audit log's events and items, shared by the API (which records requests) and the starter (which
records the objects it refuses). AuditTable: ``USER#{user_id}`` / ``{at}#{event_id}``, newest last;
every put is conditional on the key being new, so an event is never overwritten. No boto3 here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from fileflow_common.clock import to_timestamp
from fileflow_common.keys import validate_id
from fileflow_common.table import PARTITION_KEY, SORT_KEY, USER_PREFIX

type AuditDetail = str | int | bool | list[str] | None

AUDIT_TTL_ATTRIBUTE = "expires_at"
# How long events are kept unless a function's settings say otherwise.
AUDIT_RETENTION_DAYS = 400
# Puts of audit items: a new key only.
AUDIT_PUT_CONDITION = f"attribute_not_exists({PARTITION_KEY})"


class AuditAction(StrEnum):
    UPLOAD_INITIATED = "upload.initiated"
    UPLOAD_COMPLETED = "upload.completed"
    UPLOAD_ABORTED = "upload.aborted"
    # The starter deleted an object version that no completed or live upload accounts for.
    UPLOAD_OBJECT_REFUSED = "upload.object_refused"
    UPLOAD_TOKEN_MINTED = "upload_token.minted"  # noqa: S105 - an action name, not a secret
    FILE_TAGS_CHANGED = "file.tags_changed"
    FILE_DELETED = "file.deleted"
    REVIEW_DECIDED = "review.decided"


@dataclass(frozen=True, slots=True)
class AuditEvent:
    event_id: str
    user_id: str  # whose trail: the caller (users act on their own resources), or the object's owner
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


def audit_item_key(event: AuditEvent) -> dict[str, str]:
    return {
        PARTITION_KEY: USER_PREFIX + validate_id(event.user_id, kind="user_id"),
        SORT_KEY: f"{to_timestamp(event.at)}#{event.event_id}",
    }


def audit_item(event: AuditEvent, *, retention: timedelta) -> dict[str, Any]:
    """The AuditTable item of `event`, expiring (TTL) after `retention`; put it with AUDIT_PUT_CONDITION."""
    described = {name: value for name, value in event.describe().items() if value is not None}
    return {
        **audit_item_key(event),
        **described,
        AUDIT_TTL_ATTRIBUTE: int((event.at + retention).timestamp()),
    }
