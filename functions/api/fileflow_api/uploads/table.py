"""DynamoDB adapters of UploadSessionStore and FileCatalog (the single MetadataTable).

Session items: ``USER#{user_id}`` / ``UPLOAD#{upload_id}``. While a session is initiated it carries
``gsi1pk = "UPLOADS#initiated"`` and ``gsi1sk = <expiry timestamp>``, so the sweeper finds expired
sessions with one query of the sparse index `gsi1`; leaving `initiated` removes both attributes, except
for an expiry: the sweeper moves it to ``gsi1pk = "UPLOADS#expired_unannounced"`` until its
`upload.expired` event is queued (`announced`), so an event whose send failed is found and sent again.
``expires_at`` (epoch seconds) is the table's TTL attribute: a week after the session's expiry, so the
sweeper has long finished with a session before DynamoDB deletes it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import suppress
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import Attr, ConditionBase, Key

from fileflow_api.uploads.model import (
    DEFAULT_ANALYSIS,
    DEFAULT_PRIORITY,
    AnalysisMode,
    Checksum,
    ChecksumAlgorithm,
    CompletedObject,
    DeclaredSize,
    UploadMode,
    UploadSession,
    UploadStatus,
    declared_bytes,
    file_size,
)
from fileflow_api.uploads.part_plan import PartPlan
from fileflow_common.clock import from_timestamp, to_timestamp
from fileflow_common.dynamo import update_expression
from fileflow_common.table import (
    DELETED_AT,
    PARTITION_KEY,
    SORT_KEY,
    file_index_attributes,
    file_item_key,
    file_status_attributes,
    files_status_partition,
    name_key,
    upload_session_item_key,
)
from fileflow_common.webhooks import items as webhook_items

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

GSI1_NAME = "gsi1"
INITIATED_UPLOADS_PARTITION = "UPLOADS#initiated"
UNANNOUNCED_EXPIRIES_PARTITION = "UPLOADS#expired_unannounced"
ENTITY_UPLOAD_SESSION = "upload_session"
ENTITY_FILE = "file"
# The file item's statuses before the processor's: declared at initiate, then uploaded at complete.
FILE_STATUS_UPLOADING = "uploading"
FILE_STATUS_UPLOADED = "uploaded"
# How long a finished or expired session stays readable (GET /v1/uploads/{id}, repeated completes).
RETENTION_AFTER_EXPIRY = timedelta(days=7)


def _checksum_attributes(prefix: str, checksum: Checksum | None) -> dict[str, str]:
    if checksum is None:
        return {}
    attributes = {
        f"{prefix}checksum_algorithm": checksum.algorithm.value,
        f"{prefix}checksum": checksum.value,
    }
    if checksum.type is not None:
        attributes[f"{prefix}checksum_type"] = checksum.type
    return attributes


class DynamoUploadSessionStore:
    def __init__(self, table: Table) -> None:
        self._table = table

    def create(self, session: UploadSession) -> None:
        item: dict[str, Any] = {
            **upload_session_item_key(session.user_id, session.upload_id),
            "entity": ENTITY_UPLOAD_SESSION,
            "user_id": session.user_id,
            "upload_id": session.upload_id,
            "file_id": session.file_id,
            "key": session.key,
            "mode": session.mode.value,
            "filename": session.filename,
            "content_type": session.content_type,
            "status": session.status.value,
            "created_at": to_timestamp(session.created_at),
            "updated_at": to_timestamp(session.created_at),
            "session_expires_at": to_timestamp(session.expires_at),
            "expires_at": int((session.expires_at + RETENTION_AFTER_EXPIRY).timestamp()),
            "gsi1pk": INITIATED_UPLOADS_PARTITION,
            "gsi1sk": to_timestamp(session.expires_at),
            "priority": session.priority,
            "analysis_mode": session.analysis.value,
        }
        optional = {
            "size": declared_bytes(session.size),
            "part_size": session.part_size,
            "part_count": session.part_count,
            "s3_upload_id": session.s3_upload_id,
            "sha256": session.sha256,
            "checksum_algorithm": session.checksum_algorithm.value if session.checksum_algorithm else None,
            "correlation_id": session.correlation_id,
            "callback_url": session.callback_url,
        }
        item.update({name: value for name, value in optional.items() if value is not None})
        # Ids are random, so a collision is a bug: never overwrite a session.
        self._table.put_item(Item=item, ConditionExpression=f"attribute_not_exists({PARTITION_KEY})")

    def get(self, user_id: str, upload_id: str) -> UploadSession | None:
        item = self._table.get_item(Key=upload_session_item_key(user_id, upload_id), ConsistentRead=True).get(
            "Item"
        )
        return None if item is None else session_from_item(item)

    def declare_sha256(self, session: UploadSession, sha256: str, *, at: datetime) -> bool:
        try:
            self._table.update_item(
                Key=upload_session_item_key(session.user_id, session.upload_id),
                UpdateExpression="SET #sha256 = :sha256, #updated_at = :at",
                ConditionExpression=(
                    "#status = :initiated AND (attribute_not_exists(#sha256) OR #sha256 = :sha256)"
                ),
                ExpressionAttributeNames={
                    "#sha256": "sha256",
                    "#status": "status",
                    "#updated_at": "updated_at",
                },
                ExpressionAttributeValues={
                    ":sha256": sha256,
                    ":initiated": UploadStatus.INITIATED.value,
                    ":at": to_timestamp(at),
                },
            )
        except self._table.meta.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def finish(self, session: UploadSession) -> bool:
        if session.status is UploadStatus.INITIATED or session.finished_at is None:
            raise ValueError("finish() takes a session that left `initiated`, with its finished_at")
        at = to_timestamp(session.finished_at)
        assignments: dict[str, Any] = {"status": session.status.value, "finished_at": at, "updated_at": at}
        if session.result is not None:
            assignments.update(
                {
                    "size": session.result.size,
                    "etag": session.result.etag,
                    **_checksum_attributes("result_", session.result.checksum),
                }
            )
            if session.result.version_id is not None:
                # The starter reads it: any other version of the key is a replayed URL's, refused.
                assignments["result_version_id"] = session.result.version_id
        index: tuple[str, ...] = ("gsi1pk", "gsi1sk")
        if session.status is UploadStatus.EXPIRED:
            # Its event is still to be queued: the sweeper finds it there until it is (announced()).
            assignments["gsi1pk"] = UNANNOUNCED_EXPIRIES_PARTITION
            index = ()
        expression, names, values = update_expression(assignments, remove=index)
        names["#expected_status"] = "status"
        values[":initiated"] = UploadStatus.INITIATED.value
        try:
            self._table.update_item(
                Key=upload_session_item_key(session.user_id, session.upload_id),
                UpdateExpression=expression,
                ConditionExpression=f"attribute_exists({SORT_KEY}) AND #expected_status = :initiated",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except self._table.meta.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def expired(self, *, before: datetime) -> Iterator[UploadSession]:
        return self._index_partition(
            Key("gsi1pk").eq(INITIATED_UPLOADS_PARTITION) & Key("gsi1sk").lt(to_timestamp(before))
        )

    def unannounced(self) -> Iterator[UploadSession]:
        return self._index_partition(Key("gsi1pk").eq(UNANNOUNCED_EXPIRIES_PARTITION))

    def announced(self, session: UploadSession) -> None:
        # Refused when already announced (a concurrent sweep): nothing left to do.
        with suppress(self._table.meta.client.exceptions.ConditionalCheckFailedException):
            self._table.update_item(
                Key=upload_session_item_key(session.user_id, session.upload_id),
                UpdateExpression="REMOVE gsi1pk, gsi1sk",
                ConditionExpression="gsi1pk = :unannounced",
                ExpressionAttributeValues={":unannounced": UNANNOUNCED_EXPIRIES_PARTITION},
            )

    def _index_partition(self, condition: ConditionBase) -> Iterator[UploadSession]:
        query: dict[str, Any] = {"IndexName": GSI1_NAME, "KeyConditionExpression": condition}
        # Paged by hand: boto3's query paginator is the client's, which speaks typed attribute values.
        while True:
            page = self._table.query(**query)
            for item in page.get("Items", []):
                yield session_from_item(item)
            if "LastEvaluatedKey" not in page:
                return
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _optional_int(item: Mapping[str, Any], name: str) -> int | None:
    value = item.get(name)
    return None if value is None else int(value)


def _result_from_item(item: Mapping[str, Any]) -> CompletedObject | None:
    if "etag" not in item:
        return None
    checksum = None
    if "result_checksum" in item:
        checksum = Checksum(
            algorithm=ChecksumAlgorithm(item["result_checksum_algorithm"]),
            value=str(item["result_checksum"]),
            type=item.get("result_checksum_type"),
        )
    version_id = item.get("result_version_id")
    return CompletedObject(
        size=int(item["size"]),
        etag=str(item["etag"]),
        checksum=checksum,
        version_id=str(version_id) if version_id is not None else None,
    )


def _plan_from_item(item: Mapping[str, Any]) -> PartPlan | None:
    if not {"size", "part_size", "part_count"} <= item.keys():
        return None
    return PartPlan(
        size=int(item["size"]), part_size=int(item["part_size"]), part_count=int(item["part_count"])
    )


def session_from_item(item: Mapping[str, Any]) -> UploadSession:
    algorithm = item.get("checksum_algorithm")
    finished_at = item.get("finished_at")
    return UploadSession(
        user_id=str(item["user_id"]),
        upload_id=str(item["upload_id"]),
        file_id=str(item["file_id"]),
        key=str(item["key"]),
        mode=UploadMode(item["mode"]),
        filename=str(item["filename"]),
        content_type=str(item["content_type"]),
        # Once completed, `size` is the object's: what complete checked any declared size against.
        size=file_size(_optional_int(item, "size")),
        plan=_plan_from_item(item),
        status=UploadStatus(item["status"]),
        created_at=from_timestamp(str(item["created_at"])),
        expires_at=from_timestamp(str(item["session_expires_at"])),
        s3_upload_id=item.get("s3_upload_id"),
        sha256=item.get("sha256"),
        checksum_algorithm=ChecksumAlgorithm(algorithm) if algorithm else None,
        result=_result_from_item(item),
        finished_at=from_timestamp(str(finished_at)) if finished_at else None,
        correlation_id=item.get("correlation_id"),
        # Sessions from before priorities have none: the default.
        priority=int(item.get("priority", DEFAULT_PRIORITY)),
        callback_url=item.get("callback_url"),
        # Sessions from before the AI stage have none: the default.
        analysis=AnalysisMode(item.get("analysis_mode", DEFAULT_ANALYSIS.value)),
    )


class DynamoFileCatalog:
    """The upload's side of the file item (``USER#{user_id}`` / ``FILE#{file_id}``).

    The processor writes the same item when S3 reports the object (its S3 facts, then its processing
    status). Both writers use UpdateItem and converge whichever runs first: this one sets the upload's
    own metadata outright, writes the facts they share (`key`, `size`, `etag`) with `if_not_exists`,
    and moves `status` only from its own "uploading" to "uploaded", so it never undoes the processor.
    """

    def __init__(self, table: Table) -> None:
        self._table = table
        # A write its ConditionExpression refused: the item is ahead of this writer, which is fine.
        self._refused = table.meta.client.exceptions.ConditionalCheckFailedException

    def declare(self, session: UploadSession, *, at: datetime) -> None:
        timestamp = to_timestamp(at)
        shared = {
            **self._identity(session),
            # The status and its index partition (gsi2) move together.
            **file_status_attributes(session.user_id, FILE_STATUS_UPLOADING),
        }
        own = {
            **self._metadata(session),
            "declared_at": timestamp,
            "created_at": timestamp,
            "updated_at": timestamp,
            "name_key": name_key(session.filename),
            # What the quota counted for this file (GET/DELETE /v1/files give back exactly this).
            "quota_bytes": session.size.quota_bytes,
            # The pipeline's starter reads it here: the workflow's events and logs carry it.
            **({"correlation_id": session.correlation_id} if session.correlation_id else {}),
            **file_index_attributes(
                session.user_id, session.file_id, created_at=timestamp, name_key=name_key(session.filename)
            ),
        }
        self._upsert(session, {**shared, **own}, keep_existing=frozenset(shared))

    def declare_sha256(self, session: UploadSession, *, at: datetime) -> None:
        if session.sha256 is None:
            raise ValueError("declare_sha256() takes a session with its sha256")
        self._upsert(
            session, {"sha256": session.sha256, "updated_at": to_timestamp(at)}, keep_existing=frozenset()
        )

    def record_upload(self, session: UploadSession, *, at: datetime) -> None:
        result = session.result
        if session.status is not UploadStatus.COMPLETED or result is None:
            raise ValueError("record_upload() takes a completed session")
        timestamp = to_timestamp(at)
        shared = {
            **self._identity(session),
            "size": result.size,
            "etag": result.etag,
        }
        own: dict[str, Any] = {
            **self._metadata(session),
            "uploaded_at": timestamp,
            "updated_at": timestamp,
            **_checksum_attributes("", result.checksum),
        }
        if isinstance(session.size, DeclaredSize):
            # What the quota counts for the file once complete charged a size found only then (Uppy).
            own["quota_bytes"] = session.size.quota_bytes
        self._upsert(session, {**shared, **own}, keep_existing=frozenset(shared))
        # Refused when the processor has moved the status on already.
        with suppress(self._refused):
            self._table.update_item(
                Key=file_item_key(session.user_id, session.file_id),
                UpdateExpression="SET #status = :uploaded, #gsi2pk = :status_partition",
                ConditionExpression="attribute_not_exists(#status) OR #status = :uploading",
                ExpressionAttributeNames={"#status": "status", "#gsi2pk": "gsi2pk"},
                ExpressionAttributeValues={
                    ":uploaded": FILE_STATUS_UPLOADED,
                    ":uploading": FILE_STATUS_UPLOADING,
                    ":status_partition": files_status_partition(session.user_id, FILE_STATUS_UPLOADED),
                },
            )

    def forget(self, session: UploadSession) -> None:
        # Refused when an object did arrive: its item stays.
        with suppress(self._refused):
            self._table.delete_item(
                Key=file_item_key(session.user_id, session.file_id),
                ConditionExpression="#status = :uploading AND attribute_not_exists(#etag)",
                ExpressionAttributeNames={"#status": "status", "#etag": "etag"},
                ExpressionAttributeValues={":uploading": FILE_STATUS_UPLOADING},
            )

    @staticmethod
    def _identity(session: UploadSession) -> dict[str, Any]:
        """What names the file item: the same whichever writer creates it."""
        return {
            "entity": ENTITY_FILE,
            "user_id": session.user_id,
            "file_id": session.file_id,
            "key": session.key,
        }

    @staticmethod
    def _metadata(session: UploadSession) -> dict[str, Any]:
        metadata: dict[str, Any] = {
            "filename": session.filename,
            "content_type": session.content_type,
            "upload_id": session.upload_id,
            "priority": session.priority,
            # The AI stage's policy reads it (fileflow_stages.ai).
            "analysis_mode": session.analysis.value,
        }
        if session.sha256 is not None:
            metadata["sha256"] = session.sha256
        if session.callback_url is not None:
            # The notify stage puts it on the file's events (fileflow_stages.notify).
            metadata["callback_url"] = session.callback_url
        return metadata

    def _upsert(
        self, session: UploadSession, attributes: dict[str, Any], *, keep_existing: frozenset[str]
    ) -> None:
        expression, names, values = update_expression(attributes, keep_existing=keep_existing)
        names["#deleted_at"] = DELETED_AT
        # A deleted file (DELETE /v1/files/{id} leaves a tombstone) is never written back.
        with suppress(self._refused):
            self._table.update_item(
                Key=file_item_key(session.user_id, session.file_id),
                UpdateExpression=expression,
                ConditionExpression="attribute_not_exists(#deleted_at)",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )


class DynamoWebhookEndpoints:
    """What initiate needs of the user's webhook endpoints (fileflow_common.webhooks.items' layout)."""

    def __init__(self, table: Table) -> None:
        self._table = table

    def has_enabled_endpoint(self, user_id: str) -> bool:
        query: dict[str, Any] = {
            "KeyConditionExpression": Key(PARTITION_KEY).eq(webhook_items.user_pk(user_id))
            & Key(SORT_KEY).begins_with(webhook_items.WEBHOOK_PREFIX),
            "FilterExpression": Attr("status").eq(webhook_items.EndpointStatus.ENABLED.value),
            "ProjectionExpression": "#status",
            "ExpressionAttributeNames": {"#status": "status"},
        }
        # A filter applies per page: at most 20 endpoints (one page), but page anyway.
        while True:
            page = self._table.query(**query)
            if page.get("Items"):
                return True
            if "LastEvaluatedKey" not in page:
                return False
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
