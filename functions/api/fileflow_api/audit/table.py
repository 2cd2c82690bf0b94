"""DynamoDB adapter of AuditLog: the AuditTable, ``USER#{user_id}`` / ``{at}#{event_id}``, newest last.

The API's role may PutItem and Query this table, nothing else (infra/constructs/audit.py); every put is
conditional on the key being new, so an event is never overwritten. Events expire (TTL `expires_at`)
after the retention period.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any, cast

from boto3.dynamodb.conditions import Key

from fileflow_api.audit.trail import AuditAction, AuditEvent, AuditPage
from fileflow_api.core.cursors import InvalidCursorError
from fileflow_common.audit import AUDIT_PUT_CONDITION, audit_item
from fileflow_common.clock import from_timestamp
from fileflow_common.dynamo import from_dynamo
from fileflow_common.keys import validate_id
from fileflow_common.table import PARTITION_KEY, SORT_KEY, USER_PREFIX

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


def _event_from_item(item: dict[str, Any]) -> AuditEvent:
    return AuditEvent(
        event_id=str(item["event_id"]),
        user_id=str(item["user_id"]),
        action=AuditAction(item["action"]),
        resource_type=str(item["resource_type"]),
        resource_id=str(item["resource_id"]),
        at=from_timestamp(str(item["at"])),
        request_id=item.get("request_id"),
        source_ip=item.get("source_ip"),
        user_agent=item.get("user_agent"),
        details=from_dynamo(item.get("details") or {}),
    )


class DynamoAuditLog:
    def __init__(self, table: Table, *, retention: timedelta) -> None:
        self._table = table
        self._retention = retention

    def append(self, event: AuditEvent) -> None:
        self._table.put_item(
            Item=audit_item(event, retention=self._retention), ConditionExpression=AUDIT_PUT_CONDITION
        )

    def page(self, user_id: str, *, after: dict[str, str] | None, limit: int) -> AuditPage:
        partition = USER_PREFIX + validate_id(user_id, kind="user_id")
        request: dict[str, Any] = {
            "KeyConditionExpression": Key(PARTITION_KEY).eq(partition),
            "ScanIndexForward": False,
            "Limit": limit + 1,  # one more tells whether a next page exists
        }
        if after is not None:
            if after.get(PARTITION_KEY) != partition or set(after) != {PARTITION_KEY, SORT_KEY}:
                raise InvalidCursorError("cursor is not one this API issued")
            request["ExclusiveStartKey"] = after
        response = self._table.query(**request)
        items = cast(list[dict[str, Any]], response.get("Items", []))
        next_position = cast(dict[str, str] | None, response.get("LastEvaluatedKey"))
        if len(items) > limit:
            items = items[:limit]
            last = items[-1]
            next_position = {PARTITION_KEY: str(last[PARTITION_KEY]), SORT_KEY: str(last[SORT_KEY])}
        return AuditPage(events=[_event_from_item(item) for item in items], next_position=next_position)
