"""DynamoDB adapter of the endpoints (`USER#{u}` / `WEBHOOK#{ep}`): read them, count failed deliveries,
disable one. Every update requires the item to exist: a deleted endpoint never comes back as a stub."""

from __future__ import annotations

from contextlib import suppress
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import Key

from fileflow_common.clock import to_timestamp
from fileflow_common.table import PARTITION_KEY, SORT_KEY
from fileflow_common.webhooks.items import WEBHOOK_PREFIX, EndpointStatus, endpoint_sk, user_pk
from fileflow_webhooks.model import Endpoint, Secret

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


def _moment(value: Any) -> datetime | None:
    if not value:
        return None
    moment = datetime.fromisoformat(str(value))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def endpoint_from_item(item: dict[str, Any]) -> Endpoint:
    secrets = tuple(
        Secret(
            secret=str(entry["secret"]),
            created_at=_moment(entry.get("created_at")) or datetime.min.replace(tzinfo=UTC),
            expires_at=_moment(entry.get("expires_at")),
        )
        for entry in item.get("secrets") or []
    )
    return Endpoint(
        user_id=str(item["user_id"]),
        endpoint_id=str(item["endpoint_id"]),
        url=str(item["url"]),
        events=tuple(str(event) for event in item.get("events") or ()),
        enabled=item.get("status", EndpointStatus.ENABLED) == EndpointStatus.ENABLED,
        secrets=secrets,
        created_at=str(item.get("created_at", "")),
        consecutive_failures=int(item.get("consecutive_failures") or 0),
    )


class DynamoEndpoints:
    def __init__(self, table: Table) -> None:
        self._table = table
        self._errors = table.meta.client.exceptions

    def endpoints(self, user_id: str) -> list[Endpoint]:
        found: list[Endpoint] = []
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": Key(PARTITION_KEY).eq(user_pk(user_id))
            & Key(SORT_KEY).begins_with(WEBHOOK_PREFIX),
            "ConsistentRead": True,
        }
        while True:
            page = self._table.query(**kwargs)
            found.extend(endpoint_from_item(item) for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return found
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def endpoint(self, user_id: str, endpoint_id: str) -> Endpoint | None:
        item = self._table.get_item(Key=self._key(user_id, endpoint_id), ConsistentRead=True).get("Item")
        return endpoint_from_item(item) if item else None

    def reset_failures(self, endpoint: Endpoint, at: datetime) -> None:
        with suppress(self._errors.ConditionalCheckFailedException):
            self._table.update_item(
                Key=self._key(endpoint.user_id, endpoint.endpoint_id),
                UpdateExpression="SET consecutive_failures = :zero",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={":zero": 0},
            )

    def count_failed_delivery(self, endpoint: Endpoint, at: datetime) -> int:
        try:
            response = self._table.update_item(
                Key=self._key(endpoint.user_id, endpoint.endpoint_id),
                UpdateExpression="ADD consecutive_failures :one",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={":one": 1},
                ReturnValues="UPDATED_NEW",
            )
        except self._errors.ConditionalCheckFailedException:
            return 0
        return int(response["Attributes"]["consecutive_failures"])  # type: ignore[arg-type]

    def disable(self, endpoint: Endpoint, reason: str, at: datetime) -> bool:
        try:
            self._table.update_item(
                Key=self._key(endpoint.user_id, endpoint.endpoint_id),
                UpdateExpression=(
                    "SET #status = :disabled, disabled_reason = :reason, disabled_at = :at, updated_at = :at"
                ),
                ConditionExpression="attribute_exists(pk) AND #status = :enabled",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":disabled": EndpointStatus.DISABLED.value,
                    ":enabled": EndpointStatus.ENABLED.value,
                    ":reason": reason[:500],
                    ":at": to_timestamp(at),
                },
            )
        except self._errors.ConditionalCheckFailedException:
            return False
        return True

    @staticmethod
    def _key(user_id: str, endpoint_id: str) -> dict[str, str]:
        return {PARTITION_KEY: user_pk(user_id), SORT_KEY: endpoint_sk(endpoint_id)}
