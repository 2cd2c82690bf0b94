"""/v1/files: list, search, tags, delete (docs/files-api.md). Thin: parse, call, map.

GET /v1/files/{id} is in detail_routes, its events in fileflow_api.events, its HLS playlists in
fileflow_api.hls.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Header, Query, Response, status
from pydantic import BaseModel, Field

from fileflow_api.audit.request import Audit
from fileflow_api.audit.trail import AuditAction
from fileflow_api.core.params import Caller, Cursor
from fileflow_api.files.errors import InvalidQueryError, TagsVersionMismatchError
from fileflow_api.files.model import (
    FilePage,
    FileRecord,
    ListQuery,
    NameMatch,
    SearchQuery,
    SortField,
    SortOrder,
)
from fileflow_api.files.params import FileId, Files, files_router
from fileflow_api.files.policy import as_utc, normalize_search_text, normalize_tag, validate_type_filter
from fileflow_common.files import FileStatus

router = files_router()
Limit = Annotated[int, Query(ge=1, le=100, description="at most this many files")]

# --- models -------------------------------------------------------------------------------------------------


class FileSummaryModel(BaseModel):
    file_id: str
    filename: str | None
    content_type: Annotated[str | None, Field(description="as declared by the client")]
    size: int | None
    status: str
    detected_type: Annotated[str | None, Field(description="as detected from the content")]
    tags: list[str]
    created_at: str | None
    updated_at: str | None

    @classmethod
    def of(cls, file: FileRecord) -> FileSummaryModel:
        return cls(
            file_id=file.file_id,
            filename=file.filename,
            content_type=file.content_type,
            size=file.size,
            status=file.status,
            detected_type=file.detected_type,
            tags=list(file.tags),
            created_at=file.created_at,
            updated_at=file.updated_at,
        )


class FileListResponse(BaseModel):
    files: list[FileSummaryModel]
    next_cursor: Annotated[
        str | None,
        Field(
            description="?cursor= of the next page (same filters); null on the last. A page may hold "
            "fewer files than `limit` while a cursor follows."
        ),
    ]

    @classmethod
    def of(cls, page: FilePage) -> FileListResponse:
        return cls(files=[FileSummaryModel.of(file) for file in page.files], next_cursor=page.next_cursor)


class TagsRequest(BaseModel):
    tags: Annotated[
        list[Annotated[str, Field(max_length=256)]],
        Field(max_length=100, description="the file's whole new set of tags (at most 20 once normalised)"),
    ]


class TagsResponse(BaseModel):
    file_id: str
    tags: list[str]
    tags_version: int


def _moment(value: datetime | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        return as_utc(value)
    except OverflowError as exc:
        raise InvalidQueryError(f"{name} is out of range") from exc


def _expected_version(if_match: str | None) -> int | None:
    if if_match is None:
        return None
    value = if_match.strip().removeprefix("W/").strip('"')
    if not value.isdigit() or len(value) > 18:
        raise TagsVersionMismatchError('If-Match must be the file\'s tags_version, e.g. "3"')
    return int(value)


# --- routes -------------------------------------------------------------------------------------------------


@router.get("")
def list_files(
    user: Caller,
    files: Files,
    status_: Annotated[FileStatus | None, Query(alias="status")] = None,
    type_: Annotated[
        str | None, Query(alias="type", max_length=256, description="detected type: image/png or image/*")
    ] = None,
    created_from: Annotated[datetime | None, Query(description="inclusive; UTC when no offset")] = None,
    created_to: Annotated[datetime | None, Query(description="exclusive; UTC when no offset")] = None,
    sort: SortField = SortField.CREATED,
    order: SortOrder = SortOrder.DESC,
    limit: Limit = 25,
    cursor: Cursor = None,
) -> FileListResponse:
    query = ListQuery(
        status=status_,
        type=validate_type_filter(type_) if type_ is not None else None,
        created_from=_moment(created_from, "created_from"),
        created_to=_moment(created_to, "created_to"),
        sort=sort,
        order=order,
    )
    return FileListResponse.of(files.list_files(user.user_id, query, cursor=cursor, limit=limit))


@router.get("/search")
def search_files(
    user: Caller,
    files: Files,
    q: Annotated[str | None, Query(max_length=255, description="file name (case-insensitive)")] = None,
    tag: Annotated[str | None, Query(max_length=64)] = None,
    match: Annotated[NameMatch, Query(description="how q matches the name")] = NameMatch.PREFIX,
    limit: Limit = 25,
    cursor: Cursor = None,
) -> FileListResponse:
    query = SearchQuery(
        text=normalize_search_text(q) if q is not None else None,
        tag=normalize_tag(tag) if tag is not None else None,
        match=match,
    )
    return FileListResponse.of(files.search_files(user.user_id, query, cursor=cursor, limit=limit))


@router.put("/{file_id}/tags")
def replace_tags(
    file_id: FileId,
    body: TagsRequest,
    user: Caller,
    files: Files,
    audit: Audit,
    if_match: Annotated[
        str | None, Header(max_length=64, description="the tags_version the change is based on")
    ] = None,
) -> TagsResponse:
    file, changed = files.replace_tags(
        user.user_id, file_id, body.tags, expected_version=_expected_version(if_match)
    )
    if changed:
        audit.record(
            user,
            AuditAction.FILE_TAGS_CHANGED,
            resource_type="file",
            resource_id=file.file_id,
            tags=list(file.tags),
        )
    return TagsResponse(file_id=file.file_id, tags=list(file.tags), tags_version=file.tags_version)


@router.delete("/{file_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_file(file_id: FileId, user: Caller, files: Files, audit: Audit) -> Response:
    deleted = files.delete(user.user_id, file_id)
    audit.record(user, AuditAction.FILE_DELETED, resource_type="file", resource_id=deleted.file_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
