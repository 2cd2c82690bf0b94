"""GET /v1/files/{file_id}: metadata, downloads, jobs, lineage and stage history, with an ETag.

The ETag is a hash of the body with its presigned URLs left out and the time window they were signed in
put in their place (conditional.py): any change of the file, its jobs or its events changes it, and a
`304 Not Modified` tells a client that the body it holds is current and that its URLs are still valid for
at least half of their lifetime (`DOWNLOAD_URL_TTL_SECONDS` / 2). Thin: parse, call, map.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import Header, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from fileflow_api.core.conditional import entity_tag, none_match
from fileflow_api.core.params import Caller
from fileflow_api.events.routes import Events, StageEventModel
from fileflow_api.files.listing_routes import FileSummaryModel
from fileflow_api.files.model import FileDetail, Integrity, JobRecord, SignedDownload
from fileflow_api.files.params import FileId, Files, files_router
from fileflow_api.webhooks.params import Webhooks
from fileflow_api.webhooks.schemas import FileDeliveryModel
from fileflow_common.clock import to_timestamp
from fileflow_common.pipeline import StageEvent

router = files_router()
# Cached (privately) but revalidated on every use: the ETag makes that a 304 without a body.
CACHE_CONTROL = "private, no-cache"

# --- models -------------------------------------------------------------------------------------------------


class DownloadModel(BaseModel):
    url: Annotated[str, Field(description="presigned GET (SigV4), valid until expires_at")]
    expires_at: str

    @classmethod
    def of(cls, signed: SignedDownload) -> DownloadModel:
        return cls(url=signed.url, expires_at=to_timestamp(signed.expires_at))


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

    @classmethod
    def source_of(cls, job: JobRecord) -> ObjectVersionModel:
        """The object version the job read."""
        return cls(key=job.source_key, version_id=job.source_version_id, etag=job.source_etag)


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
            source=ObjectVersionModel.source_of(job),
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
    sha256: Annotated[
        str | None, Field(description="the whole file's SHA-256 (hex) as the client declared it")
    ]
    integrity: Annotated[
        Integrity | None,
        Field(
            description=(
                "how sha256 is known to be the file's: storage (S3 checked it at write), pipeline (the"
                " processor hashed every byte), mismatch (it hashed them: other bytes; the file failed),"
                " declared (not verified yet); null when no sha256 was declared"
            )
        ),
    ]
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
    stage: Annotated[str | None, Field(description="the workflow's current stage")]
    stage_state: Annotated[str | None, Field(description="started, succeeded or failed")]
    stage_updated_at: str | None
    execution_arn: Annotated[str | None, Field(description="the Step Functions execution")]
    correlation_id: Annotated[str | None, Field(description="the initiating request's id")]
    priority: Annotated[int | None, Field(description="the processing priority given at initiate (1 to 9)")]
    callback_url: Annotated[str | None, Field(description="the upload's one-off webhook target")]
    analysis_mode: Annotated[
        str | None, Field(description="the upload's `analysis`: local, auto or deep (docs/ai.md)")
    ]
    ai_status: Annotated[
        str | None,
        Field(
            description=(
                "what the AI stage did: not_requested, skipped_by_policy, cached, succeeded, failed, "
                "budget_exhausted or circuit_open (docs/ai.md); the details are in analysis.ai"
            )
        ),
    ]
    review: Annotated[
        dict[str, Any] | None,
        Field(
            description=(
                "the human review of the AI result (docs/reviews.md): review_id, status (pending, escalated,"
                " decided, expired) and, once closed, the decision, reviewer and time; null: no review"
            )
        ),
    ] = None
    stages: Annotated[list[StageEventModel], Field(description="the stage history, oldest first")]
    deliveries: Annotated[
        list[FileDeliveryModel],
        Field(description="the file's webhook deliveries, oldest first (docs/webhooks.md)"),
    ]


def _ai_status(analysis: Mapping[str, Any]) -> str | None:
    ai = analysis.get("ai")
    status = ai.get("status") if isinstance(ai, Mapping) else None
    return status if isinstance(status, str) else None


def _detail(
    detail: FileDetail, stages: list[StageEvent], deliveries: list[FileDeliveryModel]
) -> FileDetailResponse:
    file = detail.file
    derivative_keys = {derivative.name: derivative.key for derivative in file.derivatives}
    original = ObjectVersionModel(key=file.key, version_id=file.version_id, etag=file.etag)
    upload = detail.upload
    return FileDetailResponse(
        **FileSummaryModel.of(file).model_dump(),
        sha256=file.sha256,
        integrity=file.verified_integrity,
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
            download=DownloadModel.of(detail.original) if detail.original else None,
        ),
        derivatives=[
            DerivativeModel(
                name=derivative.name,
                key=derivative.key,
                content_type=derivative.content_type,
                size=derivative.size,
                width=derivative.width,
                height=derivative.height,
                download=DownloadModel.of(signed),
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
                    source=ObjectVersionModel.source_of(job),
                    derivatives=[derivative_keys.get(name, name) for name in job.derivatives],
                )
                for job in detail.jobs
            ],
        ),
        stage=file.stage,
        stage_state=file.stage_state,
        stage_updated_at=file.stage_updated_at,
        execution_arn=file.execution_arn,
        correlation_id=file.correlation_id,
        priority=file.priority,
        callback_url=file.callback_url,
        review=dict(file.review) if file.review else None,
        analysis_mode=file.analysis_mode,
        ai_status=_ai_status(file.analysis),
        stages=[StageEventModel.of(event) for event in stages],
        deliveries=deliveries,
    )


def _url_window(detail: FileDetail, ttl_seconds: int) -> int | None:
    """Which half-lifetime window the body's URLs were signed in (None: the body holds no URL)."""
    signed = detail.original or next((download for _, download in detail.derivatives), None)
    if signed is None:
        return None
    return math.floor(signed.expires_at.timestamp() / max(1, ttl_seconds // 2))


def _tagged_body(body: dict[str, Any], url_window: int | None) -> dict[str, Any]:
    """The body as the ETag sees it: the presigned URLs replaced by their signing window."""
    return {
        **body,
        "original": {**body["original"], "download": None},
        "derivatives": [{**derivative, "download": None} for derivative in body["derivatives"]],
        "urls_signed_in": url_window,
    }


# --- routes -------------------------------------------------------------------------------------------------


@router.get(
    "/{file_id}",
    response_model=FileDetailResponse,
    responses={
        status.HTTP_304_NOT_MODIFIED: {"description": "If-None-Match names the current ETag: no body"}
    },
)
def get_file(
    file_id: FileId,
    user: Caller,
    files: Files,
    events: Events,
    webhooks: Webhooks,
    if_none_match: Annotated[
        str | None, Header(max_length=2048, description="ETag(s) of a body held, or *")
    ] = None,
) -> Response:
    detail = files.get(user.user_id, file_id)  # 404 unless the caller's: only then its deliveries are read
    deliveries = [FileDeliveryModel.of(found) for found in webhooks.file_deliveries(user.user_id, file_id)]
    body = _detail(detail, events.history(user.user_id, file_id), deliveries).model_dump(mode="json")
    ttl_seconds = int(files.policy.download_ttl.total_seconds())
    tag = entity_tag(_tagged_body(body, _url_window(detail, ttl_seconds)))
    headers = {"ETag": tag, "Cache-Control": CACHE_CONTROL}
    if none_match(if_none_match, tag):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    return JSONResponse(content=body, headers=headers)
