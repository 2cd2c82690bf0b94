"""The AWS call counter: calls by service and operation, and the items of DynamoDB's transactions and batches
(what the stages' events and the API's request lines report, and `make bench-cost` prices)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.stub import Stubber

from fileflow_common.aws import CallCounter, CallCounts
from fileflow_stages._runtime.stage import call_detail

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client

type Counted = tuple[DynamoDBClient, S3Client, CallCounter]

KEY: dict[str, Any] = {"pk": {"S": "a"}, "sk": {"S": "b"}}


@pytest.fixture
def counted() -> Counted:
    counter = CallCounter()
    options = {"region_name": "us-east-1", "aws_access_key_id": "x", "aws_secret_access_key": "y"}
    dynamodb: DynamoDBClient = boto3.client("dynamodb", **options)  # type: ignore[call-overload]
    s3: S3Client = boto3.client("s3", **options)  # type: ignore[call-overload]
    dynamodb.meta.events.register("provide-client-params", counter)
    s3.meta.events.register("provide-client-params", counter)
    return dynamodb, s3, counter


def test_calls_are_counted_by_service_and_operation_with_the_items_of_transactions_and_batches(
    counted: Counted,
) -> None:
    dynamodb, s3, counter = counted
    with Stubber(dynamodb) as db, Stubber(s3) as store:
        # Given a transaction of three actions, a batch write over two tables, a batch get and two reads
        db.add_response("transact_write_items", {})
        db.add_response("batch_write_item", {})
        db.add_response("batch_get_item", {})
        db.add_response("get_item", {})
        db.add_response("get_item", {})
        store.add_response("get_object", {})
        put: Any = {"Put": {"TableName": "t", "Item": KEY}}
        # When they are made
        dynamodb.transact_write_items(TransactItems=[put, put, {"Delete": {"TableName": "t", "Key": KEY}}])
        dynamodb.batch_write_item(
            RequestItems={"t": [{"PutRequest": {"Item": KEY}}] * 2, "u": [{"DeleteRequest": {"Key": KEY}}]}
        )
        dynamodb.batch_get_item(RequestItems={"t": {"Keys": [KEY, KEY]}})
        dynamodb.get_item(TableName="t", Key=KEY)
        dynamodb.get_item(TableName="t", Key=KEY)
        s3.get_object(Bucket="b", Key="k")
    # Then each operation is counted once per call, and each multi-item operation's items are counted
    taken = counter.take()
    assert taken == CallCounts(
        calls={
            "dynamodb:TransactWriteItems": 1,
            "dynamodb:BatchWriteItem": 1,
            "dynamodb:BatchGetItem": 1,
            "dynamodb:GetItem": 2,
            "s3:GetObject": 1,
        },
        items={"dynamodb:TransactWriteItems": 3, "dynamodb:BatchWriteItem": 3, "dynamodb:BatchGetItem": 2},
    )
    assert taken.total == 6


def test_taking_the_counts_starts_counting_again(counted: Counted) -> None:
    dynamodb, _, counter = counted
    with Stubber(dynamodb) as db:
        db.add_response("get_item", {})
        dynamodb.get_item(TableName="t", Key=KEY)
        assert counter.take().calls == {"dynamodb:GetItem": 1}
    assert counter.take() == CallCounts()


def test_a_stages_detail_counts_its_own_succeeded_event_a_transaction_of_two_items() -> None:
    # Given a stage that read one object and updated its job
    counts = CallCounts(calls={"s3:GetObject": 1, "dynamodb:UpdateItem": 1})
    # When its `succeeded` detail is made
    detail = call_detail(counts)
    # Then the event's own write is in it: one more call, a transaction of the file's stage and the event
    assert detail == {
        "aws_calls": 3,
        "aws_operations": {"s3:GetObject": 1, "dynamodb:UpdateItem": 1, "dynamodb:TransactWriteItems": 1},
        "aws_items": {"dynamodb:TransactWriteItems": 2},
    }
