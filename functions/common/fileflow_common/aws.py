"""Cached boto3 factories: one client per execution environment, reused across invocations.

The endpoint (AWS_ENDPOINT_URL for the local cloud) and region come from botocore's own
configuration chain. Tests call `clear_cached_clients()` so each moto mock gets fresh clients.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

import boto3
from botocore.client import BaseClient
from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient, DynamoDBServiceResource
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_stepfunctions import SFNClient

# Short timeouts keep a hung dependency inside API Gateway's 29 s budget; standard retries back off.
CLIENT_CONFIG = Config(connect_timeout=3, read_timeout=10, retries={"mode": "standard", "max_attempts": 3})


# DynamoDB operations that carry many items: each item is billed (a transaction's at twice the units).
MULTI_ITEM_PARAMS = {
    "TransactWriteItems": "TransactItems",
    "TransactGetItems": "TransactItems",
    "BatchWriteItem": "RequestItems",
    "BatchGetItem": "RequestItems",
}


@dataclass(frozen=True)
class CallCounts:
    """AWS API calls by "service:Operation", and the items of DynamoDB's multi-item operations."""

    calls: dict[str, int] = field(default_factory=dict)
    items: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.calls.values())


class CallCounter:
    """Counts the AWS API calls this execution environment's clients make, by service and operation
    (a botocore `provide-client-params` hook), and the items a DynamoDB transaction or batch carries: the
    stages and the API report theirs per invocation (docs/processing.md, docs/cost.md)."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.items: Counter[str] = Counter()

    def __call__(self, model: Any, params: dict[str, Any] | None = None, **_: Any) -> None:
        name = f"{model.service_model.service_name}:{model.name}"
        self.calls[name] += 1
        carrier = MULTI_ITEM_PARAMS.get(model.name) if name.startswith("dynamodb:") else None
        if carrier and params:
            self.items[name] += _item_count(params.get(carrier))

    def take(self) -> CallCounts:
        """The calls since the last take, and start counting again."""
        taken = CallCounts(dict(self.calls), dict(self.items))
        self.calls, self.items = Counter(), Counter()
        return taken


def _item_count(carried: Any) -> int:
    """TransactItems is a list of actions; RequestItems maps each table to its requests (or its Keys)."""
    if isinstance(carried, list):
        return len(carried)
    if isinstance(carried, dict):
        return sum(
            len(requests["Keys"]) if isinstance(requests, dict) else len(requests)
            for requests in carried.values()
        )
    return 0


aws_calls = CallCounter()


def counted[T: BaseClient](client: T) -> T:
    """The client, its calls counted by `aws_calls`."""
    client.meta.events.register("provide-client-params", aws_calls)
    return client


@cache
def s3_client() -> S3Client:
    return counted(boto3.client("s3", config=CLIENT_CONFIG))


@cache
def s3_presigner() -> S3Client:
    """Signs presigned URLs only: SigV4, and no checksum the SDK would add on its own (clients send
    exactly the headers the API returns).

    Virtual-hosted addressing gives the bucket's regional endpoint (bucket.s3.{region}.amazonaws.com);
    botocore's default would sign for the global one, which S3 answers with a 307 redirect for a
    bucket outside us-east-1 until its DNS settles. Path style stays for an IP endpoint (the local cloud).
    """
    return boto3.client(
        "s3",
        config=CLIENT_CONFIG.merge(
            Config(
                signature_version="s3v4",
                request_checksum_calculation="when_required",
                s3={"addressing_style": "virtual"},
            )
        ),
    )


@cache
def sqs_client() -> SQSClient:
    return counted(boto3.client("sqs", config=CLIENT_CONFIG))


@cache
def stepfunctions_client() -> SFNClient:
    return counted(boto3.client("stepfunctions", config=CLIENT_CONFIG))


@cache
def dynamodb_client() -> DynamoDBClient:
    return counted(boto3.client("dynamodb", config=CLIENT_CONFIG))


@cache
def dynamodb_resource() -> DynamoDBServiceResource:
    resource = boto3.resource("dynamodb", config=CLIENT_CONFIG)
    counted(resource.meta.client)
    return resource


def clear_cached_clients() -> None:
    for factory in (
        s3_client,
        s3_presigner,
        sqs_client,
        stepfunctions_client,
        dynamodb_client,
        dynamodb_resource,
    ):
        factory.cache_clear()
