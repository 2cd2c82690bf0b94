"""DynamoDB adapters: the file item (only the processor's attributes) and the processing jobs.

Every write is an UpdateItem with a condition, so attributes other writers own (the upload API's
filename, declared content type, sha256, ...) are never touched, and no write goes backwards.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from botocore.exceptions import ClientError

from fileflow_common.clock import to_timestamp
from fileflow_common.dynamo import from_dynamo, is_condition_failure, update_expression
from fileflow_common.keys import UploadKey
from fileflow_common.table import DELETED_AT, file_item_key, file_status_attributes, job_item_key
from fileflow_processor.jobs import Job, JobError, JobStatus, ObjectVersion, Task
from fileflow_processor.processing import DeclaredFile, FileDeletedError, FileProcessingState
from fileflow_processor.stored_objects import Recorded, StoredObject

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

# A later sequencer wins. An equal one is the same event (a redelivery) unless the object differs:
# real S3 never reuses a sequencer, but LocalStack sends one constant sequencer for every event.
# A deleted file's tombstone (`deleted_at`, DELETE /v1/files/{id}) is never written back to life.
_NOT_DELETED = f"attribute_not_exists({DELETED_AT})"
_NEWER_EVENT_CONDITION = (
    f"{_NOT_DELETED} AND (attribute_not_exists(s3_sequencer) OR s3_sequencer < :s3_sequencer"
    " OR (s3_sequencer = :s3_sequencer"
    " AND (attribute_not_exists(source_object) OR source_object <> :source_object)))"
)


class DynamoFileRepository:
    def __init__(self, table: Table) -> None:
        self._table = table

    def record_stored_object(self, stored: StoredObject, *, updated_at: datetime) -> Recorded:
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
        }
        if stored.version_id is not None:
            attributes["version_id"] = stored.version_id
        expression, names, values = update_expression(
            attributes, remove=() if stored.version_id else ("version_id",)
        )
        try:
            self._table.update_item(
                Key=file_item_key(upload.user_id, upload.file_id),
                UpdateExpression=expression,
                ConditionExpression=_NEWER_EVENT_CONDITION,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if not is_condition_failure(exc):
                raise
            old = cast(dict[str, Any] | None, exc.response.get("Item"))  # DynamoDB JSON: {"S": ...}
            if old is not None and DELETED_AT in old:
                return Recorded.DELETED
            current = old.get("source_object", {}).get("S") if old else self._source_object(upload)
            return Recorded.SAME if current == source_object else Recorded.SUPERSEDED
        return Recorded.NEW

    def _source_object(self, upload: UploadKey) -> str | None:
        item = self._table.get_item(
            Key=file_item_key(upload.user_id, upload.file_id), ConsistentRead=True
        ).get("Item")
        return str(item["source_object"]) if item and "source_object" in item else None

    def declared(self, upload: UploadKey) -> DeclaredFile:
        item = (
            self._table.get_item(
                Key=file_item_key(upload.user_id, upload.file_id),
                ConsistentRead=True,
                ProjectionExpression="#content_type, #filename",
                ExpressionAttributeNames={"#content_type": "content_type", "#filename": "filename"},
            ).get("Item")
            or {}
        )
        content_type, filename = item.get("content_type"), item.get("filename")
        return DeclaredFile(
            content_type=content_type if isinstance(content_type, str) else None,
            filename=filename if isinstance(filename, str) else None,
        )

    def record_processing(self, upload: UploadKey, source: ObjectVersion, state: FileProcessingState) -> bool:
        """Update only the processor's attributes, and only while the item describes `source`."""
        attributes: dict[str, Any] = {
            # The status and its index partition (gsi2, the API's listing by status) move together.
            **file_status_attributes(upload.user_id, state.status.value),
            "detected_type": state.detected_type,
            "detected_kind": state.detected_kind.value,
            "processing_job_id": state.job_id,
            "derivatives": state.derivatives,
            "analysis": state.analysis,
            "processing_updated_at": to_timestamp(state.at),
        }
        optional = {
            "type_mismatch": state.type_mismatch or None,
            "processing_error": state.error.describe() if state.error else None,
        }
        attributes |= {name: value for name, value in optional.items() if value is not None}
        remove = tuple(name for name, value in optional.items() if value is None)
        expression, names, values = update_expression(attributes, remove=remove)
        names["#source_object"] = "source_object"
        values[":source_object"] = source.source_tag
        try:
            self._table.update_item(
                Key=file_item_key(upload.user_id, upload.file_id),
                UpdateExpression=expression,
                ConditionExpression=f"{_NOT_DELETED} AND #source_object = :source_object",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if not is_condition_failure(exc):
                raise
            old = cast(dict[str, Any] | None, exc.response.get("Item"))
            if old is None or DELETED_AT in old:
                raise FileDeletedError(f"file {upload.file_id} was deleted") from exc
            return False
        return True


def _job_from_item(item: dict[str, Any]) -> Job:
    error = item.get("error")
    return Job(
        job_id=item["job_id"],
        task=Task(item["task"]),
        status=JobStatus(item["status"]),
        user_id=item["user_id"],
        file_id=item["file_id"],
        source=ObjectVersion(
            bucket=item["bucket"], key=item["key"], version_id=item.get("version_id"), etag=item["etag"]
        ),
        detected_type=item["detected_type"],
        queued_at=datetime.fromisoformat(item["queued_at"]),
        started_at=datetime.fromisoformat(item["started_at"]) if item.get("started_at") else None,
        ended_at=datetime.fromisoformat(item["ended_at"]) if item.get("ended_at") else None,
        attempts=int(item.get("attempts", 0)),
        error=JobError(error["code"], error["message"], bool(error.get("retryable"))) if error else None,
        result=from_dynamo(item.get("result", {})),
    )


class DynamoJobRepository:
    """Jobs: `FILE#{file_id}` / `JOB#{job_id}`; transitions are conditional updates."""

    def __init__(self, table: Table) -> None:
        self._table = table

    def get(self, file_id: str, job_id: str) -> Job | None:
        item = self._table.get_item(Key=job_item_key(file_id, job_id), ConsistentRead=True).get("Item")
        return _job_from_item(item) if item else None

    def create(self, job: Job) -> None:
        source = job.source
        item: dict[str, Any] = {
            **job_item_key(job.file_id, job.job_id),
            "entity": "job",
            "job_id": job.job_id,
            "task": job.task.value,
            "status": JobStatus.QUEUED.value,
            "user_id": job.user_id,
            "file_id": job.file_id,
            "bucket": source.bucket,
            "key": source.key,
            "etag": source.etag,
            "detected_type": job.detected_type,
            "queued_at": to_timestamp(job.queued_at),
            "attempts": 0,
        }
        if source.version_id is not None:
            item["version_id"] = source.version_id
        # One transaction: the job is created only while its file is not deleted, so a job record never
        # outlives a DELETE /v1/files/{id} that ran meanwhile (the API deletes the jobs it finds after).
        try:
            self._table.meta.client.transact_write_items(
                TransactItems=[
                    {
                        "ConditionCheck": {
                            "TableName": self._table.name,
                            "Key": file_item_key(job.user_id, job.file_id),
                            "ConditionExpression": _NOT_DELETED,
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
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            reasons: list[dict[str, Any]] = list(exc.response.get("CancellationReasons") or [{}, {}])  # type: ignore[arg-type]
            file_check, job_put = (reason.get("Code") for reason in [*reasons, {}, {}][:2])
            if file_check == "ConditionalCheckFailed":
                raise FileDeletedError(f"file {job.file_id} was deleted") from exc
            if job_put != "ConditionalCheckFailed":
                raise
            # else the job exists already (a redelivery)

    def start(self, job: Job, *, at: datetime) -> Job | None:
        try:
            response = self._table.update_item(
                Key=job_item_key(job.file_id, job.job_id),
                UpdateExpression=(
                    "SET #status = :running, started_at = :at,"
                    " attempts = if_not_exists(attempts, :zero) + :one"
                    " REMOVE ended_at, #error"
                ),
                ConditionExpression=(
                    "#status IN (:queued, :running) OR (#status = :failed AND #error.retryable = :true)"
                ),
                ExpressionAttributeNames={"#status": "status", "#error": "error"},
                ExpressionAttributeValues={
                    ":running": JobStatus.RUNNING.value,
                    ":queued": JobStatus.QUEUED.value,
                    ":failed": JobStatus.FAILED.value,
                    ":true": True,
                    ":at": to_timestamp(at),
                    ":zero": 0,
                    ":one": 1,
                },
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                return None
            raise
        return _job_from_item(dict(response["Attributes"]))

    def finish(
        self,
        job: Job,
        *,
        status: JobStatus,
        at: datetime,
        result: dict[str, Any],
        error: JobError | None,
    ) -> None:
        attributes: dict[str, Any] = {"status": status.value, "ended_at": to_timestamp(at), "result": result}
        if error is not None:
            attributes["error"] = error.describe()
        expression, names, values = update_expression(attributes, remove=() if error else ("error",))
        values[":running"] = JobStatus.RUNNING.value
        try:
            self._table.update_item(
                Key=job_item_key(job.file_id, job.job_id),
                UpdateExpression=expression,
                ConditionExpression="#status = :running",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except ClientError as exc:
            if not is_condition_failure(exc):
                raise
            # Another delivery finished it first: its outcome stands.
