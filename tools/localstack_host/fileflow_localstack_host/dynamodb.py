"""DynamoDB served from moto's in-memory backend.

LocalStack's own providers forward to DynamoDB Local, a jar downloaded at first use; without the
internet every call hangs. moto implements the same API in-process (its TransactWriteItems replaced by
one that costs what a transaction touches: dynamodb_transactions.py).
"""

from localstack.aws.api.dynamodb import DynamodbApi
from localstack.services.moto import MotoFallbackDispatcher
from localstack.services.plugins import Service, aws_provider

from fileflow_localstack_host import dynamodb_transactions


class MotoDynamoDBProvider(DynamodbApi):
    """Every operation falls through to moto's DynamoDB backend."""


@aws_provider(api="dynamodb", name="moto")
def dynamodb_moto() -> Service:
    # moto's TransactWriteItems deep-copies every table it names: O(table size) per transaction.
    dynamodb_transactions.install()
    return Service.for_provider(MotoDynamoDBProvider(), dispatch_table_factory=MotoFallbackDispatcher)
