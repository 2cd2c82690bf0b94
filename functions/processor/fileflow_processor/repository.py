"""DynamoDB adapter of the FileRepository interface."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from fileflow_common.clock import to_timestamp
from fileflow_common.table import file_item_key
from fileflow_processor.stored_objects import StoredObject

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

FILE_STATUS_STORED = "stored"
# A later sequencer wins. An equal one is the same event (a redelivery) unless the content differs:
# real S3 never reuses a sequencer, but LocalStack sends one constant sequencer for every event.
_NEWER_EVENT_CONDITION = (
    "attribute_not_exists(s3_sequencer) OR s3_sequencer < :s3_sequencer"
    " OR (s3_sequencer = :s3_sequencer AND etag <> :etag)"
)


class DynamoFileRepository:
    def __init__(self, table: Table) -> None:
        self._table = table

    def record_stored_object(self, stored: StoredObject, *, updated_at: datetime) -> bool:
        """Conditional upsert: a redelivered or older event leaves the item untouched.

        UpdateItem (not PutItem) keeps attributes written by other writers, e.g. the upload metadata.
        """
        upload = stored.upload
        attributes: dict[str, str | int] = {
            "entity": "file",
            "user_id": upload.user_id,
            "file_id": upload.file_id,
            "key": upload.key,
            "size": stored.size,
            "etag": stored.etag,
            "status": FILE_STATUS_STORED,
            "stored_at": to_timestamp(stored.stored_at),
            "updated_at": to_timestamp(updated_at),
            "s3_sequencer": stored.sequencer,
        }
        if stored.version_id is not None:
            attributes["version_id"] = stored.version_id
        # Placeholders for every name: "key", "size" and "status" are DynamoDB reserved words.
        names = {f"#{name}": name for name in attributes}
        values = {f":{name}": value for name, value in attributes.items()}
        update = "SET " + ", ".join(f"#{name} = :{name}" for name in attributes)
        if stored.version_id is None:
            names["#version_id"] = "version_id"
            update += " REMOVE #version_id"
        try:
            self._table.update_item(
                Key=file_item_key(upload.user_id, upload.file_id),
                UpdateExpression=update,
                ConditionExpression=_NEWER_EVENT_CONDITION,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True
