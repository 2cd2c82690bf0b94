"""DynamoDB adapter of ReviewStore: review items (`REVIEW#{id}` / `REVIEW`) and their status index (gsi1,
`REVIEWS#{status}` / `{at}#{review_id}`; fileflow_common.reviews)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import ConditionBase, Key

from fileflow_api.core.cursors import InvalidCursorError
from fileflow_api.reviews.model import DecisionRequest, Review, ReviewPage
from fileflow_common.dynamo import from_dynamo, update_expression
from fileflow_common.reviews import (
    REVIEW_ID_PATTERN,
    REVIEWS_INDEX,
    Decision,
    ReviewStatus,
    index_attributes,
    review_item_key,
    reviews_partition,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

_DECISION_FIELDS = ("decision", "reviewer", "decided_at", "changes", "note")


def review_from_item(item: Mapping[str, Any]) -> Review:
    value = from_dynamo(dict(item))
    decision = value.get("decision")
    return Review(
        review_id=str(value["review_id"]),
        status=ReviewStatus(value["status"]),
        owner_id=str(value["owner_id"]),
        file_id=str(value["file_id"]),
        kind=value.get("kind"),
        category=str(value.get("category") or value.get("kind") or "unknown"),
        created_at=str(value["created_at"]),
        updated_at=value.get("updated_at"),
        confidence=float(value["confidence"]) if value.get("confidence") is not None else None,
        ai=value.get("ai"),
        features=value.get("features"),
        excerpt=value.get("excerpt"),
        thumbnail_key=value.get("thumbnail_key"),
        task_token=value.get("task_token"),
        escalated_at=value.get("escalated_at"),
        decision=Decision(decision) if decision else None,
        reviewer=value.get("reviewer"),
        decided_at=value.get("decided_at"),
        changes=value.get("changes"),
        note=value.get("note"),
    )


class DynamoReviewStore:
    def __init__(self, table: Table) -> None:
        self._table = table
        self._errors = table.meta.client.exceptions

    def review(self, review_id: str) -> Review | None:
        item = self._table.get_item(Key=review_item_key(review_id), ConsistentRead=True).get("Item")
        return review_from_item(item) if item else None

    def reviews(self, status: ReviewStatus, *, after: dict[str, str] | None, limit: int) -> ReviewPage:
        arguments: dict[str, Any] = {
            "IndexName": REVIEWS_INDEX,
            "KeyConditionExpression": Key("gsi1pk").eq(reviews_partition(status)),
            "Limit": limit,
        }
        if after is not None:
            arguments["ExclusiveStartKey"] = self._start_key(status, after)
        response = self._table.query(**arguments)
        last = response.get("LastEvaluatedKey")
        return ReviewPage(
            reviews=[review_from_item(item) for item in response.get("Items", [])],
            next_position={"gsi1sk": str(last["gsi1sk"])} if last else None,
        )

    def claim(self, review: Review, decision: DecisionRequest, *, reviewer: str, at: str) -> bool:
        attributes: dict[str, Any] = {
            **index_attributes(ReviewStatus.DECIDED, at, review.review_id),
            "decision": decision.decision.value,
            "reviewer": reviewer,
            "decided_at": at,
            "updated_at": at,
        }
        if decision.changes:
            attributes["changes"] = dict(decision.changes)
        if decision.note:
            attributes["note"] = decision.note
        expression, names, values = update_expression(attributes)
        names |= {"#token": "task_token", "#pk": "pk"}
        values |= {
            ":token": review.task_token,
            ":pending": ReviewStatus.PENDING.value,
            ":escalated": ReviewStatus.ESCALATED.value,
        }
        try:
            self._table.update_item(
                Key=review_item_key(review.review_id),
                UpdateExpression=expression,
                ConditionExpression=(
                    "attribute_exists(#pk) AND #status IN (:pending, :escalated) AND #token = :token"
                ),
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except self._errors.ConditionalCheckFailedException:
            return False
        return True

    def release(self, review: Review, *, reviewer: str, at: str) -> bool:
        # Back to what it was: an escalated review keeps its flag.
        previous = ReviewStatus.ESCALATED if review.escalated_at else ReviewStatus.PENDING
        attributes = {**index_attributes(previous, review.created_at, review.review_id), "updated_at": at}
        expression, names, values = update_expression(attributes, remove=_DECISION_FIELDS)
        names |= {"#token": "task_token", "#decided_at_now": "decided_at", "#who": "reviewer"}
        values |= {
            ":token": review.task_token,
            ":decided": ReviewStatus.DECIDED.value,
            ":reviewer": reviewer,
            ":claimed_at": review.decided_at,
        }
        try:
            self._table.update_item(
                Key=review_item_key(review.review_id),
                UpdateExpression=expression,
                # Only this claim: the timeout path may have taken the review over meanwhile.
                ConditionExpression=(
                    "#status = :decided AND #token = :token AND #who = :reviewer"
                    " AND #decided_at_now = :claimed_at"
                ),
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except self._errors.ConditionalCheckFailedException:
            return False
        return True

    def decided(self, *, since: str | None, limit: int) -> Iterator[Review]:
        partition = Key("gsi1pk").eq(reviews_partition(ReviewStatus.DECIDED))
        condition: ConditionBase = partition if since is None else partition & Key("gsi1sk").gte(since)
        arguments: dict[str, Any] = {"IndexName": REVIEWS_INDEX, "KeyConditionExpression": condition}
        found = 0
        while found < limit:
            response = self._table.query(**arguments, Limit=min(1000, limit - found))
            for item in response.get("Items", []):
                found += 1
                yield review_from_item(item)
            last = response.get("LastEvaluatedKey")
            if not last:
                return
            arguments["ExclusiveStartKey"] = last

    def _start_key(self, status: ReviewStatus, after: dict[str, str]) -> dict[str, Any]:
        """A page's start from its cursor position (the index's sort key names the review)."""
        sort_key = after.get("gsi1sk", "")
        review_id = sort_key.rpartition("#")[2]
        if not REVIEW_ID_PATTERN.fullmatch(review_id):
            raise InvalidCursorError("cursor is not one this API issued")
        return {
            **review_item_key(review_id),
            "gsi1pk": reviews_partition(status),
            "gsi1sk": sort_key,
        }
