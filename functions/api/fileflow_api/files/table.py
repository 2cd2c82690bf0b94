"""DynamoDB adapter of FileIndex: the reads of queries.py, and the writes (tags, tombstone, clean-up).

Tags are replaced in one transaction with their ``TAG#`` items, conditional on the version read. Delete
writes a tombstone over the file item (only one request can), then purges the file's jobs, events, webhook
delivery pointers, tags and upload session, and last strips what the tombstone kept for that purge
(docs/files-api.md, "Delete").
"""

from __future__ import annotations

import contextlib
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from boto3.dynamodb.conditions import Key
from boto3.dynamodb.types import TypeDeserializer

from fileflow_api.files.errors import UnknownFileError
from fileflow_api.files.items import file_from_item
from fileflow_api.files.model import FileRecord, Tombstoned, TombstoneState
from fileflow_api.files.queries import DynamoFileQueries
from fileflow_common.clock import to_timestamp, utc_now
from fileflow_common.dynamo import failed_conditions
from fileflow_common.errors import InvalidIdentifierError
from fileflow_common.files import FileStatus
from fileflow_common.pipeline import EVENT_PREFIX
from fileflow_common.table import (
    DELETED_AT,
    JOB_PREFIX,
    PARTITION_KEY,
    SORT_KEY,
    file_item_key,
    tag_item_key,
    upload_session_item_key,
)
from fileflow_common.webhooks.items import DELIVERY_PREFIX

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

# What a tombstone keeps until the clean-up is done (then only the ids, `deleted_at` and the TTL).
_REMEMBERED_FOR_PURGE = ("tags", "created_at", "upload_id", "key")
# Everything else the upload API and the processor write goes with the delete.
_FORGOTTEN_ON_DELETE = (
    "gsi1pk",
    "gsi1sk",
    "gsi2pk",
    "gsi2sk",
    "gsi3pk",
    "gsi3sk",
    "filename",
    "name_key",
    "content_type",
    "sha256",
    "integrity",
    "integrity_source_object",
    "size",
    "etag",
    "version_id",
    "checksum",
    "checksum_algorithm",
    "checksum_type",
    "analysis",
    "derivatives",
    "detected_type",
    "detected_kind",
    "type_mismatch",
    "processing_error",
    "processing_job_id",
    "processing_updated_at",
    "stored_at",
    "s3_sequencer",
    "source_object",
    "declared_at",
    "uploaded_at",
    "updated_at",
    "quota_bytes",
    "tags_version",
    "stage",
    "stage_state",
    "stage_updated_at",
    "stage_cursor",
    "execution_arn",
    "correlation_id",
    "priority",
    "callback_url",
    "analysis_mode",
)


