"""The review queue's backlog: how many reviews wait for a reviewer, and how long the oldest has waited.

The sweeper measures it on each run and emits it as the `ReviewBacklog` and `ReviewOldestAge` metrics
(the dashboard's review backlog, the stuck-review alarm: docs/runbooks/stuck-review.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from fileflow_common.clock import from_timestamp
from fileflow_common.reviews import REVIEWS_INDEX, ReviewStatus, reviews_partition

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

OPEN_STATUSES = tuple(status for status in ReviewStatus if status.open)


@dataclass(frozen=True)
class Backlog:
    open: int  # pending and escalated reviews
    oldest_age_seconds: float  # of the oldest open review; 0 when none is open


class DynamoReviewBacklog:
    """Counts each open status's gsi1 partition (COUNT queries, paged) and reads its oldest item."""

    def __init__(self, table: Table) -> None:
        self._table = table
        self._client = table.meta.client

    def measure(self, now: datetime) -> Backlog:
        count, oldest = 0, None
        for status in OPEN_STATUSES:
            count += self._count(status)
            created = self._oldest_created(status)
            if created is not None and (oldest is None or created < oldest):
                oldest = created
        age = max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
        return Backlog(open=count, oldest_age_seconds=round(age, 1))

    def _query(self, status: ReviewStatus) -> dict[str, Any]:
        return {
            "TableName": self._table.name,
            "IndexName": REVIEWS_INDEX,
            "KeyConditionExpression": "gsi1pk = :partition",
            # The resource's client: its values and items are plain Python (boto3's resource serializes).
            "ExpressionAttributeValues": {":partition": reviews_partition(status)},
        }

    def _count(self, status: ReviewStatus) -> int:
        pages = self._client.get_paginator("query").paginate(**self._query(status), Select="COUNT")
        return sum(page["Count"] for page in pages)

    def _oldest_created(self, status: ReviewStatus) -> datetime | None:
        # gsi1sk starts with the time the review entered its status: the first item has waited longest
        # (an escalated review's created_at is older still, by the same timeout for every review).
        answer = self._client.query(
            **self._query(status),
            ScanIndexForward=True,
            Limit=1,
            ProjectionExpression="created_at",
        )
        items = answer.get("Items") or []
        created = items[0].get("created_at") if items else None
        return from_timestamp(created) if isinstance(created, str) else None
