"""DynamoDB adapter of EventLog: a file's workflow events, ``FILE#{file_id}`` / ``EVENT#{cursor}``.

One Query of the file's partition, strongly consistent, in cursor (= time) order. "Newer than `after`" is
``sk BETWEEN EVENT#{after} AND EVENT#~`` ('~' sorts after every cursor character, so the range stays
below the partition's JOB# items), the `after` event itself dropped from the answer.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import ConditionBase, Key

from fileflow_common.dynamo import from_dynamo
from fileflow_common.observability import logger
from fileflow_common.pipeline import EVENT_PREFIX, StageEvent, event_from_item
from fileflow_common.table import FILE_PREFIX, PARTITION_KEY, SORT_KEY

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

_AFTER_EVERY_CURSOR = "~"


class DynamoEventLog:
    def __init__(self, table: Table) -> None:
        self._table = table

    def events_after(self, file_id: str, after: str | None, *, limit: int) -> list[StageEvent]:
        partition = Key(PARTITION_KEY).eq(FILE_PREFIX + file_id)
        key: ConditionBase
        if after is None:
            key, wanted = partition & Key(SORT_KEY).begins_with(EVENT_PREFIX), limit
        else:
            bounds = (EVENT_PREFIX + after, EVENT_PREFIX + _AFTER_EVERY_CURSOR)
            key, wanted = partition & Key(SORT_KEY).between(*bounds), limit + 1
        # The resource's client takes the key condition and answers plain values, as the Table does.
        pages = self._table.meta.client.get_paginator("query").paginate(
            TableName=self._table.name,
            KeyConditionExpression=key,  # type: ignore[arg-type]
            ConsistentRead=True,
            PaginationConfig={"MaxItems": wanted, "PageSize": wanted},
        )
        items: list[dict[str, Any]] = [item for page in pages for item in page.get("Items", [])]
        skipped = EVENT_PREFIX + after if after is not None else None
        events = [_event(item) for item in items if item[SORT_KEY] != skipped]
        return [event for event in events if event is not None][:limit]


def _event(item: dict[str, Any]) -> StageEvent | None:
    try:
        event = event_from_item(item)
    except (KeyError, ValueError):
        # A record this code cannot read (a newer stage's, a broken one) is skipped, never a 500.
        logger.warning("unreadable event item skipped", extra={"sk": str(item.get(SORT_KEY))})
        return None
    return replace(event, detail=from_dynamo(event.detail))  # DynamoDB's Decimals as JSON numbers
