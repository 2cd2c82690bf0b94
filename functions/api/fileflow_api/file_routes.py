"""/v1/files: list, search, get, tags, delete (docs/files-api.md). Thin: parse, call, map."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response, Security, status
from pydantic import BaseModel, Field

from fileflow_api.audit import AuditAction
from fileflow_api.cursors import MAX_CURSOR_LENGTH
from fileflow_api.dependencies import get_dependencies
from fileflow_api.files import (
    FileDetail,
    FileRecord,
    FileService,
    FileStatus,
    InvalidQueryError,
    JobRecord,
    ListQuery,
    NameMatch,
    SearchQuery,
    SortField,
    SortOrder,
    TagsVersionMismatchError,
    as_utc,
    normalize_search_text,
    normalize_tag,
    validate_type_filter,
)
from fileflow_api.identity import User, current_user
from fileflow_api.request_audit import Audit
from fileflow_api.upload_routes import BEARER_AUTH
from fileflow_common.clock import to_timestamp

router = APIRouter(prefix="/v1/files", tags=["files"], dependencies=[Security(BEARER_AUTH)])


def get_file_service(request: Request) -> FileService:
    service = get_dependencies(request).files
    if service is None:
        raise RuntimeError("files are not configured: ApiDependencies.files is None")
    return service


Files = Annotated[FileService, Depends(get_file_service)]
Caller = Annotated[User, Depends(current_user)]
FileId = Annotated[str, Path(max_length=256, description="the file id (file_id of the upload)")]
Limit = Annotated[int, Query(ge=1, le=100, description="at most this many files")]
Cursor = Annotated[
    str | None, Query(max_length=MAX_CURSOR_LENGTH, description="next_cursor of the previous page")
]

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


class DownloadModel(BaseModel):
    url: Annotated[str, Field(description="presigned GET (SigV4), valid until expires_at")]
    expires_at: str


class OriginalModel(BaseModel):
    key: str
    version_id: str | None
    etag: str | None
    size: int | None
    download: DownloadModel | None


class DerivativeModel(BaseModel):
    name: str
    key: str
    content_type: str | None
    size: int | None
    width: int | None = None
    height: int | None = None
    download: DownloadModel


class ObjectVersionModel(BaseModel):
    key: str
    version_id: str | None
    etag: str | None


class JobModel(BaseModel):
    job_id: str
    task: str
    status: str
    queued_at: str | None
    started_at: str | None
    ended_at: str | None
    attempts: int
    error: dict[str, Any] | None
    source: ObjectVersionModel
    derivatives: list[str]
    findings: list[dict[str, Any]]

    @classmethod
    def of(cls, job: JobRecord) -> JobModel:
        return cls(
            job_id=job.job_id,
            task=job.task,
            status=job.status,
            queued_at=job.queued_at,
            started_at=job.started_at,
            ended_at=job.ended_at,
            attempts=job.attempts,
            error=dict(job.error) if job.error else None,
            source=ObjectVersionModel(
                key=job.source_key, version_id=job.source_version_id, etag=job.source_etag
            ),
            derivatives=list(job.derivatives),
            findings=[dict(finding) for finding in job.findings],
        )


class UploadLineageModel(BaseModel):
    upload_id: str
    status: str
    mode: str
    created_at: str
    finished_at: str | None


class JobLineageModel(BaseModel):
    job_id: str
    task: str
    status: str
    source: ObjectVersionModel
    derivatives: Annotated[list[str], Field(description="keys of the derivatives this job wrote")]


class LineageModel(BaseModel):
    """upload session -> original object (version, ETag) -> jobs -> derivatives."""

    upload: UploadLineageModel | None
    original: ObjectVersionModel
    jobs: list[JobLineageModel]


class FileDetailResponse(FileSummaryModel):
    sha256: str | None
    etag: str | None
    detected_kind: str | None
    type_mismatch: dict[str, Any] | None
    processing_error: dict[str, Any] | None
    tags_version: Annotated[int, Field(description="send it as If-Match to PUT .../tags")]
    uploaded_at: str | None
    analysis: dict[str, Any]
    original: OriginalModel
    derivatives: list[DerivativeModel]
    jobs: list[JobModel]
    lineage: LineageModel


class TagsRequest(BaseModel):
    tags: Annotated[
        list[Annotated[str, Field(max_length=256)]],
        Field(max_length=100, description="the file's whole new set of tags (at most 20 once normalised)"),
    ]


class TagsResponse(BaseModel):
    file_id: str
    tags: list[str]
    tags_version: int


def _detail(detail: FileDetail) -> FileDetailResponse:
    file = detail.file
    derivative_keys = {derivative.name: derivative.key for derivative in file.derivatives}
    original = ObjectVersionModel(key=file.key, version_id=file.version_id, etag=file.etag)
    upload = detail.upload
    return FileDetailResponse(
        **FileSummaryModel.of(file).model_dump(),
        sha256=file.sha256,
        etag=file.etag,
        detected_kind=file.detected_kind,
        type_mismatch=dict(file.type_mismatch) if file.type_mismatch else None,
        processing_error=dict(file.processing_error) if file.processing_error else None,
        tags_version=file.tags_version,
        uploaded_at=file.uploaded_at,
        analysis=dict(file.analysis),
        original=OriginalModel(
            key=file.key,
            version_id=file.version_id,
            etag=file.etag,
            size=file.size,
            download=DownloadModel(
                url=detail.original.url, expires_at=to_timestamp(detail.original.expires_at)
            )
            if detail.original
            else None,
        ),
        derivatives=[
            DerivativeModel(
                name=derivative.name,
                key=derivative.key,
                content_type=derivative.content_type,
                size=derivative.size,
                width=derivative.width,
                height=derivative.height,
                download=DownloadModel(url=signed.url, expires_at=to_timestamp(signed.expires_at)),
            )
            for derivative, signed in detail.derivatives
        ],
        jobs=[JobModel.of(job) for job in detail.jobs],
        lineage=LineageModel(
            upload=UploadLineageModel(
                upload_id=upload.upload_id,
                status=upload.status.value,
                mode=upload.mode.value,
                created_at=to_timestamp(upload.created_at),
                finished_at=to_timestamp(upload.finished_at) if upload.finished_at else None,
            )
            if upload
            else None,
            original=original,
            jobs=[
                JobLineageModel(
                    job_id=job.job_id,
                    task=job.task,
                    status=job.status,
                    source=ObjectVersionModel(
                        key=job.source_key, version_id=job.source_version_id, etag=job.source_etag
                    ),
                    derivatives=[derivative_keys.get(name, name) for name in job.derivatives],
                )
                for job in detail.jobs
            ],
        ),
    )


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
    page = files.list_files(user.user_id, query, cursor=cursor, limit=limit)
    return FileListResponse(
        files=[FileSummaryModel.of(file) for file in page.files], next_cursor=page.next_cursor
    )


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
    page = files.search_files(user.user_id, query, cursor=cursor, limit=limit)
    return FileListResponse(
        files=[FileSummaryModel.of(file) for file in page.files], next_cursor=page.next_cursor
    )


@router.get("/{file_id}")
def get_file(file_id: FileId, user: Caller, files: Files) -> FileDetailResponse:
    return _detail(files.get(user.user_id, file_id))


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
