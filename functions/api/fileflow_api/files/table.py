"""DynamoDB adapter of FileIndex: the file items, their tags, jobs and tombstones (docs/architecture.md).

Access patterns (each a Query, never a Scan):

- a user's files by creation date: gsi1, ``FILES#{user}`` / ``{created_at}#{file_id}`` (a date range is a
  key condition);
- a user's files in one status by creation date: gsi2, ``FILES#{user}#{status}`` / ``{created_at}#{file_id}``;
- a user's files by name, and name prefix search: gsi3, ``FILES#{user}`` / ``{name_key}\\x01{file_id}``;
- a user's files with a tag: the table, ``USER#{user}`` / ``TAG#{tag}#{created_at}#{file_id}`` items, then
  BatchGetItem of the files;
- a file's jobs: the table, ``FILE#{file_id}`` / ``JOB#...`` (its ``EVENT#...`` items go with them on delete).

Filters that no key serves (a detected type, a status or date range with the name order, "contains")
are FilterExpressions; a page then reads at most MAX_QUERIES_PER_PAGE x FILTERED_BATCH items and may
hold fewer than `limit` files while a cursor still follows.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from boto3.dynamodb.conditions import Attr, ConditionBase, Key
from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError

from fileflow_api.core.cursors import InvalidCursorError
from fileflow_api.files.service import (
    DerivativeRecord,
    FileRecord,
    JobRecord,
    ListQuery,
    NameMatch,
    Page,
    SearchQuery,
    SortField,
    SortOrder,
    Tombstoned,
    TombstoneState,
    UnknownFileError,
)
from fileflow_api.uploads.session import UploadSession
from fileflow_api.uploads.table import DynamoUploadSessionStore
from fileflow_common.clock import to_timestamp, utc_now
from fileflow_common.dynamo import is_condition_failure
from fileflow_common.errors import InvalidIdentifierError
from fileflow_common.files import FileStatus
from fileflow_common.pipeline import EVENT_PREFIX
from fileflow_common.table import (
    DELETED_AT,
    FILES_BY_CREATED_INDEX,
    FILES_BY_NAME_INDEX,
    FILES_BY_STATUS_INDEX,
    JOB_PREFIX,
    NAME_KEY_MAX_CHARS,
    PARTITION_KEY,
    SORT_KEY,
    TAG_PREFIX,
    USER_PREFIX,
    file_item_key,
    files_partition,
    files_status_partition,
    name_key,
    tag_item_key,
    upload_session_item_key,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

MAX_QUERIES_PER_PAGE = 5
FILTERED_BATCH = 200
_INDEX_KEYS = {
    FILES_BY_CREATED_INDEX: ("gsi1pk", "gsi1sk"),
    FILES_BY_STATUS_INDEX: ("gsi2pk", "gsi2sk"),
    FILES_BY_NAME_INDEX: ("gsi3pk", "gsi3sk"),
}
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
)

type Row = tuple[dict[str, str], FileRecord | None]
type Fetch = Callable[[dict[str, str] | None, int], tuple[list[Row], dict[str, str] | None]]


def plain(value: Any) -> Any:
    """DynamoDB's Decimals as ints or floats, recursively."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | set | tuple):
        return [plain(item) for item in value]
    return value


def _optional_str(item: Mapping[str, Any], name: str) -> str | None:
    value = item.get(name)
    return None if value is None else str(value)


def _optional_int(item: Mapping[str, Any], name: str) -> int | None:
    value = item.get(name)
    return None if value is None else int(value)


def _derivative(entry: Mapping[str, Any]) -> DerivativeRecord:
    return DerivativeRecord(
        name=str(entry.get("name", "")),
        key=str(entry.get("key", "")),
        content_type=_optional_str(entry, "content_type"),
        size=_optional_int(entry, "size"),
        width=_optional_int(entry, "width"),
        height=_optional_int(entry, "height"),
    )


