"""Fileflow's Python SDK: parallel, checksummed, resumable uploads straight to storage."""

from fileflow_client.api import AbortedUpload, HeldPart, UploadStatus
from fileflow_client.client import (
    DEFAULT_CONCURRENCY,
    FileflowClient,
    Progress,
    ProgressCallback,
    UploadResult,
)
from fileflow_client.errors import (
    ApiError,
    ApiUnreachableError,
    AuthenticationError,
    FileChangedError,
    FileflowClientError,
    FileTooLargeError,
    IntegrityError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    ProtocolError,
    QuotaExceededError,
    RateLimitedError,
    ServerError,
    TransferError,
    UnsupportedMediaTypeError,
    UploadExpiredError,
    UploadStateError,
)
from fileflow_client.retry import RetryPolicy

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_CONCURRENCY",
    "AbortedUpload",
    "ApiError",
    "ApiUnreachableError",
    "AuthenticationError",
    "FileChangedError",
    "FileTooLargeError",
    "FileflowClient",
    "FileflowClientError",
    "HeldPart",
    "IntegrityError",
    "InvalidRequestError",
    "NotFoundError",
    "PermissionDeniedError",
    "Progress",
    "ProgressCallback",
    "ProtocolError",
    "QuotaExceededError",
    "RateLimitedError",
    "RetryPolicy",
    "ServerError",
    "TransferError",
    "UnsupportedMediaTypeError",
    "UploadExpiredError",
    "UploadResult",
    "UploadStateError",
    "UploadStatus",
]
