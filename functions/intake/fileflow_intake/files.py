"""DynamoDB adapter of the intake: the stored object's S3 facts on the file item, and the queued job.

The upsert is conditional: a later sequencer wins, an equal one is the same event (a redelivery) unless
the object differs (real S3 never reuses a sequencer, but LocalStack sends one constant sequencer), and
a deleted file's tombstone (`deleted_at`, DELETE /v1/files/{id}) is never written back to life.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from fileflow_common.clock import to_timestamp
from fileflow_common.dynamo import failed_conditions, update_expression
from fileflow_common.errors import FileDeletedError as FileDeletedError  # test_files_api imports it here
from fileflow_common.keys import UploadKey
from fileflow_common.lanes import priority_of
from fileflow_common.table import (
    DELETED_AT,
    NOT_DELETED,
    file_item_key,
    job_item_key,
    upload_session_item_key,
)
from fileflow_intake.stored_objects import (
    FileUpload,
    ObjectFacts,
    Recorded,
    RecordedObject,
    SessionStatus,
    StoredObject,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

_NEWER_EVENT_CONDITION = (
    f"{NOT_DELETED} AND (attribute_not_exists(s3_sequencer) OR s3_sequencer < :s3_sequencer"
    " OR (s3_sequencer = :s3_sequencer"
    " AND (attribute_not_exists(source_object) OR source_object <> :source_object)))"
)
# The job of a version whose type is not detected yet (the detect stage sets its task).
QUEUED_TASK = "detection"


class DynamoIntakeRecords:
    def __init__(self, table: Table) -> None:
        self._table = table
        self._errors = table.meta.client.exceptions

    def upload_of(self, upload: UploadKey) -> FileUpload:
        """The file item, then the upload session it names (``USER#{u}`` / ``UPLOAD#{upload_id}``)."""
        item = self._table.get_item(
            Key=file_item_key(upload.user_id, upload.file_id), ConsistentRead=True
        ).get("Item")
        if item is None:
            return FileUpload()
        if DELETED_AT in item:
            return FileUpload(file_deleted=True)
        recorded = _facts(item.get("etag"), item.get("version_id"))
        upload_id = item.get("upload_id")
        if not upload_id:
            return FileUpload(recorded=recorded)
        session = self._table.get_item(
            Key=upload_session_item_key(upload.user_id, str(upload_id)), ConsistentRead=True
        ).get("Item")
        if session is None:
            return FileUpload(upload_id=str(upload_id), recorded=recorded)
        status = SessionStatus(str(session["status"]))
        completed = None
        if status is SessionStatus.COMPLETED:
            completed = _facts(session.get("etag"), session.get("result_version_id"))
        return FileUpload(upload_id=str(upload_id), status=status, completed=completed, recorded=recorded)

    def record_stored_object(self, stored: StoredObject, *, updated_at: datetime) -> RecordedObject:
        """Conditional upsert of the object's S3 facts; SAME / SUPERSEDED when the item is as new or newer."""
        upload = stored.upload
        source_object = stored.version.source_tag
        attributes: dict[str, str | int] = {
            "entity": "file",
            "user_id": upload.user_id,
            "file_id": upload.file_id,
            "key": upload.key,
            "size": stored.size,
            "etag": stored.etag,
            "stored_at": to_timestamp(stored.stored_at),
            "updated_at": to_timestamp(updated_at),
            "s3_sequencer": stored.sequencer,
            "source_object": source_object,
            "processing_job_id": stored.version.job_id,
        }
        if stored.version_id is not None:
            attributes["version_id"] = stored.version_id
        expression, names, values = update_expression(
            attributes, remove=() if stored.version_id else ("version_id",)
        )
        try:
            response = self._table.update_item(
                Key=file_item_key(upload.user_id, upload.file_id),
                UpdateExpression=expression,
                ConditionExpression=_NEWER_EVENT_CONDITION,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except self._errors.ConditionalCheckFailedException as exc:
            old = cast(dict[str, Any] | None, exc.response.get("Item"))  # DynamoDB JSON: {"S": ...}
            if old is not None and DELETED_AT in old:
                return RecordedObject(Recorded.DELETED)
            current = old.get("source_object", {}).get("S") if old else self._source_object(upload)
            correlation_id = old.get("correlation_id", {}).get("S") if old else None
            priority = priority_of(old.get("priority", {}).get("N") if old else None)
            recorded = Recorded.SAME if current == source_object else Recorded.SUPERSEDED
            return RecordedObject(recorded, correlation_id, priority)
        new = response.get("Attributes", {})
        correlation = new.get("correlation_id")
        return RecordedObject(
            Recorded.NEW, str(correlation) if correlation else None, priority_of(new.get("priority"))
        )

    def _source_object(self, upload: UploadKey) -> str | None:
        item = self._table.get_item(
            Key=file_item_key(upload.user_id, upload.file_id), ConsistentRead=True
        ).get("Item")
        return str(item["source_object"]) if item and "source_object" in item else None

    def queue_job(self, stored: StoredObject, *, correlation_id: str | None, at: datetime) -> None:
        """The version's job, queued, unless it exists; FileDeletedError if its file was deleted."""
        version = stored.version
        item: dict[str, Any] = {
            **job_item_key(stored.upload.file_id, version.job_id),
            "entity": "job",
            "job_id": version.job_id,
            "task": QUEUED_TASK,
            "status": "queued",
            "user_id": stored.upload.user_id,
            "file_id": stored.upload.file_id,
            "bucket": version.bucket,
            "key": version.key,
            "etag": version.etag,
            "detected_type": "application/octet-stream",
            "queued_at": to_timestamp(at),
            "attempts": 0,
            "result": {},
        }
        if version.version_id is not None:
            item["version_id"] = version.version_id
        if correlation_id:
            item["correlation_id"] = correlation_id
        # One transaction: a job never outlives a DELETE /v1/files/{id} that ran meanwhile.
        try:
            self._table.meta.client.transact_write_items(
                TransactItems=[
                    {
                        "ConditionCheck": {
                            "TableName": self._table.name,
                            "Key": file_item_key(stored.upload.user_id, stored.upload.file_id),
                            "ConditionExpression": NOT_DELETED,
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
        except self._errors.TransactionCanceledException as exc:
            file_deleted, job_exists = failed_conditions(exc, 2)
            if file_deleted:
                raise FileDeletedError(f"file {stored.upload.file_id} was deleted") from exc
            if not job_exists:
                raise
            # else the job exists already (a redelivery)


def _facts(etag: object, version_id: object) -> ObjectFacts | None:
    if etag is None and version_id is None:
        return None
    return ObjectFacts(
        etag=str(etag) if etag is not None else None,
        version_id=str(version_id) if version_id is not None else None,
    )
