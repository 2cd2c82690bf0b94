"""/v1/uploads: resumable presigned uploads straight to S3 (docs/api-contract.md). Thin: parse, call, map."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Security, status
from pydantic import BaseModel, Field, StrictInt

from fileflow_api.audit.request import Audit
from fileflow_api.audit.trail import AuditAction
from fileflow_api.auth.identity import BEARER_AUTH, User, current_user
from fileflow_api.core.correlation import CorrelationId
from fileflow_api.dependencies import get_dependencies
from fileflow_api.uploads.service import (
    InvalidPartRequestError,
    NewUpload,
    PartNumberOutOfRangeError,
    PartRequest,
    UploadService,
)
from fileflow_api.uploads.session import (
    Checksum,
    ChecksumAlgorithm,
    PresignedRequest,
    StoredPart,
    UploadMode,
    UploadSession,
    UploadStatus,
)
from fileflow_common.clock import to_timestamp

router = APIRouter(prefix="/v1/uploads", tags=["uploads"], dependencies=[Security(BEARER_AUTH)])


def get_upload_service(request: Request) -> UploadService:
    service = get_dependencies(request).uploads
    if service is None:
        raise RuntimeError("uploads are not configured: ApiDependencies.uploads is None")
    return service


Service = Annotated[UploadService, Depends(get_upload_service)]
Caller = Annotated[User, Depends(current_user)]
UploadId = Annotated[str, Path(description="the upload id returned by POST /v1/uploads")]

# --- models -------------------------------------------------------------------------------------------------


class InitiateUploadRequest(BaseModel):
    filename: Annotated[str, Field(min_length=1, max_length=4096, description="metadata only, never the key")]
    size: Annotated[StrictInt, Field(ge=0, description="bytes")]
    content_type: Annotated[str, Field(min_length=1, max_length=255)]
    sha256: Annotated[
        str | None, Field(pattern=r"^[0-9a-fA-F]{64}$", description="hex SHA-256 of the whole file")
    ] = None
    checksum_algorithm: Annotated[
        ChecksumAlgorithm | None,
        Field(description="multipart: every part will carry this checksum, verified by S3"),
    ] = None


class PresignedRequestModel(BaseModel):
    method: Literal["PUT"]
    url: str
    headers: Annotated[dict[str, str], Field(description="send exactly these: they are signed")]

    @classmethod
    def of(cls, request: PresignedRequest) -> PresignedRequestModel:
        return cls(method="PUT", url=request.url, headers=request.headers)


class InitiateUploadResponse(BaseModel):
    upload_id: str
    file_id: str
    key: str
    filename: Annotated[str, Field(description="as stored: directories dropped, NFC-normalised")]
    content_type: str
    mode: UploadMode
    size: int
    part_size: int
    part_count: int
    checksum_algorithm: ChecksumAlgorithm | None
    expires_at: str
    single: Annotated[PresignedRequestModel | None, Field(description="mode single: PUT the file here")]
    correlation_id: Annotated[
        str, Field(description="this request's id, carried by the file, its object and its processing")
    ]


class PartToSign(BaseModel):
    part_number: StrictInt
    checksum_sha256: Annotated[str | None, Field(max_length=64, description="base64 SHA-256")] = None
    checksum_crc32c: Annotated[str | None, Field(max_length=16, description="base64 CRC32C")] = None

    def to_request(self) -> PartRequest:
        if self.checksum_sha256 is not None and self.checksum_crc32c is not None:
            raise InvalidPartRequestError(f"part {self.part_number}: give one checksum, not two")
        checksum = None
        if self.checksum_sha256 is not None:
            checksum = Checksum(ChecksumAlgorithm.SHA256, self.checksum_sha256)
        elif self.checksum_crc32c is not None:
            checksum = Checksum(ChecksumAlgorithm.CRC32C, self.checksum_crc32c)
        return PartRequest(part_number=self.part_number, checksum=checksum)


class SignPartsRequest(BaseModel):
    parts: Annotated[list[PartToSign], Field(min_length=1, max_length=100)]


class SignedPartModel(PresignedRequestModel):
    part_number: int
    size: Annotated[int | None, Field(description="the exact Content-Length the URL accepts")]


class SignPartsResponse(BaseModel):
    parts: list[SignedPartModel]
    expires_at: Annotated[str, Field(description="when these URLs stop working")]


class StoredPartModel(BaseModel):
    part_number: int
    size: int
    etag: str
    checksum_sha256: str | None = None
    checksum_crc32c: str | None = None

    @classmethod
    def of(cls, part: StoredPart) -> StoredPartModel:
        checksums = {part.checksum.algorithm: part.checksum.value} if part.checksum else {}
        return cls(
            part_number=part.part_number,
            size=part.size,
            etag=part.etag,
            checksum_sha256=checksums.get(ChecksumAlgorithm.SHA256),
            checksum_crc32c=checksums.get(ChecksumAlgorithm.CRC32C),
        )


class ListPartsResponse(BaseModel):
    parts: list[StoredPartModel]
    next_cursor: Annotated[str | None, Field(description="?cursor= of the next page; null on the last")]


class CompleteUploadRequest(BaseModel):
    """Empty: S3's part list (ListParts) is checked against the plan, not a list from the client."""


