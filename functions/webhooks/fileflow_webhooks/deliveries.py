"""DynamoDB adapter of the deliveries: created with their fan-out guard and file pointer in one
transaction, and each attempt appended only while the delivery holds the attempts it was read with."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from fileflow_common.clock import to_timestamp
from fileflow_common.dynamo import failed_conditions, from_dynamo, to_dynamo
from fileflow_common.pipeline import StageEvent, event_item
from fileflow_common.table import PARTITION_KEY, SORT_KEY
from fileflow_common.webhooks.items import DeliveryStatus, delivery_sk, file_delivery_sk, file_pk, user_pk
from fileflow_webhooks.model import AttemptRecord, Delivery

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

# The metadata table's TTL attribute (infra/constructs/metadata.py), in epoch seconds.
TTL_ATTRIBUTE = "expires_at"
DELIVERY_RETENTION = timedelta(days=30)
GUARD_RETENTION = timedelta(days=14)


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def delivery_item(delivery: Delivery, now: datetime) -> dict[str, Any]:
    item: dict[str, Any] = {
        PARTITION_KEY: user_pk(delivery.user_id),
        SORT_KEY: delivery_sk(delivery.endpoint_id, delivery.delivery_id),
        "entity": "delivery",
        "delivery_id": delivery.delivery_id,
        "webhook_id": delivery.webhook_id,
        "endpoint_id": delivery.endpoint_id,
        "user_id": delivery.user_id,
        "event_id": delivery.event_id,
        "event_type": delivery.event_type,
        "payload": delivery.payload,
        "status": delivery.status.value,
        "attempts": [],
        "created_at": delivery.created_at,
        "updated_at": delivery.created_at,
        TTL_ATTRIBUTE: _epoch(now + DELIVERY_RETENTION),
    }
    optional = {
        "file_id": delivery.file_id,
        "correlation_id": delivery.correlation_id,
        "target_url": delivery.target_url,
    }
    return item | {name: value for name, value in optional.items() if value is not None}


def pointer_item(delivery: Delivery, now: datetime) -> dict[str, Any]:
    """What GET /v1/files/{id} lists: `FILE#{f}` / `DELIVERY#{delivery_id}`."""
    assert delivery.file_id is not None
    return {
        PARTITION_KEY: file_pk(delivery.file_id),
        SORT_KEY: file_delivery_sk(delivery.delivery_id),
        "entity": "file_delivery",
        "delivery_id": delivery.delivery_id,
        "webhook_id": delivery.webhook_id,
        "endpoint_id": delivery.endpoint_id,
        "user_id": delivery.user_id,
        "file_id": delivery.file_id,
        "event_type": delivery.event_type,
        "callback": delivery.callback,
        "status": delivery.status.value,
        "attempt_count": 0,
        "created_at": delivery.created_at,
        "updated_at": delivery.created_at,
        TTL_ATTRIBUTE: _epoch(now + DELIVERY_RETENTION),
    }


def delivery_from_item(item: dict[str, Any]) -> Delivery:
    plain = from_dynamo(item)
    return Delivery(
        user_id=plain["user_id"],
        endpoint_id=plain["endpoint_id"],
        delivery_id=plain["delivery_id"],
        webhook_id=plain["webhook_id"],
        event_id=plain["event_id"],
        event_type=plain["event_type"],
        payload=plain["payload"],
        status=DeliveryStatus(plain["status"]),
        created_at=plain["created_at"],
        file_id=plain.get("file_id"),
        correlation_id=plain.get("correlation_id"),
        target_url=plain.get("target_url"),
        next_attempt_at=plain.get("next_attempt_at"),
        attempts=tuple(
            AttemptRecord(
                attempt=int(entry["attempt"]),
                at=entry["at"],
                status_code=entry.get("status_code"),
                duration_ms=int(entry.get("duration_ms") or 0),
                error=entry.get("error"),
                next_attempt_at=entry.get("next_attempt_at"),
            )
            for entry in plain.get("attempts") or []
        ),
    )


class DynamoDeliveries:
    def __init__(self, table: Table) -> None:
        self._table = table
        self._client = table.meta.client
        self._errors = table.meta.client.exceptions

    def create(self, delivery: Delivery, guard_sk: str) -> str | None:
        now = datetime.fromisoformat(delivery.created_at)
        absent = "attribute_not_exists(pk)"
        items: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self._table.name,
                    "Item": delivery_item(delivery, now),
                    "ConditionExpression": absent,
                }
            },
            {
                "Put": {
                    "TableName": self._table.name,
                    "Item": {
                        PARTITION_KEY: user_pk(delivery.user_id),
                        SORT_KEY: guard_sk,
                        "entity": "webhook_event_guard",
                        "delivery_id": delivery.delivery_id,
                        TTL_ATTRIBUTE: _epoch(now + GUARD_RETENTION),
                    },
                    "ConditionExpression": absent,
                }
            },
        ]
        if delivery.file_id is not None:
            items.append({"Put": {"TableName": self._table.name, "Item": pointer_item(delivery, now)}})
        try:
            self._client.transact_write_items(TransactItems=items)  # type: ignore[arg-type]
        except self._errors.TransactionCanceledException as exc:
            delivery_exists, guard_exists, *_ = failed_conditions(exc, len(items))
            if guard_exists:
                # A producer's retry carries a new occurred_at, so a new delivery id: the guard names the
                # delivery the first fan-out created.
                guard = self._table.get_item(
                    Key={PARTITION_KEY: user_pk(delivery.user_id), SORT_KEY: guard_sk},
                    ConsistentRead=True,
                ).get("Item")
                return str(guard["delivery_id"]) if guard else delivery.delivery_id
            if delivery_exists:
                return delivery.delivery_id
            raise
        return None

    def get(self, user_id: str, endpoint_id: str, delivery_id: str) -> Delivery | None:
        item = self._table.get_item(
            Key={PARTITION_KEY: user_pk(user_id), SORT_KEY: delivery_sk(endpoint_id, delivery_id)},
            ConsistentRead=True,
        ).get("Item")
        return delivery_from_item(item) if item else None

    def record(
        self,
        delivery: Delivery,
        *,
        status: DeliveryStatus,
        at: datetime,
        attempt: AttemptRecord | None,
        next_attempt_at: str | None,
        failure_reason: str | None,
        event: StageEvent | None,
    ) -> bool:
        items = self._record_items(delivery, status, at, attempt, next_attempt_at, failure_reason, event)
        try:
            self._client.transact_write_items(TransactItems=items)  # type: ignore[arg-type]
        except self._errors.TransactionCanceledException as exc:
            refused = failed_conditions(exc, len(items))
            if refused[0]:
                return False
            if len(refused) > 1 and refused[1]:
                # The file was deleted (its pointer with it): record the attempt without the file's side.
                self._client.transact_write_items(TransactItems=items[:1])  # type: ignore[arg-type]
                return True
            raise
        return True

    def _record_items(
        self,
        delivery: Delivery,
        status: DeliveryStatus,
        at: datetime,
        attempt: AttemptRecord | None,
        next_attempt_at: str | None,
        failure_reason: str | None,
        event: StageEvent | None,
    ) -> list[dict[str, Any]]:
        stamp = to_timestamp(at)
        sets = ["#status = :status", "updated_at = :at"]
        removes: list[str] = []
        values: dict[str, Any] = {":status": status.value, ":at": stamp, ":count": delivery.attempt_count}
        if attempt is not None:
            sets.append("attempts = list_append(attempts, :attempt)")
            values[":attempt"] = [to_dynamo(attempt.describe())]
        for name, value in (("next_attempt_at", next_attempt_at), ("failure_reason", failure_reason)):
            if value is None:
                removes.append(name)
            else:
                sets.append(f"{name} = :{name}")
                values[f":{name}"] = value
        expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
        items: list[dict[str, Any]] = [
            {
                "Update": {
                    "TableName": self._table.name,
                    "Key": {
                        PARTITION_KEY: user_pk(delivery.user_id),
                        SORT_KEY: delivery_sk(delivery.endpoint_id, delivery.delivery_id),
                    },
                    "UpdateExpression": expression,
                    "ConditionExpression": "attribute_exists(pk) AND size(attempts) = :count",
                    "ExpressionAttributeNames": {"#status": "status"},
                    "ExpressionAttributeValues": values,
                }
            }
        ]
        if delivery.file_id is None:
            return items
        pointer_values: dict[str, Any] = {
            ":status": status.value,
            ":at": stamp,
            ":count": attempt.attempt if attempt else delivery.attempt_count,
        }
        pointer_sets = "#status = :status, updated_at = :at, attempt_count = :count"
        if attempt is not None and attempt.status_code is not None:
            pointer_sets += ", last_status_code = :code"
            pointer_values[":code"] = attempt.status_code
        items.append(
            {
                "Update": {
                    "TableName": self._table.name,
                    "Key": {
                        PARTITION_KEY: file_pk(delivery.file_id),
                        SORT_KEY: file_delivery_sk(delivery.delivery_id),
                    },
                    "UpdateExpression": "SET " + pointer_sets,
                    "ConditionExpression": "attribute_exists(pk)",
                    "ExpressionAttributeNames": {"#status": "status"},
                    "ExpressionAttributeValues": pointer_values,
                }
            }
        )
        if event is not None:
            items.append({"Put": {"TableName": self._table.name, "Item": to_dynamo(event_item(event))}})
        return items
