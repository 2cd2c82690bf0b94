"""DynamoDB served from moto's in-memory backend.

LocalStack's own providers forward to DynamoDB Local, a jar downloaded at first use; without the
internet every call hangs. moto implements the same API in-process.
"""

from localstack.aws.api.dynamodb import DynamodbApi
from localstack.services.moto import MotoFallbackDispatcher
from localstack.services.plugins import Service, aws_provider


class MotoDynamoDBProvider(DynamodbApi):
    """Every operation falls through to moto's DynamoDB backend."""


@aws_provider(api="dynamodb", name="moto")
def dynamodb_moto() -> Service:
    return Service.for_provider(MotoDynamoDBProvider(), dispatch_table_factory=MotoFallbackDispatcher)
