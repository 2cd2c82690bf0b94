"""DynamoDB adapters of the WindowCounter (rate limits) and UsageCounters (quotas) interfaces.

Both live in the metadata table, in the user's partition: ``USER#{id}`` / ``RATE#{window start}`` and
``USER#{id}`` / ``USAGE``. Every check-and-count is one conditional UpdateItem, so concurrent requests
(many Lambda environments) can never count past a limit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fileflow_api.usage.quotas import Quota, Usage
from fileflow_common.observability import logger
from fileflow_common.table import rate_window_item_key, usage_item_key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

# The metadata table's TTL attribute (infra/constructs/metadata.py): epoch seconds.
TTL_ATTRIBUTE = "expires_at"
_CLAMP_ATTEMPTS = 3
_USAGE_NAMES = {"#bytes": "bytes", "#files": "files", "#entity": "entity"}


def _update_within(table: Table, **request: Any) -> bool:
    """One conditional UpdateItem; False when its ConditionExpression refused it (a limit reached)."""
    try:
        table.update_item(**request)
    except table.meta.client.exceptions.ConditionalCheckFailedException:
        return False
    return True


class DynamoWindowCounter:
    def __init__(self, table: Table) -> None:
        self._table = table

    def increment(self, user_id: str, *, window_start: int, limit: int, expires_at: int) -> bool:
        return _update_within(
            self._table,
            Key=rate_window_item_key(user_id, window_start),
            UpdateExpression="ADD #count :one SET #entity = :entity, #ttl = :ttl",
            ConditionExpression="attribute_not_exists(#count) OR #count < :limit",
            ExpressionAttributeNames={"#count": "request_count", "#entity": "entity", "#ttl": TTL_ATTRIBUTE},
            ExpressionAttributeValues={
                ":one": 1,
                ":limit": limit,
                ":entity": "rate_window",
                ":ttl": expires_at,
            },
        )


class DynamoUsageCounters:
    def __init__(self, table: Table) -> None:
        self._table = table

    def add_within(self, user_id: str, *, size: int, files: int, quota: Quota) -> bool:
        return _update_within(
            self._table,
            Key=usage_item_key(user_id),
            UpdateExpression="ADD #bytes :size, #files :files SET #entity = :entity",
            # Checked against the values before the ADD: old + added <= max.
            ConditionExpression=(
                "(attribute_not_exists(#bytes) OR #bytes <= :bytes_room)"
                " AND (attribute_not_exists(#files) OR #files <= :files_room)"
            ),
            ExpressionAttributeNames=_USAGE_NAMES,
            ExpressionAttributeValues={
                ":size": size,
                ":files": files,
                ":bytes_room": quota.max_bytes - size,
                ":files_room": quota.max_files - files,
                ":entity": "usage",
            },
        )

    def subtract(self, user_id: str, *, size: int, files: int) -> None:
        subtracted = _update_within(
            self._table,
            Key=usage_item_key(user_id),
            UpdateExpression="ADD #bytes :minus_size, #files :minus_files",
            ConditionExpression="#bytes >= :size AND #files >= :files",
            ExpressionAttributeNames={"#bytes": "bytes", "#files": "files"},
            ExpressionAttributeValues={
                ":minus_size": -size,
                ":minus_files": -files,
                ":size": size,
                ":files": files,
            },
        )
        if not subtracted:
            self._clamp_to_zero(user_id, size=size, files=files)

    def _clamp_to_zero(self, user_id: str, *, size: int, files: int) -> None:
        """The counters hold less than what is given back (they drifted): subtract what is there."""
        logger.warning("usage counters below a release; clamped at zero", extra={"user_id": user_id})
        for _ in range(_CLAMP_ATTEMPTS):
            usage = self.get(user_id)
            if _update_within(
                self._table,
                Key=usage_item_key(user_id),
                UpdateExpression="SET #bytes = :new_bytes, #files = :new_files, #entity = :entity",
                ConditionExpression=(
                    "(attribute_not_exists(#bytes) OR #bytes = :old_bytes)"
                    " AND (attribute_not_exists(#files) OR #files = :old_files)"
                ),
                ExpressionAttributeNames=_USAGE_NAMES,
                ExpressionAttributeValues={
                    ":new_bytes": max(0, usage.bytes - size),
                    ":new_files": max(0, usage.files - files),
                    ":old_bytes": usage.bytes,
                    ":old_files": usage.files,
                    ":entity": "usage",
                },
            ):
                return
            # else changed meanwhile: read again
        raise RuntimeError(f"usage counters of {user_id} kept changing; release not recorded")

    def get(self, user_id: str) -> Usage:
        item = self._table.get_item(Key=usage_item_key(user_id), ConsistentRead=True).get("Item") or {}
        return Usage(bytes=int(str(item.get("bytes", 0))), files=int(str(item.get("files", 0))))