def file_from_item(item: Mapping[str, Any]) -> FileRecord:
    created = item.get("created_at") or item.get("declared_at") or item.get("stored_at")
    return FileRecord(
        user_id=str(item["user_id"]),
        file_id=str(item["file_id"]),
        key=str(item.get("key", "")),
        filename=_optional_str(item, "filename"),
        content_type=_optional_str(item, "content_type"),
        status=str(item.get("status", FileStatus.UPLOADED.value)),
        created_at=None if created is None else str(created),
        updated_at=_optional_str(item, "updated_at"),
        uploaded_at=_optional_str(item, "uploaded_at"),
        size=_optional_int(item, "size"),
        etag=_optional_str(item, "etag"),
        version_id=_optional_str(item, "version_id"),
        sha256=_optional_str(item, "sha256"),
        upload_id=_optional_str(item, "upload_id"),
        detected_type=_optional_str(item, "detected_type"),
        detected_kind=_optional_str(item, "detected_kind"),
        type_mismatch=plain(item["type_mismatch"]) if item.get("type_mismatch") else None,
        processing_error=plain(item["processing_error"]) if item.get("processing_error") else None,
        processing_job_id=_optional_str(item, "processing_job_id"),
        analysis=plain(item.get("analysis") or {}),
        derivatives=tuple(_derivative(entry) for entry in item.get("derivatives") or []),
        tags=tuple(str(tag) for tag in item.get("tags") or []),
        tags_version=int(item.get("tags_version", 0)),
        quota_bytes=_optional_int(item, "quota_bytes"),
        stage=_optional_str(item, "stage"),
        stage_state=_optional_str(item, "stage_state"),
        stage_updated_at=_optional_str(item, "stage_updated_at"),
        execution_arn=_optional_str(item, "execution_arn"),
        correlation_id=_optional_str(item, "correlation_id"),
    )


def _job_from_item(item: Mapping[str, Any]) -> JobRecord:
    result = plain(item.get("result") or {})
    return JobRecord(
        job_id=str(item["job_id"]),
        task=str(item.get("task", "")),
        status=str(item.get("status", "")),
        user_id=str(item.get("user_id", "")),
        source_key=str(item.get("key", "")),
        source_version_id=_optional_str(item, "version_id"),
        source_etag=_optional_str(item, "etag"),
        queued_at=_optional_str(item, "queued_at"),
        started_at=_optional_str(item, "started_at"),
        ended_at=_optional_str(item, "ended_at"),
        attempts=int(item.get("attempts", 0)),
        error=plain(item["error"]) if item.get("error") else None,
        derivatives=tuple(str(name) for name in result.get("derivatives", [])),
        findings=tuple(result.get("findings", [])),
    )


def _type_filter(value: str) -> ConditionBase:
    if value.endswith("/*"):
        return Attr("detected_type").begins_with(value[:-1])
    return Attr("detected_type").eq(value)


def _and(conditions: list[ConditionBase]) -> ConditionBase | None:
    combined: ConditionBase | None = None
    for condition in conditions:
        combined = condition if combined is None else combined & condition
    return combined


