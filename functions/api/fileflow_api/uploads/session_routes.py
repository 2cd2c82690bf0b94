"""/v1/uploads: resumable presigned uploads straight to S3 (docs/api-contract.md). Thin: parse, call, map."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Security, status

from fileflow_api.audit.request import Audit
from fileflow_api.audit.trail import AuditAction
from fileflow_api.auth.identity import BEARER_AUTH
from fileflow_api.core.correlation import CorrelationId
from fileflow_api.core.params import Caller
from fileflow_api.dependencies import get_dependencies
from fileflow_api.uploads.errors import PartNumberOutOfRangeError
from fileflow_api.uploads.model import NewUpload, declared_bytes
from fileflow_api.uploads.schemas import (
    AbortUploadResponse,
    CompleteUploadRequest,
    CompleteUploadResponse,
    InitiateUploadRequest,
    InitiateUploadResponse,
    ListPartsResponse,
    PresignedRequestModel,
    SignedPartModel,
    SignPartsRequest,
    SignPartsResponse,
    StoredPartModel,
    UploadStatusResponse,
    completed_response,
)
from fileflow_api.uploads.service import UploadService
from fileflow_common.clock import to_timestamp

router = APIRouter(prefix="/v1/uploads", tags=["uploads"], dependencies=[Security(BEARER_AUTH)])


def get_upload_service(request: Request) -> UploadService:
    return get_dependencies(request).uploads


Service = Annotated[UploadService, Depends(get_upload_service)]
UploadId = Annotated[str, Path(description="the upload id returned by POST /v1/uploads")]

# --- routes -------------------------------------------------------------------------------------------------


@router.post("", status_code=status.HTTP_201_CREATED)
def initiate_upload(
    body: InitiateUploadRequest, user: Caller, uploads: Service, audit: Audit, correlation_id: CorrelationId
) -> InitiateUploadResponse:
    initiated = uploads.initiate(
        user.user_id,
        NewUpload(
            filename=body.filename,
            size=body.size,
            content_type=body.content_type,
            sha256=body.sha256,
            checksum_algorithm=body.checksum_algorithm,
            correlation_id=correlation_id,
            priority=body.priority,
            callback_url=body.callback_url,
            analysis=body.analysis,
        ),
    )
    session = initiated.session
    plan = session.plan
    assert plan is not None  # /v1/uploads declares the size, so the server plans every upload
    audit.record(
        user,
        AuditAction.UPLOAD_INITIATED,
        resource_type="upload",
        resource_id=session.upload_id,
        file_id=session.file_id,
        size=plan.size,
        correlation_id=session.correlation_id,
    )
    return InitiateUploadResponse(
        upload_id=session.upload_id,
        file_id=session.file_id,
        key=session.key,
        filename=session.filename,
        content_type=session.content_type,
        mode=session.mode,
        size=plan.size,
        part_size=plan.part_size,
        part_count=plan.part_count,
        checksum_algorithm=session.checksum_algorithm,
        expires_at=to_timestamp(session.expires_at),
        single=PresignedRequestModel.of(initiated.single) if initiated.single else None,
        correlation_id=correlation_id,
        priority=session.priority,
        callback_url=session.callback_url,
        analysis=session.analysis,
    )


@router.post("/{upload_id}/parts")
def sign_parts(
    upload_id: UploadId, body: SignPartsRequest, user: Caller, uploads: Service
) -> SignPartsResponse:
    signed = uploads.sign_parts(user.user_id, upload_id, [part.to_request() for part in body.parts])
    return SignPartsResponse(
        parts=[
            SignedPartModel(
                part_number=part.part_number,
                size=part.size,
                method="PUT",
                url=part.request.url,
                headers=part.request.headers,
            )
            for part in signed.parts
        ],
        expires_at=to_timestamp(signed.expires_at),
    )


@router.get("/{upload_id}/parts")
def list_parts(
    upload_id: UploadId,
    user: Caller,
    uploads: Service,
    cursor: Annotated[str | None, Query(max_length=8, description="next_cursor of the previous page")] = None,
) -> ListPartsResponse:
    if cursor is not None and not cursor.isdigit():
        raise PartNumberOutOfRangeError("cursor must be the next_cursor of a previous page")
    page = uploads.list_parts(user.user_id, upload_id, after=int(cursor) if cursor else 0)
    return ListPartsResponse(
        parts=[StoredPartModel.of(part) for part in page.parts],
        next_cursor=str(page.next_marker) if page.next_marker is not None else None,
    )


@router.post("/{upload_id}/complete")
def complete_upload(
    upload_id: UploadId,
    user: Caller,
    uploads: Service,
    audit: Audit,
    body: Annotated[CompleteUploadRequest | None, Body()] = None,
) -> CompleteUploadResponse:
    session = uploads.complete(user.user_id, upload_id, sha256=body.sha256 if body is not None else None)
    audit.record(
        user,
        AuditAction.UPLOAD_COMPLETED,
        resource_type="upload",
        resource_id=upload_id,
        file_id=session.file_id,
        size=session.result.size if session.result is not None else None,
    )
    return completed_response(session)


@router.delete("/{upload_id}")
def abort_upload(upload_id: UploadId, user: Caller, uploads: Service, audit: Audit) -> AbortUploadResponse:
    session = uploads.abort(user.user_id, upload_id)
    audit.record(user, AuditAction.UPLOAD_ABORTED, resource_type="upload", resource_id=upload_id)
    return AbortUploadResponse(upload_id=session.upload_id, status="aborted")


@router.get("/{upload_id}")
def upload_status(upload_id: UploadId, user: Caller, uploads: Service) -> UploadStatusResponse:
    progress = uploads.progress(user.user_id, upload_id)
    session = progress.session
    return UploadStatusResponse(
        upload_id=session.upload_id,
        file_id=session.file_id,
        key=session.key,
        status=session.status,
        mode=session.mode,
        filename=session.filename,
        content_type=session.content_type,
        size=session.result.size if session.result else declared_bytes(session.size),
        part_size=session.part_size,
        part_count=session.part_count,
        checksum_algorithm=session.checksum_algorithm,
        bytes_received=progress.bytes_received,
        parts_received=progress.parts_received,
        created_at=to_timestamp(session.created_at),
        expires_at=to_timestamp(session.expires_at),
        finished_at=to_timestamp(session.finished_at) if session.finished_at else None,
        etag=session.result.etag if session.result else None,
        priority=session.priority,
        callback_url=session.callback_url,
        analysis=session.analysis,
    )
