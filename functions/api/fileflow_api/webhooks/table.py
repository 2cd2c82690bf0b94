"""DynamoDB adapter of EndpointStore: endpoints, their deliveries and a file's delivery pointers.

Endpoints and deliveries sit in the owner's partition (`USER#{u}`, fileflow_common.webhooks.items): every
read names the caller, so another user's items are never reached. The endpoint limit is kept by a
counter item (`USER#{u}` / `WEBHOOKCOUNT`) written in the same transaction as the endpoint it counts
(create: `n < max`; delete: the endpoint must exist), so concurrent creates cannot pass the limit.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import Attr, ConditionBase, Key
from boto3.dynamodb.types import TypeSerializer

from fileflow_api.core.cursors import InvalidCursorError
from fileflow_api.webhooks.items import (
    delivery_from_item,
    endpoint_from_item,
    endpoint_to_item,
    file_delivery_from_item,
    secret_to_item,
)
from fileflow_api.webhooks.model import (
    Delivery,
    DeliveryPage,
    DeliveryQuery,
    Endpoint,
    EndpointChanges,
    EndpointSecret,
    FileDelivery,
)
from fileflow_common.clock import to_timestamp
from fileflow_common.dynamo import failed_conditions
from fileflow_common.table import PARTITION_KEY, SORT_KEY
from fileflow_common.webhooks.items import (
    DELIVERY_PREFIX,
    WEBHOOK_PREFIX,
    EndpointStatus,
    delivery_sk,
    endpoint_deliveries_prefix,
    endpoint_sk,
    file_pk,
    user_pk,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

ENDPOINT_COUNT_SK = "WEBHOOKCOUNT"
DISABLED_BY_OWNER = "disabled by its owner (PATCH enabled=false)"
# A filtered page reads at most this many times before it answers what it found (and a cursor).
_MAX_READS_PER_PAGE = 10


class DynamoWebhookStore:
    def __init__(self, table: Table) -> None:
        self._table = table
        self._serializer = TypeSerializer()

    # --- endpoints -----------------------------------------------------------------------------------------

    def create(self, endpoint: Endpoint, *, max_endpoints: int) -> bool:
        pk = user_pk(endpoint.user_id)
        item = {PARTITION_KEY: pk, SORT_KEY: endpoint_sk(endpoint.endpoint_id), **endpoint_to_item(endpoint)}
        client = self._table.meta.client
        try:
            client.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": self._table.name,
                            "Key": {PARTITION_KEY: pk, SORT_KEY: ENDPOINT_COUNT_SK},
                            "UpdateExpression": "SET #n = if_not_exists(#n, :zero) + :one",
                            "ConditionExpression": "attribute_not_exists(#n) OR #n < :max",
                            "ExpressionAttributeNames": {"#n": "endpoints"},
                            "ExpressionAttributeValues": {":zero": 0, ":one": 1, ":max": max_endpoints},
                        }
                    },
                    {
                        "Put": {
                            "TableName": self._table.name,
                            "Item": item,
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                ]
            )
        except client.exceptions.TransactionCanceledException as exc:
            limit_reached, _ = failed_conditions(exc, 2)
            if not limit_reached:
                raise
            return False
        return True

    def endpoints(self, user_id: str) -> list[Endpoint]:
        items = self._query_all(
            KeyConditionExpression=Key(PARTITION_KEY).eq(user_pk(user_id))
            & Key(SORT_KEY).begins_with(WEBHOOK_PREFIX),
            ConsistentRead=True,
        )
        endpoints = [endpoint_from_item(item) for item in items if item.get("user_id") == user_id]
        return sorted(endpoints, key=lambda endpoint: (endpoint.created_at, endpoint.endpoint_id))

    def endpoint(self, user_id: str, endpoint_id: str) -> Endpoint | None:
        item = self._table.get_item(
            Key={PARTITION_KEY: user_pk(user_id), SORT_KEY: endpoint_sk(endpoint_id)}, ConsistentRead=True
        ).get("Item")
        return endpoint_from_item(item) if item and item.get("user_id") == user_id else None

    def update(
        self, user_id: str, endpoint_id: str, changes: EndpointChanges, *, at: datetime
    ) -> Endpoint | None:
        now = to_timestamp(at)
        sets = ["#updated_at = :now"]
        removes: list[str] = []
        names = {"#updated_at": "updated_at"}
        values: dict[str, Any] = {":now": now}
        for name, value in (("url", changes.url), ("description", changes.description)):
            if value is not None:
                sets.append(f"#{name} = :{name}")
                names[f"#{name}"], values[f":{name}"] = name, value
        if changes.events is not None:
            sets.append("#events = :events")
            names["#events"], values[":events"] = "events", list(changes.events)
        if changes.enabled is not None:
            names |= {
                "#status": "status",
                "#reason": "disabled_reason",
                "#disabled_at": "disabled_at",
                "#failures": "consecutive_failures",
            }
            if changes.enabled:
                sets += ["#status = :enabled", "#failures = :zero"]
                removes += ["#reason", "#disabled_at"]
                values |= {":enabled": EndpointStatus.ENABLED.value, ":zero": 0}
            else:
                # An endpoint the sender disabled keeps its reason (the owner learns why it stopped).
                sets += [
                    "#status = :disabled",
                    "#reason = if_not_exists(#reason, :reason)",
                    "#disabled_at = if_not_exists(#disabled_at, :now)",
                ]
                values |= {":disabled": EndpointStatus.DISABLED.value, ":reason": DISABLED_BY_OWNER}
                names.pop("#failures")
        expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
        try:
            response = self._table.update_item(
                Key={PARTITION_KEY: user_pk(user_id), SORT_KEY: endpoint_sk(endpoint_id)},
                UpdateExpression=expression,
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        except self._table.meta.client.exceptions.ConditionalCheckFailedException:
            return None
        return endpoint_from_item(response["Attributes"])

    def replace_secrets(
        self, endpoint: Endpoint, secrets: tuple[EndpointSecret, ...], *, at: datetime
    ) -> bool:
        try:
            self._table.update_item(
                Key={PARTITION_KEY: user_pk(endpoint.user_id), SORT_KEY: endpoint_sk(endpoint.endpoint_id)},
                UpdateExpression="SET #secrets = :secrets, #updated_at = :now",
                ConditionExpression="attribute_exists(pk) AND #secrets = :read",
                ExpressionAttributeNames={"#secrets": "secrets", "#updated_at": "updated_at"},
                ExpressionAttributeValues={
                    ":secrets": [secret_to_item(secret) for secret in secrets],
                    ":read": [secret_to_item(secret) for secret in endpoint.secrets],
                    ":now": to_timestamp(at),
                },
            )
        except self._table.meta.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def delete(self, user_id: str, endpoint_id: str) -> bool:
        pk = user_pk(user_id)
        client = self._table.meta.client
        try:
            client.transact_write_items(
                TransactItems=[
                    {
                        "Delete": {
                            "TableName": self._table.name,
                            "Key": {PARTITION_KEY: pk, SORT_KEY: endpoint_sk(endpoint_id)},
                            "ConditionExpression": "attribute_exists(pk)",
                        }
                    },
                    {
                        "Update": {
                            "TableName": self._table.name,
                            "Key": {PARTITION_KEY: pk, SORT_KEY: ENDPOINT_COUNT_SK},
                            "UpdateExpression": "SET #n = #n - :one",
                            "ConditionExpression": "#n > :zero",
                            "ExpressionAttributeNames": {"#n": "endpoints"},
                            "ExpressionAttributeValues": {":zero": 0, ":one": 1},
                        }
                    },
                ]
            )
        except client.exceptions.TransactionCanceledException as exc:
            missing, _ = failed_conditions(exc, 2)
            if missing:
                return False
            raise
        return True

    # --- deliveries ----------------------------------------------------------------------------------------

    def deliveries(
        self,
        user_id: str,
        endpoint_id: str,
        query: DeliveryQuery,
        *,
        after: dict[str, str] | None,
        limit: int,
    ) -> DeliveryPage:
        pk, prefix = user_pk(user_id), endpoint_deliveries_prefix(endpoint_id)
        arguments: dict[str, Any] = {
            "KeyConditionExpression": Key(PARTITION_KEY).eq(pk) & Key(SORT_KEY).begins_with(prefix),
            "ScanIndexForward": False,  # delivery ids start with their creation time: newest first
        }
        if query.status is not None:
            status: ConditionBase = Attr("status").eq(query.status.value)
            arguments["FilterExpression"] = status
        start: dict[str, str] | None = None
        if after is not None:
            sk = after.get("sk", "")
            if not sk.startswith(prefix):
                raise InvalidCursorError("cursor is not one this API issued")
            start = {PARTITION_KEY: pk, SORT_KEY: sk}
        found: list[Delivery] = []
        for _ in range(_MAX_READS_PER_PAGE):
            if start is not None:
                arguments["ExclusiveStartKey"] = start
            response = self._table.query(**arguments, Limit=limit - len(found))
            found += [delivery_from_item(item) for item in response.get("Items", [])]
            last = response.get("LastEvaluatedKey")
            start = {PARTITION_KEY: str(last[PARTITION_KEY]), SORT_KEY: str(last[SORT_KEY])} if last else None
            if start is None or len(found) >= limit:
                break
        return DeliveryPage(deliveries=found, next_position={"sk": start[SORT_KEY]} if start else None)

    def delivery(self, user_id: str, endpoint_id: str, delivery_id: str) -> Delivery | None:
        item = self._table.get_item(
            Key={PARTITION_KEY: user_pk(user_id), SORT_KEY: delivery_sk(endpoint_id, delivery_id)},
            ConsistentRead=True,
        ).get("Item")
        return delivery_from_item(item) if item and item.get("user_id") == user_id else None

    def file_deliveries(self, user_id: str, file_id: str) -> list[FileDelivery]:
        items = self._query_all(
            KeyConditionExpression=Key(PARTITION_KEY).eq(file_pk(file_id))
            & Key(SORT_KEY).begins_with(DELIVERY_PREFIX),
            ConsistentRead=True,
        )
        return [file_delivery_from_item(item) for item in items if item.get("user_id") == user_id]

    def _query_all(self, **arguments: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        while True:
            response = self._table.query(**arguments)
            items += response.get("Items", [])
            last = response.get("LastEvaluatedKey")
            if not last:
                return items
            arguments["ExclusiveStartKey"] = last
