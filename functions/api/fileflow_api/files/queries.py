"""DynamoDB adapter of FileIndex, the reads: a file, its jobs, pages of a user's files (docs/architecture.md).

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

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from boto3.dynamodb.conditions import Attr, ConditionBase, Key

from fileflow_api.core.cursors import InvalidCursorError
from fileflow_api.files.items import file_from_item, job_from_item
from fileflow_api.files.model import (
    FileRecord,
    JobRecord,
    ListQuery,
    NameMatch,
    Page,
    SearchQuery,
    SortField,
    SortOrder,
)
from fileflow_api.uploads.model import UploadSession
from fileflow_api.uploads.table import DynamoUploadSessionStore
from fileflow_common.clock import to_timestamp
from fileflow_common.errors import InvalidIdentifierError
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

type Row = tuple[dict[str, str], FileRecord | None]
type Fetch = Callable[[dict[str, str] | None, int], tuple[list[Row], dict[str, str] | None]]


def _type_filter(value: str) -> ConditionBase:
    if value.endswith("/*"):
        return Attr("detected_type").begins_with(value[:-1])
    return Attr("detected_type").eq(value)


def _and(conditions: list[ConditionBase]) -> ConditionBase | None:
    combined: ConditionBase | None = None
    for condition in conditions:
        combined = condition if combined is None else combined & condition
    return combined


class DynamoFileQueries:
    def __init__(self, table: Table) -> None:
        self._table = table
        self._sessions = DynamoUploadSessionStore(table)

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
        jobs = [job_from_item(item) for item in items]
        return sorted(jobs, key=lambda job: (job.queued_at or "", job.job_id))

    def upload(self, user_id: str, upload_id: str) -> UploadSession | None:
        try:
            return self._sessions.get(user_id, upload_id)
        except InvalidIdentifierError:
            return None

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
        """Every item the query matches (the resource's client takes conditions and answers plain values)."""
        paginator = self._table.meta.client.get_paginator("query")
        pages = paginator.paginate(TableName=self._table.name, **request)
        return [item for page in pages for item in page.get("Items", [])]