class DynamoFileIndex(DynamoFileQueries):
    def __init__(self, table: Table) -> None:
        super().__init__(table)
        self._deserializer = TypeDeserializer()

    # --- writes --------------------------------------------------------------------------------------------

    def replace_tags(self, file: FileRecord, tags: tuple[str, ...]) -> FileRecord | None:
        version = file.tags_version
        created = file.created_at or "0"
        names = {
            "#tags": "tags",
            "#version": "tags_version",
            "#deleted_at": DELETED_AT,
            "#updated": "updated_at",
        }
        values: dict[str, Any] = {":tags": list(tags), ":next": version + 1, ":now": to_timestamp(utc_now())}
        if version == 0:
            version_condition = "attribute_not_exists(#version)"
        else:
            version_condition = "#version = :version"
            values[":version"] = version
        added, removed = set(tags) - set(file.tags), set(file.tags) - set(tags)
        table = self._table.name
        actions: list[dict[str, Any]] = [
            {
                "Update": {
                    "TableName": table,
                    "Key": file_item_key(file.user_id, file.file_id),
                    "UpdateExpression": "SET #tags = :tags, #version = :next, #updated = :now",
                    "ConditionExpression": f"attribute_exists(pk) AND attribute_not_exists(#deleted_at)"
                    f" AND {version_condition}",
                    "ExpressionAttributeNames": names,
                    "ExpressionAttributeValues": values,
                }
            },
            *(
                {
                    "Put": {
                        "TableName": table,
                        "Item": {
                            **tag_item_key(file.user_id, tag, created, file.file_id),
                            "entity": "file_tag",
                            "user_id": file.user_id,
                            "file_id": file.file_id,
                            "tag": tag,
                        },
                    }
                }
                for tag in sorted(added)
            ),
            *(
                {
                    "Delete": {
                        "TableName": table,
                        "Key": tag_item_key(file.user_id, tag, created, file.file_id),
                    }
                }
                for tag in sorted(removed)
            ),
        ]
        client = self._table.meta.client
        try:
            client.transact_write_items(TransactItems=actions)  # type: ignore[arg-type]
        except client.exceptions.TransactionCanceledException as exc:
            (file_refused,) = failed_conditions(exc, 1)
            if not file_refused:
                raise
            if self.get(file.user_id, file.file_id) is None:
                raise UnknownFileError(f"no file {file.file_id!r}") from exc
            return None  # another writer changed the tags first
        return replace(file, tags=tags, tags_version=version + 1)

    def tombstone(self, user_id: str, file_id: str, *, at: datetime, expires_at: datetime) -> Tombstoned:
        names = {f"#{name}": name for name in _FORGOTTEN_ON_DELETE}
        names |= {"#status": "status", "#deleted_at": DELETED_AT, "#expires_at": "expires_at"}
        refused = self._table.meta.client.exceptions.ConditionalCheckFailedException
        try:
            response = self._table.update_item(
                Key=file_item_key(user_id, file_id),
                UpdateExpression="SET #status = :deleted, #deleted_at = :at, #expires_at = :expires REMOVE "
                + ", ".join(f"#{name}" for name in _FORGOTTEN_ON_DELETE),
                ConditionExpression="attribute_exists(pk) AND attribute_not_exists(#deleted_at)"
                " AND (attribute_not_exists(#status) OR #status <> :uploading)",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues={
                    ":deleted": "deleted",
                    ":at": to_timestamp(at),
                    ":expires": int(expires_at.timestamp()),
                    ":uploading": FileStatus.UPLOADING.value,
                },
                ReturnValues="ALL_OLD",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except refused as exc:
            raw = cast(dict[str, Any] | None, exc.response.get("Item"))
            if raw is None:
                return Tombstoned(TombstoneState.MISSING, None)
            old = {name: self._deserializer.deserialize(value) for name, value in raw.items()}
            if DELETED_AT in old:
                remembered = None if "purged_at" in old else file_from_item(old)
                return Tombstoned(TombstoneState.ALREADY_DELETED, remembered)
            return Tombstoned(TombstoneState.UPLOADING, file_from_item(old))
        return Tombstoned(TombstoneState.DELETED, file_from_item(response["Attributes"]))

    def purge(self, file: FileRecord) -> None:
        keys: list[dict[str, str]] = []
        # The file's partition holds its jobs, its workflow's events (fileflow_common.pipeline) and its
        # webhook deliveries' pointers (fileflow_common.webhooks.items; the deliveries expire on their own).
        records = self._query_all(
            KeyConditionExpression=Key(PARTITION_KEY).eq(f"FILE#{file.file_id}"),
            ConsistentRead=True,
            ProjectionExpression="pk, sk, user_id",
        )
        keys += [
            {PARTITION_KEY: record[PARTITION_KEY], SORT_KEY: record[SORT_KEY]}
            for record in records
            if str(record[SORT_KEY]).startswith((JOB_PREFIX, EVENT_PREFIX, DELIVERY_PREFIX))
            and record.get("user_id") == file.user_id
        ]
        if file.created_at is not None:
            keys += [tag_item_key(file.user_id, tag, file.created_at, file.file_id) for tag in file.tags]
        if file.upload_id is not None:
            with contextlib.suppress(InvalidIdentifierError):
                keys.append(upload_session_item_key(file.user_id, file.upload_id))
        with self._table.batch_writer() as batch:
            for key in keys:
                batch.delete_item(Key=key)

    def tombstone_purged(self, user_id: str, file_id: str, *, at: datetime) -> None:
        # Refused: the tombstone's TTL ran out, and nothing is left to strip.
        with contextlib.suppress(self._table.meta.client.exceptions.ConditionalCheckFailedException):
            self._table.update_item(
                Key=file_item_key(user_id, file_id),
                UpdateExpression="SET purged_at = :at REMOVE "
                + ", ".join(f"#{n}" for n in _REMEMBERED_FOR_PURGE),
                ConditionExpression="attribute_exists(#deleted_at)",
                ExpressionAttributeNames={
                    "#deleted_at": DELETED_AT,
                    **{f"#{name}": name for name in _REMEMBERED_FOR_PURGE},
                },
                ExpressionAttributeValues={":at": to_timestamp(at)},
            )
