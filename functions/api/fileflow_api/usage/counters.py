"""DynamoDB adapters of the WindowCounter (rate limits) and UsageCounters (quotas) interfaces.

Both live in the metadata table, in the user's partition: ``USER#{id}`` / ``RATE#{window start}`` and
``USER#{id}`` / ``USAGE``. Every check-and-count is one conditional UpdateItem, so concurrent requests
(many Lambda environments) can never count past a limit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from fileflow_api.usage.quotas import Quota, Usage
from fileflow_common.dynamo import is_condition_failure
from fileflow_common.observability import logger
from fileflow_common.table import rate_window_item_key, usage_item_key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

# The metadata table's TTL attribute (infra/constructs/metadata.py): epoch seconds.
TTL_ATTRIBUTE = "expires_at"
_CLAMP_ATTEMPTS = 3


class DynamoWindowCounter:
    def __init__(self, table: Table) -> None:
        self._table = table

    def increment(self, user_id: str, *, window_start: int, limit: int, expires_at: int) -> bool:
        try:
            self._table.update_item(
                Key=rate_window_item_key(user_id, window_start),
                UpdateExpression="ADD #count :one SET #entity = :entity, #ttl = :ttl",
                ConditionExpression="attribute_not_exists(#count) OR #count < :limit",
                ExpressionAttributeNames={
                    "#count": "request_count",
                    "#entity": "entity",
                    "#ttl": TTL_ATTRIBUTE,
                },
                ExpressionAttributeValues={
                    ":one": 1,
                    ":limit": limit,
                    ":entity": "rate_window",
                    ":ttl": expires_at,
                },
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                return False
            raise
        return True


class DynamoUsageCounters:
    def __init__(self, table: Table) -> None:
        self._table = table

    def add_within(self, user_id: str, *, size: int, files: int, quota: Quota) -> bool:
        try:
            self._table.update_item(
                Key=usage_item_key(user_id),
                UpdateExpression="ADD #bytes :size, #files :files SET #entity = :entity",
                # Checked against the values before the ADD: old + added <= max.
                ConditionExpression=(
                    "(attribute_not_exists(#bytes) OR #bytes <= :bytes_room)"
                    " AND (attribute_not_exists(#files) OR #files <= :files_room)"
                ),
                ExpressionAttributeNames={"#bytes": "bytes", "#files": "files", "#entity": "entity"},
                ExpressionAttributeValues={
                    ":size": size,
                    ":files": files,
                    ":bytes_room": quota.max_bytes - size,
                    ":files_room": quota.max_files - files,
                    ":entity": "usage",
                },
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                return False
            raise
        return True

    def subtract(self, user_id: str, *, size: int, files: int) -> None:
        try:
            self._table.update_item(
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
        except ClientError as exc:
            if not is_condition_failure(exc):
                raise
            self._clamp_to_zero(user_id, size=size, files=files)

    def _clamp_to_zero(self, user_id: str, *, size: int, files: int) -> None:
        """The counters hold less than what is given back (they drifted): subtract what is there."""
        logger.warning("usage counters below a release; clamped at zero", extra={"user_id": user_id})
        for _ in range(_CLAMP_ATTEMPTS):
            usage = self.get(user_id)
            try:
                self._table.update_item(
                    Key=usage_item_key(user_id),
                    UpdateExpression="SET #bytes = :new_bytes, #files = :new_files, #entity = :entity",
                    ConditionExpression=(
                        "(attribute_not_exists(#bytes) OR #bytes = :old_bytes)"
                        " AND (attribute_not_exists(#files) OR #files = :old_files)"
                    ),
                    ExpressionAttributeNames={"#bytes": "bytes", "#files": "files", "#entity": "entity"},
                    ExpressionAttributeValues={
                        ":new_bytes": max(0, usage.bytes - size),
                        ":new_files": max(0, usage.files - files),
                        ":old_bytes": usage.bytes,
                        ":old_files": usage.files,
                        ":entity": "usage",
                    },
                )
            except ClientError as exc:
                if is_condition_failure(exc):
                    continue  # changed meanwhile: read again
                raise
            return
        raise RuntimeError(f"usage counters of {user_id} kept changing; release not recorded")

    def get(self, user_id: str) -> Usage:
        item = self._table.get_item(Key=usage_item_key(user_id), ConsistentRead=True).get("Item") or {}
        return Usage(bytes=int(str(item.get("bytes", 0))), files=int(str(item.get("files", 0))))
