"""Uppy's Companion S3 routes, for the stock @uppy/aws-s3 plugin (`companionEndpoint = {api}/uppy/{token}`).

Same request and response shapes as Companion (packages/@uppy/companion/src/server/controllers/s3.ts),
on top of the same upload sessions as /v1/uploads: the same content-type and size limits, keys
generated here, and every upload looked up by (token's user, upload id, key), so another user's
upload is "not found". `uploadId` is the Fileflow upload id, not S3's.

The plugin never declares a file's size (unless the page adds `size` to the file's metadata) and
chooses its own part size, so these uploads are checked when completed: parts present with the
ETags the browser got, at least 5 MiB each but the last, total within the maximum upload size.
A page may also set `priority` (1 to 9), `callback_url` and `analysis` (local, auto, deep) in the file's
metadata, as on POST /v1/uploads.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field, StrictInt

from fileflow_api.audit.request import Audit
from fileflow_api.audit.trail import AuditAction
from fileflow_api.auth.identity import User, uppy_user
from fileflow_api.core.correlation import CorrelationId
from fileflow_api.uploads.errors import (
    InvalidAnalysisModeError,
    InvalidPartRequestError,
    InvalidPriorityError,
)
from fileflow_api.uploads.model import (
    DEFAULT_ANALYSIS,
    DEFAULT_PRIORITY,
    MAX_PRIORITY,
    MIN_PRIORITY,
    AnalysisMode,
    BrowserUpload,
    ClientPart,
    DeclaredSize,
    FileSize,
    PartRequest,
    UnknownSize,
)
from fileflow_api.uploads.session_routes import Service, UploadId

router = APIRouter(prefix="/uppy/{token}/s3", tags=["uppy"])

Owner = Annotated[User, Depends(uppy_user)]
ObjectKey = Annotated[str, Query(description="the key returned when the upload was created")]
# Uppy sends this type for files the browser cannot name; Companion lets S3 default an empty one.
_UNKNOWN_TYPE = "application/octet-stream"


def _declared_size(metadata: dict[str, Any]) -> FileSize:
    """The file size a page may put in Uppy's metadata (`size`); Companion itself ignores it."""
    value = metadata.get("size")
    if value is None:
        return UnknownSize()
    text = str(value).strip()
    if not text.isdigit():
        raise InvalidPartRequestError("metadata size must be a number of bytes")
    return DeclaredSize(int(text))


def _priority(metadata: dict[str, Any]) -> int:
    """`metadata[priority]`, a number the service checks; none: the default."""
    value = metadata.get("priority")
    if value is None:
        return DEFAULT_PRIORITY
    text = str(value).strip()
    if not text.lstrip("-").isdigit():
        raise InvalidPriorityError(
            f"metadata priority must be an integer from {MIN_PRIORITY} to {MAX_PRIORITY}, not {text[:20]!r}"
        )
    return int(text)


def _analysis(metadata: dict[str, Any]) -> AnalysisMode:
    """`metadata[analysis]`: local, auto or deep; none: the default."""
    value = metadata.get("analysis")
    if value is None or value == "":
        return DEFAULT_ANALYSIS
    try:
        return AnalysisMode(str(value).strip())
    except ValueError:
        modes = ", ".join(mode.value for mode in AnalysisMode)
        raise InvalidAnalysisModeError(
            f"metadata analysis must be one of {modes}, not {str(value)[:20]!r}"
        ) from None


def _callback_url(metadata: dict[str, Any]) -> str | None:
    value = metadata.get("callback_url")
    return None if value is None or value == "" else str(value)


def _browser_upload(
    filename: str, uppy_type: str, metadata: dict[str, Any], correlation_id: str, *, form_post: bool
) -> BrowserUpload:
    """What both Uppy flows ask for, in the terms of the upload service."""
    return BrowserUpload(
        filename=filename,
        content_type=uppy_type or _UNKNOWN_TYPE,
        size=_declared_size(metadata),
        form_post=form_post,
        correlation_id=correlation_id,
        priority=_priority(metadata),
        callback_url=_callback_url(metadata),
        analysis=_analysis(metadata),
    )


def _audit_initiated(audit: Audit, owner: User, upload_id: str, correlation_id: str) -> None:
    # Companion's answers keep Companion's shape: the correlation id is on the file (GET /v1/files/{id}),
    # in the audit event and on the object (`x-amz-meta-correlation-id`).
    audit.record(
        owner,
        AuditAction.UPLOAD_INITIATED,
        resource_type="upload",
        resource_id=upload_id,
        via="uppy",
        correlation_id=correlation_id,
    )


class CreateMultipartBody(BaseModel):
    filename: Annotated[str, Field(min_length=1, max_length=4096)]
    type: str = ""
    metadata: dict[str, Any] = Field(default_factory=dict)