class ChecksumModel(BaseModel):
    algorithm: ChecksumAlgorithm
    value: str
    type: str | None


class CompleteUploadResponse(BaseModel):
    upload_id: str
    file_id: str
    key: str
    status: Literal["completed"]
    filename: str
    content_type: str
    size: int
    etag: str
    sha256: Annotated[str | None, Field(description="as declared on initiate")]
    checksum: Annotated[ChecksumModel | None, Field(description="S3's checksum of the object")]
    completed_at: str


class AbortUploadResponse(BaseModel):
    upload_id: str
    status: Literal["aborted"]


class UploadStatusResponse(BaseModel):
    upload_id: str
    file_id: str
    key: str
    status: UploadStatus
    mode: UploadMode
    filename: str
    content_type: str
    size: int | None
    part_size: int | None
    part_count: int | None
    checksum_algorithm: ChecksumAlgorithm | None
    bytes_received: int
    parts_received: int | None
    created_at: str
    expires_at: str
    finished_at: str | None
    etag: str | None


def _checksum_model(checksum: Checksum | None) -> ChecksumModel | None:
    if checksum is None:
        return None
    return ChecksumModel(algorithm=checksum.algorithm, value=checksum.value, type=checksum.type)


def _completed(session: UploadSession) -> CompleteUploadResponse:
    assert session.result is not None
    assert session.finished_at is not None
    return CompleteUploadResponse(
        upload_id=session.upload_id,
        file_id=session.file_id,
        key=session.key,
        status="completed",
        filename=session.filename,
        content_type=session.content_type,
        size=session.result.size,
        etag=session.result.etag,
        sha256=session.sha256,
        checksum=_checksum_model(session.result.checksum),
        completed_at=to_timestamp(session.finished_at),
    )


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
        ),
    )
    session = initiated.session
    audit.record(
        user,
        AuditAction.UPLOAD_INITIATED,
        resource_type="upload",
        resource_id=session.upload_id,
        file_id=session.file_id,
        size=session.size,
        correlation_id=session.correlation_id,
    )
    assert session.size is not None
    assert session.part_size is not None
    assert session.part_count is not None
    return InitiateUploadResponse(
        upload_id=session.upload_id,
        file_id=session.file_id,
        key=session.key,
        filename=session.filename,
        content_type=session.content_type,
        mode=session.mode,
        size=session.size,
        part_size=session.part_size,
        part_count=session.part_count,
        checksum_algorithm=session.checksum_algorithm,
        expires_at=to_timestamp(session.expires_at),
        single=PresignedRequestModel.of(initiated.single) if initiated.single else None,
        correlation_id=correlation_id,
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
    _body: Annotated[CompleteUploadRequest | None, Body()] = None,
) -> CompleteUploadResponse:
    session = uploads.complete(user.user_id, upload_id)
    audit.record(
        user,
        AuditAction.UPLOAD_COMPLETED,
        resource_type="upload",
        resource_id=upload_id,
        file_id=session.file_id,
    )
    return _completed(session)


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
        size=session.size,
        part_size=session.part_size,
        part_count=session.part_count,
        checksum_algorithm=session.checksum_algorithm,
        bytes_received=progress.bytes_received,
        parts_received=progress.parts_received,
        created_at=to_timestamp(session.created_at),
        expires_at=to_timestamp(session.expires_at),
        finished_at=to_timestamp(session.finished_at) if session.finished_at else None,
        etag=session.result.etag if session.result else None,
    )
