"""The wire shapes of /v1/uploads (docs/api-contract.md): requests, responses, and their mapping."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StrictInt

from fileflow_api.uploads.errors import InvalidPartRequestError
from fileflow_api.uploads.model import (
    DEFAULT_ANALYSIS,
    DEFAULT_PRIORITY,
    MAX_PRIORITY,
    MIN_PRIORITY,
    AnalysisMode,
    Checksum,
    ChecksumAlgorithm,
    PartRequest,
    PresignedRequest,
    StoredPart,
    UploadMode,
    UploadSession,
    UploadStatus,
)
from fileflow_common.clock import to_timestamp

Priority = Annotated[
    StrictInt,
    Field(
        ge=MIN_PRIORITY,
        le=MAX_PRIORITY,
        description=f"processing priority: {MIN_PRIORITY} (most urgent) to {MAX_PRIORITY}",
    ),
]
CallbackUrl = Annotated[
    str | None,
    Field(
        max_length=2048,
        description=(
            "a one-off https URL that gets this upload's webhook events too, signed with the secret of your "
            "oldest enabled webhook endpoint (one is required); public addresses only"
        ),
    ),
]

Analysis = Annotated[
    AnalysisMode,
    Field(
        description=(
            "local: local analysis only; auto: Claude where the routing policy says it pays; deep: Claude "
            "with the strong model (docs/ai.md)"
        )
    ),
]


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
    priority: Priority = DEFAULT_PRIORITY
    callback_url: CallbackUrl = None
    analysis: Analysis = DEFAULT_ANALYSIS


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
    priority: int
    callback_url: str | None
    analysis: AnalysisMode


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
    """S3's part list (ListParts) is checked against the plan, not a list from the client."""

    sha256: Annotated[
        str | None,
        Field(
            max_length=128,
            description=(
                "hex SHA-256 of the whole file (64 hex digits, else 422 InvalidChecksum), instead of "
                "declaring it on initiate: multipart uploads only (409 Sha256TooLate for a single PUT); "
                "409 Sha256Mismatch when another one was declared"
            ),
        ),
    ] = None


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
    sha256: Annotated[str | None, Field(description="as declared on initiate or complete")]
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
    priority: int
    callback_url: str | None
    analysis: AnalysisMode


def checksum_model(checksum: Checksum | None) -> ChecksumModel | None:
    if checksum is None:
        return None
    return ChecksumModel(algorithm=checksum.algorithm, value=checksum.value, type=checksum.type)


def completed_response(session: UploadSession) -> CompleteUploadResponse:
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
        checksum=checksum_model(session.result.checksum),
        completed_at=to_timestamp(session.finished_at),
    )
