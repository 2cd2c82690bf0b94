"""The analysis stage's adapters: reads from S3 (Sources) and the duplicate index in DynamoDB (HashIndex)."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any, Final

from fileflow_common.dynamo import failed_conditions
from fileflow_common.errors import FileDeletedError
from fileflow_common.keys import validate_id
from fileflow_common.pipeline import ObjectVersion
from fileflow_common.table import (
    IMAGE_HASH_PREFIX,
    NOT_DELETED,
    PARTITION_KEY,
    SORT_KEY,
    USER_PREFIX,
    file_item_key,
    image_hash_item_key,
)
from fileflow_stages._runtime.state import ObjectGoneError
from fileflow_stages.analysis.duplicates import HashEntry
from fileflow_stages.analysis.features import OriginalRead

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table
    from mypy_boto3_s3 import S3Client

_CHUNK: Final = 1024 * 1024
# Entries of one user read per analysis (newest and oldest alike: the order is the file ids'): above,
# near duplicates are looked for among the first ones only (docs/processing.md, "Local analysis").
MAX_INDEX_ENTRIES: Final = 5000
# The original is hashed whole up to this size (the content stages' object limit is 100 MiB).
MAX_HASHED_BYTES: Final = 512 * 1024 * 1024


class S3Sources:
    """The version being processed and its derivatives, in the one bucket."""

    def __init__(self, client: S3Client, bucket: str, source: ObjectVersion) -> None:
        self._client = client
        self._bucket = bucket
        self._source = source

    def derivative(self, key: str, *, max_bytes: int) -> bytes:
        try:
            response = self._client.get_object(Bucket=self._bucket, Key=key)
        except self._client.exceptions.NoSuchKey as exc:
            raise ObjectGoneError(f"derivative {key} is gone") from exc
        body = response["Body"]
        try:
            data = body.read(max_bytes + 1)
        finally:
            body.close()
        if len(data) > max_bytes:
            raise ValueError(f"derivative {key} is over {max_bytes} bytes")
        return data

    def original(self, *, head_bytes: int) -> OriginalRead:
        source = self._source
        location: dict[str, Any] = (
            {"VersionId": source.version_id} if source.version_id else {"IfMatch": f'"{source.etag}"'}
        )
        try:
            response = self._client.get_object(Bucket=source.bucket, Key=source.key, **location)
        except self._client.exceptions.NoSuchKey as exc:
            raise ObjectGoneError(f"{source.key} is gone") from exc
        size = int(response["ContentLength"])
        body = response["Body"]
        digest = hashlib.sha256()
        head = bytearray()
        read = 0
        try:
            while read <= MAX_HASHED_BYTES:
                chunk = body.read(_CHUNK)
                if not chunk:
                    break
                digest.update(chunk)
                if len(head) < head_bytes:
                    head += chunk[: head_bytes - len(head)]
                read += len(chunk)
        finally:
            body.close()
        complete = read == size and read <= MAX_HASHED_BYTES
        return OriginalRead(head=bytes(head), size=size, sha256=digest.hexdigest() if complete else None)


class DynamoHashIndex:
    """`USER#{user}` / `IMAGEHASH#{file}` items: only ever the caller's own partition."""

    def __init__(self, table: Table) -> None:
        self._table = table

    def entries(self, user_id: str) -> list[HashEntry]:
        request: dict[str, Any] = {
            "KeyConditionExpression": "#pk = :pk AND begins_with(#sk, :prefix)",
            "ExpressionAttributeNames": {"#pk": PARTITION_KEY, "#sk": SORT_KEY},
            "ExpressionAttributeValues": {
                ":pk": USER_PREFIX + validate_id(user_id, kind="user_id"),
                ":prefix": IMAGE_HASH_PREFIX,
            },
            "ProjectionExpression": "file_id, kind, phash, dhash, sha256",
        }
        found: list[HashEntry] = []
        while len(found) < MAX_INDEX_ENTRIES:
            response = self._table.query(**request)
            for item in response.get("Items", []):
                found.append(
                    HashEntry(
                        file_id=str(item["file_id"]),
                        kind=str(item.get("kind") or ""),
                        phash=_text(item.get("phash")),
                        dhash=_text(item.get("dhash")),
                        sha256=_text(item.get("sha256")),
                    )
                )
            if "LastEvaluatedKey" not in response:
                break
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return found[:MAX_INDEX_ENTRIES]

    def put(self, user_id: str, entry: HashEntry) -> None:
        """The entry, only while the file is live: a delete's clean-up then always finds it."""
        item = {
            **image_hash_item_key(user_id, entry.file_id),
            "user_id": user_id,
            "file_id": entry.file_id,
            "kind": entry.kind,
            **{
                name: value
                for name, value in (("phash", entry.phash), ("dhash", entry.dhash), ("sha256", entry.sha256))
                if value
            },
        }
        client = self._table.meta.client
        try:
            self._table.meta.client.transact_write_items(
                TransactItems=[
                    {
                        "ConditionCheck": {
                            "TableName": self._table.name,
                            "Key": file_item_key(user_id, entry.file_id),
                            "ConditionExpression": f"attribute_exists(#pk) AND {NOT_DELETED}",
                            "ExpressionAttributeNames": {"#pk": PARTITION_KEY},
                        }
                    },
                    {"Put": {"TableName": self._table.name, "Item": item}},
                ]
            )
        except client.exceptions.TransactionCanceledException as exc:
            file_refused, _ = failed_conditions(exc, 2)
            if file_refused:
                raise FileDeletedError(f"file {entry.file_id} was deleted") from exc
            raise


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
