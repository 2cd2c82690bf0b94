"""boto3 adapters of the DependencyProbe interface (health/model.py)."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from fileflow_api.health.model import DependencyUnavailableError

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient


# A HEAD response has no body, so botocore's error code is the bare HTTP status.
_HEAD_BUCKET_CODES = {"404": "NoSuchBucket", "403": "AccessDenied"}


@contextmanager
def _aws_errors_as_unavailable(renames: Mapping[str, str] | None = None) -> Iterator[None]:
    try:
        yield
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "ClientError")
        raise DependencyUnavailableError((renames or {}).get(code, code)) from exc
    except BotoCoreError as exc:  # endpoint unreachable, timeouts, credentials
        raise DependencyUnavailableError(type(exc).__name__) from exc


@dataclass(frozen=True, slots=True)
class BucketProbe:
    s3: S3Client
    bucket_name: str
    name: str = "bucket"

    def probe(self) -> None:
        with _aws_errors_as_unavailable(_HEAD_BUCKET_CODES):
            self.s3.head_bucket(Bucket=self.bucket_name)


@dataclass(frozen=True, slots=True)
class TableProbe:
    dynamodb: DynamoDBClient
    table_name: str
    name: str = "table"

    def probe(self) -> None:
        with _aws_errors_as_unavailable():
            status = self.dynamodb.describe_table(TableName=self.table_name)["Table"].get("TableStatus")
        if status != "ACTIVE":
            raise DependencyUnavailableError(f"TableNotActive:{status}")


@dataclass(frozen=True, slots=True)
class QueueProbe:
    sqs: SQSClient
    queue_url: str
    name: str = "queue"

    def probe(self) -> None:
        with _aws_errors_as_unavailable():
            self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])
