"""DynamoDB adapter of the stages: the file item's processing attributes, the job, the stage events.

Every write is conditional: a deleted file (its tombstone, `deleted_at`) is never written back to life,
the processing attributes are written only while the item still describes the version being processed,
and a job never moves backwards.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from fileflow_common.clock import to_timestamp
from fileflow_common.dynamo import failed_conditions, from_dynamo, to_dynamo, update_expression
from fileflow_common.errors import FileDeletedError
from fileflow_common.keys import UploadKey
from fileflow_common.pipeline import ObjectVersion, StageEvent, event_item
from fileflow_common.reviews import ReviewStatus, index_attributes, review_item_key
from fileflow_common.table import DELETED_AT, NOT_DELETED, file_item_key, file_status_attributes, job_item_key
from fileflow_stages._runtime.jobs import Job, JobError, JobStatus, Task
from fileflow_stages._runtime.state import DeclaredFile, FileProcessingState

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


class DynamoRecords:
    """The file item, the file's job and its events, in the one metadata table."""

    def __init__(self, table: Table) -> None:
        self._table = table
        self._errors = table.meta.client.exceptions

    # --- the file item -------------------------------------------------------------------------------
    def declared(self, upload: UploadKey) -> DeclaredFile:
        names = ("content_type", "filename", "sha256", "upload_id", "callback_url", "analysis_mode")
        item = (
            self._table.get_item(
                Key=file_item_key(upload.user_id, upload.file_id),
                ConsistentRead=True,
                ProjectionExpression=", ".join(f"#{name}" for name in (*names, DELETED_AT)),
                ExpressionAttributeNames={f"#{name}": name for name in (*names, DELETED_AT)},
            ).get("Item")
            or {}
        )
        if DELETED_AT in item:
            raise FileDeletedError(f"file {upload.file_id} was deleted")
        values = {name: item.get(name) for name in names}
        return DeclaredFile(**{name: value for name, value in values.items() if isinstance(value, str)})

    def record_processing(self, upload: UploadKey, source: ObjectVersion, state: FileProcessingState) -> bool:
        """Update only the processing attributes, and only while the item describes `source`."""
        attributes: dict[str, Any] = {
            # The status and its index partition (gsi2, the API's listing by status) move together.
            **file_status_attributes(upload.user_id, state.status.value),
            "detected_type": state.detected_type,
            "detected_kind": state.detected_kind.value,
            "processing_job_id": state.job_id,
            "processing_updated_at": to_timestamp(state.at),
        }
        if state.final:
            attributes |= {"derivatives": state.derivatives, "analysis": state.analysis}
        optional = {
            "type_mismatch": state.type_mismatch or None,
            "processing_error": state.error.describe() if state.error else None,
        }
        attributes |= {name: value for name, value in optional.items() if value is not None}
        remove = tuple(name for name, value in optional.items() if value is None)
        if state.review is not None:
            attributes["review"] = state.review
        if state.integrity is not None:
            # Named with its version: the API shows it only while the item still describes that one.
            attributes |= {"integrity": state.integrity.value, "integrity_source_object": source.source_tag}
        expression, names, values = update_expression(attributes, remove=remove)
        names["#source_object"] = "source_object"
        values[":source_object"] = source.source_tag
        try:
            self._table.update_item(
                Key=file_item_key(upload.user_id, upload.file_id),
                UpdateExpression=expression,
                ConditionExpression=f"{NOT_DELETED} AND #source_object = :source_object",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except self._errors.ConditionalCheckFailedException as exc:
            old = cast(dict[str, Any] | None, exc.response.get("Item"))
            if old is None or DELETED_AT in old:
                raise FileDeletedError(f"file {upload.file_id} was deleted") from exc
            return False
        return True

    def record_review(self, upload: UploadKey, source: ObjectVersion, review: dict[str, Any]) -> bool:
        """The file item's `review` state (what its owner sees), only while the item describes `source`."""
        try:
            self._table.update_item(
                Key=file_item_key(upload.user_id, upload.file_id),
                UpdateExpression="SET #review = :review",
                ConditionExpression=f"{NOT_DELETED} AND #source_object = :source_object",
                ExpressionAttributeNames={"#review": "review", "#source_object": "source_object"},
                ExpressionAttributeValues={":review": to_dynamo(review), ":source_object": source.source_tag},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except self._errors.ConditionalCheckFailedException as exc:
            old = cast(dict[str, Any] | None, exc.response.get("Item"))
            if old is None or DELETED_AT in old:
                raise FileDeletedError(f"file {upload.file_id} was deleted") from exc
            return False
        return True

    # --- reviews (fileflow_common.reviews) ---------------------------------------------------------------
    def open_review(self, item: dict[str, Any], *, task_token: str) -> bool:
        """Create the review (or give a pending one the retried task's token); False once it is closed."""
        attributes = {**item, "task_token": task_token}
        expression, names, values = update_expression(
            {name: value for name, value in attributes.items() if name not in ("pk", "sk")},
            keep_existing=frozenset({"created_at", "gsi1sk"}),
        )
        names["#pk"] = "pk"
        values[":pending"] = ReviewStatus.PENDING.value
        try:
            self._table.update_item(
                Key=review_item_key(item["review_id"]),
                UpdateExpression=expression,
                ConditionExpression="attribute_not_exists(#pk) OR #status = :pending",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except self._errors.ConditionalCheckFailedException:
            return False
        return True

    def escalate_review(self, review_id: str, *, task_token: str, at: str) -> bool:
        """Flag the review escalated and wait on the new task's token; False when it is gone or expired.

        Only the timeout path escalates: a review that is `decided` here is a decision whose SendTaskSuccess
        came too late (TaskTimedOut), which the API takes back, so the timeout path may take it over.
        """
        attributes = {**index_attributes(ReviewStatus.ESCALATED, at, review_id), "task_token": task_token}
        attributes |= {"escalated_at": at, "updated_at": at}
        expression, names, values = update_expression(
            attributes, remove=("decision", "reviewer", "decided_at", "changes", "note")
        )
        names["#pk"] = "pk"
        values[":expired"] = ReviewStatus.EXPIRED.value
        try:
            self._table.update_item(
                Key=review_item_key(review_id),
                UpdateExpression=expression,
                ConditionExpression="attribute_exists(#pk) AND #status <> :expired",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except self._errors.ConditionalCheckFailedException:
            return False
        return True

    def expire_review(
        self, review_id: str, *, decision: str, reviewer: str, at: str
    ) -> dict[str, Any] | None:
        """Close the review by the timeout rule (idempotent); None when there is no such review."""
        attributes = {
            **index_attributes(ReviewStatus.EXPIRED, at, review_id),
            "decision": decision,
            "reviewer": reviewer,
            "decided_at": at,
            "updated_at": at,
        }
        expression, names, values = update_expression(attributes, remove=("task_token", "changes", "note"))
        names["#pk"] = "pk"
        try:
            response = self._table.update_item(
                Key=review_item_key(review_id),
                UpdateExpression=expression,
                ConditionExpression="attribute_exists(#pk)",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        except self._errors.ConditionalCheckFailedException:
            return None
        return cast(dict[str, Any], from_dynamo(response["Attributes"]))

    def get_review(self, review_id: str) -> dict[str, Any] | None:
        item = self._table.get_item(Key=review_item_key(review_id), ConsistentRead=True).get("Item")
        return cast(dict[str, Any], from_dynamo(item)) if item else None

    # --- stage events ----------------------------------------------------------------------------------
    def record_stage(
        self,
        upload: UploadKey,
        event: StageEvent,
        *,
        execution_arn: str | None,
        source: ObjectVersion | None = None,
    ) -> None:
        """Append the event and move the file item's current stage, in one transaction.

        A deleted file gets neither (FileDeletedError). The current stage moves only while the item
        describes `source` (an older version's workflow never takes over the file's live status).
        """
        stage_attributes: dict[str, Any] = {
            "stage": event.stage.value,
            "stage_state": event.state.value,
            "stage_updated_at": to_timestamp(event.at),
            "stage_cursor": event.cursor,
        }
        if execution_arn:
            stage_attributes["execution_arn"] = execution_arn
        expression, names, values = update_expression(stage_attributes)
        names["#deleted_at"] = DELETED_AT
        names["#pk"] = "pk"
        same_version = ""
        if source is not None:
            names["#source_object"] = "source_object"
            values[":source_object"] = source.source_tag
            same_version = " AND #source_object = :source_object"
        try:
            self._table.meta.client.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": self._table.name,
                            "Key": file_item_key(upload.user_id, upload.file_id),
                            "UpdateExpression": expression,
                            # Never an older event over a newer one (a retried stage writes again).
                            "ConditionExpression": (
                                "attribute_exists(#pk) AND attribute_not_exists(#deleted_at)"
                                " AND (attribute_not_exists(stage_cursor) OR stage_cursor <= :stage_cursor)"
                                + same_version
                            ),
                            "ExpressionAttributeNames": names,
                            "ExpressionAttributeValues": values,
                        }
                    },
                    {"Put": {"TableName": self._table.name, "Item": to_dynamo(event_item(event))}},
                ]
            )
        except self._errors.TransactionCanceledException as exc:
            stage_refused, _ = failed_conditions(exc, 2)
            if not stage_refused:
                raise
            current = self._table.get_item(
                Key=file_item_key(upload.user_id, upload.file_id), ConsistentRead=True
            ).get("Item")
            if current is None or DELETED_AT in current:
                raise FileDeletedError(f"file {upload.file_id} was deleted") from exc
            # A newer event (or version) is recorded already: keep the history, leave the stage alone.
            self._table.put_item(Item=to_dynamo(event_item(event)))

    # --- the job -----------------------------------------------------------------------------------------
    def get_job(self, file_id: str, job_id: str) -> Job | None:
        item = self._table.get_item(Key=job_item_key(file_id, job_id), ConsistentRead=True).get("Item")
        return job_from_item(item) if item else None

    def start_job(self, job: Job, *, task: Task, detected_type: str, at: datetime) -> Job | None:
        """queued/running (or failed for lack of retries) -> running; None when it is terminal."""
        try:
            response = self._table.update_item(
                Key=job_item_key(job.file_id, job.job_id),
                UpdateExpression=(
                    "SET #status = :running, started_at = :at, task = :task, detected_type = :detected,"
                    " attempts = if_not_exists(attempts, :zero) + :one,"
                    " #result = if_not_exists(#result, :empty)"
                    " REMOVE ended_at, #error"
                ),
                ConditionExpression=(
                    "#status IN (:queued, :running) OR (#status = :failed AND #error.retryable = :true)"
                ),
                ExpressionAttributeNames={"#status": "status", "#error": "error", "#result": "result"},
                ExpressionAttributeValues={
                    ":empty": {},
                    ":running": JobStatus.RUNNING.value,
                    ":queued": JobStatus.QUEUED.value,
                    ":failed": JobStatus.FAILED.value,
                    ":true": True,
                    ":at": to_timestamp(at),
                    ":task": task.value,
                    ":detected": detected_type,
                    ":zero": 0,
                    ":one": 1,
                },
                ReturnValues="ALL_NEW",
            )
        except self._errors.ConditionalCheckFailedException:
            return None
        return job_from_item(dict(response["Attributes"]))

    def merge_job_result(self, job: Job, result: dict[str, Any]) -> None:
        """Add a stage's part to the running job's result (each stage owns its top-level names)."""
        if not result:
            return
        names = {f"#r{index}": name for index, name in enumerate(result)}
        values = {f":r{index}": to_dynamo(value) for index, value in enumerate(result.values())}
        sets = ", ".join(f"#result.#r{index} = :r{index}" for index in range(len(result)))
        try:
            self._table.update_item(
                Key=job_item_key(job.file_id, job.job_id),
                UpdateExpression=f"SET {sets}",
                ConditionExpression="#status = :running AND attribute_exists(#result)",
                ExpressionAttributeNames={**names, "#status": "status", "#result": "result"},
                ExpressionAttributeValues={**values, ":running": JobStatus.RUNNING.value},
            )
        except self._errors.ConditionalCheckFailedException as exc:
            raise FileDeletedError(f"job {job.job_id} is no longer running") from exc

    def finish_job(
        self, job: Job, *, status: JobStatus, at: datetime, result: dict[str, Any], error: JobError | None
    ) -> None:
        """running (or queued: a file rejected before it started) -> a terminal status."""
        attributes: dict[str, Any] = {"status": status.value, "ended_at": to_timestamp(at), "result": result}
        if error is not None:
            attributes["error"] = error.describe()
        expression, names, values = update_expression(attributes, remove=() if error else ("error",))
        values[":running"] = JobStatus.RUNNING.value
        values[":queued"] = JobStatus.QUEUED.value
        # Already terminal (a retried finalize): its outcome stands.
        with suppress(self._errors.ConditionalCheckFailedException):
            self._table.update_item(
                Key=job_item_key(job.file_id, job.job_id),
                UpdateExpression=expression,
                ConditionExpression="#status IN (:running, :queued)",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )


def job_from_item(item: dict[str, Any]) -> Job:
    error = item.get("error")
    return Job(
        job_id=item["job_id"],
        task=Task(item.get("task", Task.TYPE_CHECK.value)),
        status=JobStatus(item["status"]),
        user_id=item["user_id"],
        file_id=item["file_id"],
        source=ObjectVersion(
            bucket=item["bucket"], key=item["key"], version_id=item.get("version_id"), etag=item["etag"]
        ),
        detected_type=item.get("detected_type", "application/octet-stream"),
        queued_at=datetime.fromisoformat(item["queued_at"]),
        started_at=datetime.fromisoformat(item["started_at"]) if item.get("started_at") else None,
        ended_at=datetime.fromisoformat(item["ended_at"]) if item.get("ended_at") else None,
        attempts=int(item.get("attempts", 0)),
        error=JobError(error["code"], error["message"], bool(error.get("retryable"))) if error else None,
        result=from_dynamo(item.get("result", {})),
    )
