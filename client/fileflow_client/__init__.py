"""Fileflow's Python SDK: uploads (parallel, checksummed, resumable, straight to storage), files,
downloads, live events, reviews, webhooks and usage; sync (`FileflowClient`) and async
(`AsyncFileflowClient`). Reference: docs/client.md."""

from fileflow_client.aio import AsyncFileflowClient
from fileflow_client.api import AbortedUpload, HeldPart, UploadOptions, UploadStatus
from fileflow_client.batch import BatchCancelledError, BatchResult, FailedUpload
from fileflow_client.client import (
    DEFAULT_CONCURRENCY,
    FileflowClient,
    Progress,
    ProgressCallback,
    UploadResult,
)
from fileflow_client.download import DownloadResult
from fileflow_client.errors import (
    ApiError,
    ApiUnreachableError,
    AuthenticationError,
    ConflictError,
    FileChangedError,
    FileflowClientError,
    FileTooLargeError,
    IntegrityError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    PreconditionFailedError,
    ProtocolError,
    QuotaExceededError,
    RateLimitedError,
    ServerError,
    TransferError,
    UnsupportedMediaTypeError,
    UploadExpiredError,
    UploadStateError,
)
from fileflow_client.files import (
    Derivative,
    EventsPage,
    FileDetail,
    FileEvent,
    FileSummary,
    SignedDownload,
    Tags,
    WaitTimeoutError,
)
from fileflow_client.retry import RetryPolicy
from fileflow_client.reviews import Review
from fileflow_client.usage import Usage
from fileflow_client.webhooks import Delivery, Redelivery, WebhookEndpoint

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_CONCURRENCY",
    "AbortedUpload",
    "ApiError",
    "ApiUnreachableError",
    "AsyncFileflowClient",
    "AuthenticationError",
    "BatchCancelledError",
    "BatchResult",
    "ConflictError",
    "Delivery",
    "Derivative",
    "DownloadResult",
    "EventsPage",
    "FailedUpload",
    "FileChangedError",
    "FileDetail",
    "FileEvent",
    "FileSummary",
    "FileTooLargeError",
    "FileflowClient",
    "FileflowClientError",
    "HeldPart",
    "IntegrityError",
    "InvalidRequestError",
    "NotFoundError",
    "PermissionDeniedError",
    "PreconditionFailedError",
    "Progress",
    "ProgressCallback",
    "ProtocolError",
    "QuotaExceededError",
    "RateLimitedError",
    "Redelivery",
    "RetryPolicy",
    "Review",
    "ServerError",
    "SignedDownload",
    "Tags",
    "TransferError",
    "UnsupportedMediaTypeError",
    "UploadExpiredError",
    "UploadOptions",
    "UploadResult",
    "UploadStateError",
    "UploadStatus",
    "Usage",
    "WaitTimeoutError",
    "WebhookEndpoint",
]