class DynamoFileIndex:
    def __init__(self, table: Table) -> None:
        self._table = table
        self._sessions = DynamoUploadSessionStore(table)
        self._deserializer = TypeDeserializer()

    # --- reads ---------------------------------------------------------------------------------------------

    def get(self, user_id: str, file_id: str) -> FileRecord | None:
        item = self._table.get_item(Key=file_item_key(user_id, file_id), ConsistentRead=True).get("Item")
        if item is None or DELETED_AT in item:
            return None
        return file_from_item(item)

    def list_files(self, user_id: str, query: ListQuery, *, after: dict[str, str] | None, limit: int) -> Page:
        filters: list[ConditionBase] = []
        if query.type is not None:
            filters.append(_type_filter(query.type))
        low = to_timestamp(query.created_from) if query.created_from else None
        high = to_timestamp(query.created_to) if query.created_to else None
        key: ConditionBase
        if query.sort is SortField.CREATED:
            if query.status is not None:
                index, key = (
                    FILES_BY_STATUS_INDEX,
                    Key("gsi2pk").eq(files_status_partition(user_id, query.status)),
                )
                sort_key = Key("gsi2sk")
            else:
                index, key = FILES_BY_CREATED_INDEX, Key("gsi1pk").eq(files_partition(user_id))
                sort_key = Key("gsi1sk")
            # "{created_at}#{file_id}" >= created_from, and < created_to (the '#' sorts after the time).
            if low and high:
                key = key & sort_key.between(low, high)
            elif low:
                key = key & sort_key.gte(low)
            elif high:
                key = key & sort_key.lt(high)
        else:
            index, key = FILES_BY_NAME_INDEX, Key("gsi3pk").eq(files_partition(user_id))
            if query.status is not None:
                filters.append(Attr("status").eq(query.status.value))
            if low:
                filters.append(Attr("created_at").gte(low))
            if high:
                filters.append(Attr("created_at").lt(high))
        return self._collect(
            user_id,
            self._index_fetch(index, key, _and(filters), forward=query.order is SortOrder.ASC),
            after=after,
            limit=limit,
            filtered=bool(filters),
        )

    def search_files(
        self, user_id: str, query: SearchQuery, *, after: dict[str, str] | None, limit: int
    ) -> Page:
        text = query.text
        if query.tag is not None:
            keep: Callable[[FileRecord], bool] = lambda _: True  # noqa: E731
            if text is not None:
                keep = self._name_matcher(text, query.match)
            return self._collect(
                user_id, self._tag_fetch(user_id, query.tag, keep), after=after, limit=limit, filtered=True
            )
        assert text is not None
        partition = Key("gsi3pk").eq(files_partition(user_id))
        key: ConditionBase
        name_filter: ConditionBase | None
        if query.match is NameMatch.PREFIX:
            key = partition & Key("gsi3sk").begins_with(text[:NAME_KEY_MAX_CHARS])
            # Past the indexed length, the rest of the prefix is checked on the full name.
            name_filter = Attr("name_key").begins_with(text) if len(text) > NAME_KEY_MAX_CHARS else None
        else:
            key, name_filter = partition, Attr("name_key").contains(text)
        fetch = self._index_fetch(FILES_BY_NAME_INDEX, key, name_filter, forward=True)
        return self._collect(user_id, fetch, after=after, limit=limit, filtered=name_filter is not None)

    def jobs(self, user_id: str, file_id: str) -> list[JobRecord]:
        items = self._query_all(
            KeyConditionExpression=Key(PARTITION_KEY).eq(f"FILE#{file_id}")
            & Key(SORT_KEY).begins_with(JOB_PREFIX),
            ConsistentRead=True,
        )
        jobs = [_job_from_item(item) for item in items]
        return sorted(jobs, key=lambda job: (job.queued_at or "", job.job_id))

    def upload(self, user_id: str, upload_id: str) -> UploadSession | None:
        try:
            return self._sessions.get(user_id, upload_id)
        except InvalidIdentifierError:
            return None

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
        values: dict[str, Any] = {":tags": list(tags), ":next": version + 1, ":now": _now_timestamp()}
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
        try:
            self._table.meta.client.transact_write_items(TransactItems=actions)  # type: ignore[arg-type]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            reasons = exc.response.get("CancellationReasons") or [{}]
            if reasons[0].get("Code") != "ConditionalCheckFailed":
                raise
            if self.get(file.user_id, file.file_id) is None:
                raise UnknownFileError(f"no file {file.file_id!r}") from exc
            return None  # another writer changed the tags first
        return replace(file, tags=tags, tags_version=version + 1)

    def tombstone(self, user_id: str, file_id: str, *, at: datetime, expires_at: datetime) -> Tombstoned:
        names = {f"#{name}": name for name in _FORGOTTEN_ON_DELETE}
        names |= {"#status": "status", "#deleted_at": DELETED_AT, "#expires_at": "expires_at"}
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
        except ClientError as exc:
            if not is_condition_failure(exc):
                raise
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
        # The file's partition holds its jobs and its workflow's events (fileflow_common.pipeline).
        records = self._query_all(
            KeyConditionExpression=Key(PARTITION_KEY).eq(f"FILE#{file.file_id}"),
            ConsistentRead=True,
            ProjectionExpression="pk, sk, user_id",
        )
        keys += [
            {PARTITION_KEY: record[PARTITION_KEY], SORT_KEY: record[SORT_KEY]}
            for record in records
            if str(record[SORT_KEY]).startswith((JOB_PREFIX, EVENT_PREFIX))
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
        try:
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
        except ClientError as exc:
            if not is_condition_failure(exc):
                raise  # else the tombstone's TTL ran out: nothing left to strip

    # --- paging --------------------------------------------------------------------------------------------

    def _collect(
        self, user_id: str, fetch: Fetch, *, after: dict[str, str] | None, limit: int, filtered: bool
    ) -> Page:
        """Up to `limit` files from successive reads; the position after the last one returned."""
        if after is not None and after.get(PARTITION_KEY) != USER_PREFIX + user_id:
            # Positions come from cursors signed for this user: never a key of another partition.
            raise InvalidCursorError("cursor is not one this API issued")
        rows: list[tuple[dict[str, str], FileRecord]] = []
        start = after
        for _ in range(MAX_QUERIES_PER_PAGE):
            batch = FILTERED_BATCH if filtered else limit - len(rows) + 1
            fetched, start = fetch(start, batch)
            rows += [(position, file) for position, file in fetched if file is not None]
            if len(rows) >= limit or start is None:
                break
        if len(rows) > limit:
            rows = rows[:limit]
            start = rows[-1][0]
        return Page(files=[file for _, file in rows], next_position=start)

    def _index_fetch(
        self, index: str, key: ConditionBase, filters: ConditionBase | None, *, forward: bool
    ) -> Fetch:
        index_keys = _INDEX_KEYS[index]

        def fetch(start: dict[str, str] | None, batch: int) -> tuple[list[Row], dict[str, str] | None]:
            request: dict[str, Any] = {
                "IndexName": index,
                "KeyConditionExpression": key,
                "ScanIndexForward": forward,
                "Limit": batch,
            }
            if filters is not None:
                request["FilterExpression"] = filters
            if start is not None:
                request["ExclusiveStartKey"] = start
            response = self._table.query(**request)
            rows: list[Row] = [
                (
                    {name: str(item[name]) for name in (PARTITION_KEY, SORT_KEY, *index_keys)},
                    None if DELETED_AT in item else file_from_item(item),
                )
                for item in response.get("Items", [])
            ]
            return rows, cast(dict[str, str] | None, response.get("LastEvaluatedKey"))

        return fetch

    def _tag_fetch(self, user_id: str, tag: str, keep: Callable[[FileRecord], bool]) -> Fetch:
        def fetch(start: dict[str, str] | None, batch: int) -> tuple[list[Row], dict[str, str] | None]:
            request: dict[str, Any] = {
                "KeyConditionExpression": Key(PARTITION_KEY).eq(USER_PREFIX + user_id)
                & Key(SORT_KEY).begins_with(f"{TAG_PREFIX}{tag}#"),
                "ScanIndexForward": False,  # newest first
                "Limit": batch,
            }
            if start is not None:
                request["ExclusiveStartKey"] = start
            response = self._table.query(**request)
            tagged = response.get("Items", [])
            files = self._files(user_id, [str(item["file_id"]) for item in tagged])
            rows: list[Row] = []
            for item in tagged:
                file = files.get(str(item["file_id"]))
                position = {PARTITION_KEY: str(item[PARTITION_KEY]), SORT_KEY: str(item[SORT_KEY])}
                rows.append((position, file if file is not None and keep(file) else None))
            return rows, cast(dict[str, str] | None, response.get("LastEvaluatedKey"))

        return fetch

    @staticmethod
    def _name_matcher(text: str, match: NameMatch) -> Callable[[FileRecord], bool]:
        def keep(file: FileRecord) -> bool:
            name = name_key(file.filename or "")
            return name.startswith(text) if match is NameMatch.PREFIX else text in name

        return keep

    def _files(self, user_id: str, file_ids: list[str]) -> dict[str, FileRecord]:
        """Live files by id (BatchGetItem, 100 keys a request, unprocessed keys retried)."""
        found: dict[str, FileRecord] = {}
        client = self._table.meta.client
        for start in range(0, len(file_ids), 100):
            pending: dict[str, Any] = {
                self._table.name: {
                    "Keys": [
                        file_item_key(user_id, fid) for fid in dict.fromkeys(file_ids[start : start + 100])
                    ]
                }
            }
            for _ in range(5):
                response = client.batch_get_item(RequestItems=pending)
                for item in response.get("Responses", {}).get(self._table.name, []):
                    if DELETED_AT not in item:
                        file = file_from_item(item)
                        found[file.file_id] = file
                pending = cast(dict[str, Any], response.get("UnprocessedKeys") or {})
                if not pending:
                    break
        return found

    def _query_all(self, **request: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        while True:
            response = self._table.query(**request)
            items += response.get("Items", [])
            if "LastEvaluatedKey" not in response:
                return items
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def _now_timestamp() -> str:
    return to_timestamp(utc_now())