class CompletedPart(BaseModel):
    # Companion's field names
    PartNumber: StrictInt
    ETag: Annotated[str, Field(min_length=1, max_length=128)]


class CompleteMultipartBody(BaseModel):
    parts: Annotated[list[CompletedPart], Field(max_length=10_000)]


@router.get("/params")
def upload_parameters(
    request: Request,
    owner: Owner,
    uploads: Service,
    audit: Audit,
    correlation_id: CorrelationId,
    filename: Annotated[str, Query(min_length=1, max_length=4096)],
    type: Annotated[str, Query(max_length=255)] = "",  # Companion's parameter name
) -> dict[str, Any]:
    """A presigned POST (form upload) for one file: `{method, url, fields, expires}`."""
    metadata = {
        name[len("metadata[") : -1]: value
        for name, value in request.query_params.items()
        if name.startswith("metadata[") and name.endswith("]")
    }
    initiated = uploads.initiate(
        owner.user_id, _browser_upload(filename, type, metadata, correlation_id, form_post=True)
    )
    session, post = initiated.session, initiated.post
    assert post is not None  # a form upload is one presigned POST
    _audit_initiated(audit, owner, session.upload_id, correlation_id)
    expires = int((session.expires_at - session.created_at).total_seconds())
    return {"method": "POST", "url": post.url, "fields": post.fields, "expires": expires}


@router.post("/multipart")
def create_multipart_upload(
    body: CreateMultipartBody, owner: Owner, uploads: Service, audit: Audit, correlation_id: CorrelationId
) -> dict[str, str]:
    upload = _browser_upload(body.filename, body.type, body.metadata, correlation_id, form_post=False)
    session = uploads.initiate(owner.user_id, upload).session
    _audit_initiated(audit, owner, session.upload_id, correlation_id)
    return {"key": session.key, "uploadId": session.upload_id, "bucket": uploads.bucket_name}


@router.get("/multipart/{upload_id}")
def list_uploaded_parts(
    upload_id: UploadId, key: ObjectKey, owner: Owner, uploads: Service
) -> list[dict[str, Any]]:
    parts = uploads.all_parts(owner.user_id, upload_id, key=key)
    return [{"PartNumber": part.part_number, "Size": part.size, "ETag": f'"{part.etag}"'} for part in parts]


@router.get("/multipart/{upload_id}/batch")
def sign_part_batch(
    upload_id: UploadId,
    key: ObjectKey,
    owner: Owner,
    uploads: Service,
    partNumbers: Annotated[str, Query(max_length=2000)],  # noqa: N803 - Companion's parameter name
) -> dict[str, dict[str, str]]:
    numbers = [number.strip() for number in partNumbers.split(",")]
    if not all(number.isdigit() for number in numbers):
        raise InvalidPartRequestError("partNumbers must be comma-separated part numbers, e.g. 1,2,3")
    signed = uploads.sign_parts(
        owner.user_id, upload_id, [PartRequest(part_number=int(number)) for number in numbers], key=key
    )
    return {"presignedUrls": {str(part.part_number): part.request.url for part in signed.parts}}


@router.get("/multipart/{upload_id}/{part_number}")
def sign_part(
    upload_id: UploadId, part_number: int, key: ObjectKey, owner: Owner, uploads: Service
) -> dict[str, Any]:
    signed = uploads.sign_parts(owner.user_id, upload_id, [PartRequest(part_number=part_number)], key=key)
    [part] = signed.parts
    return {"url": part.request.url, "expires": signed.expires_in}


@router.post("/multipart/{upload_id}/complete")
def complete_multipart_upload(
    upload_id: UploadId,
    key: ObjectKey,
    body: CompleteMultipartBody,
    owner: Owner,
    uploads: Service,
    audit: Audit,
) -> dict[str, str]:
    session = uploads.complete(
        owner.user_id,
        upload_id,
        key=key,
        client_parts=[ClientPart(part_number=part.PartNumber, etag=part.ETag) for part in body.parts],
    )
    audit.record(
        owner, AuditAction.UPLOAD_COMPLETED, resource_type="upload", resource_id=upload_id, via="uppy"
    )
    return {"location": uploads.object_url(session.key), "key": session.key, "bucket": uploads.bucket_name}


@router.delete("/multipart/{upload_id}")
def abort_multipart_upload(
    upload_id: UploadId, key: ObjectKey, owner: Owner, uploads: Service, audit: Audit
) -> dict[str, str]:
    uploads.abort(owner.user_id, upload_id, key=key)
    audit.record(owner, AuditAction.UPLOAD_ABORTED, resource_type="upload", resource_id=upload_id, via="uppy")
    return {}
