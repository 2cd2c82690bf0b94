"""DynamoDB adapter of AiUsageReader: the items the AI stage counts (fileflow_common.table's keys)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import Key

from fileflow_api.usage.service import AiDay
from fileflow_common.table import (
    AI_USAGE_COUNTERS,
    AI_USAGE_DAY_PREFIX,
    PARTITION_KEY,
    SORT_KEY,
    ai_budget_key,
    ai_usage_day_key,
    ai_usage_month_key,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


def _int(value: Any) -> int:
    return int(value) if isinstance(value, int | Decimal) else 0


class DynamoAiUsageReader:
    def __init__(self, table: Table) -> None:
        self._table = table

    def days(self, user_id: str, first: str, last: str) -> list[AiDay]:
        partition = ai_usage_day_key(user_id, first)[PARTITION_KEY]
        query: dict[str, Any] = {
            "KeyConditionExpression": Key(PARTITION_KEY).eq(partition)
            & Key(SORT_KEY).between(AI_USAGE_DAY_PREFIX + first, AI_USAGE_DAY_PREFIX + last),
            "ConsistentRead": True,
        }
        found: list[AiDay] = []
        while True:
            page = self._table.query(**query)
            for item in page.get("Items", []):
                day = str(item[SORT_KEY]).removeprefix(AI_USAGE_DAY_PREFIX)
                found.append(AiDay(day, {name: _int(item.get(name)) for name in AI_USAGE_COUNTERS}))
            if "LastEvaluatedKey" not in page:
                return found
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def daily_budget_override(self, user_id: str) -> int | None:
        item = self._table.get_item(Key=ai_budget_key(user_id), ConsistentRead=True).get("Item")
        value = item.get("daily_budget_micro_usd") if item else None
        return int(value) if isinstance(value, int | Decimal) else None

    def global_month_spent(self, month: str) -> int:
        item = self._table.get_item(Key=ai_usage_month_key(month), ConsistentRead=True).get("Item")
        return _int((item or {}).get("cost_micro_usd"))
