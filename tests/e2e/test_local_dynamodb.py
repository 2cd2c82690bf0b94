"""The local cloud's DynamoDB transactions (tools/localstack_host/dynamodb_transactions.py).

moto's own TransactWriteItems copies every table it names; ours touches only the transaction's items,
with the same all-or-nothing result. Checked here against the running local cloud.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from tools.stack import client_kwargs, endpoint_url

pytestmark = pytest.mark.skipif(endpoint_url() is None, reason="a LocalStack-specific fix")


@pytest.fixture
def table(stack: Any) -> Iterator[str]:
    client = boto3.client("dynamodb", **client_kwargs())
    name = f"tx-test-{uuid.uuid4().hex[:8]}"
    client.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"} for key in ("pk", "sk")],
    )
    yield name
    client.delete_table(TableName=name)


def _key(sk: str) -> dict[str, Any]:
    return {"pk": {"S": "p"}, "sk": {"S": sk}}


def _transaction(name: str, condition: str) -> list[Any]:
    return [
        {
            "Update": {
                "TableName": name,
                "Key": _key("a"),
                "UpdateExpression": "SET v = :v",
                "ExpressionAttributeValues": {":v": {"S": "new"}},
            }
        },
        {
            "Put": {
                "TableName": name,
                "Item": {**_key("b"), "v": {"S": "new"}},
                "ConditionExpression": condition,
            }
        },
    ]


def test_a_transaction_is_all_or_nothing(table: str) -> None:
    client = boto3.client("dynamodb", **client_kwargs())
    client.put_item(TableName=table, Item={**_key("a"), "v": {"S": "old"}})
    client.put_item(TableName=table, Item={**_key("b"), "v": {"S": "old"}})
    # When the second operation's condition fails
    with pytest.raises(client.exceptions.TransactionCanceledException) as cancelled:
        client.transact_write_items(TransactItems=_transaction(table, "attribute_not_exists(pk)"))
    # Then the cancellation says which one, and the first operation was not applied either
    reasons = [reason["Code"] for reason in cancelled.value.response["CancellationReasons"]]
    assert reasons == ["None", "ConditionalCheckFailed"]
    assert client.get_item(TableName=table, Key=_key("a"))["Item"]["v"] == {"S": "old"}
    # When every condition holds / Then every operation is applied
    client.delete_item(TableName=table, Key=_key("b"))
    client.transact_write_items(TransactItems=_transaction(table, "attribute_not_exists(pk)"))
    assert client.get_item(TableName=table, Key=_key("a"))["Item"]["v"] == {"S": "new"}
    assert client.get_item(TableName=table, Key=_key("b"))["Item"]["v"] == {"S": "new"}


def test_a_failed_condition_can_return_the_item_it_saw(table: str) -> None:
    client = boto3.client("dynamodb", **client_kwargs())
    client.put_item(TableName=table, Item={**_key("b"), "v": {"S": "there"}})
    items = _transaction(table, "attribute_not_exists(pk)")
    items[1]["Put"]["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
    with pytest.raises(client.exceptions.TransactionCanceledException) as cancelled:
        client.transact_write_items(TransactItems=items)
    seen: dict[str, Any] = dict(cancelled.value.response["CancellationReasons"][1]["Item"])
    assert seen["v"] == {"S": "there"}


def test_two_operations_on_one_item_are_refused(table: str) -> None:
    client = boto3.client("dynamodb", **client_kwargs())
    items = _transaction(table, "attribute_not_exists(pk)")
    items[1]["Put"]["Item"] = {**_key("a"), "v": {"S": "twice"}}
    with pytest.raises(client.exceptions.ClientError, match="multiple operations on one item"):
        client.transact_write_items(TransactItems=items)
