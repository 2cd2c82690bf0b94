"""Typed errors: one class per kind of failure a caller may want to handle differently.

API errors carry the HTTP status and the API's machine-readable `code`
(`{"error": {"code", "message"}}`); API Gateway's own answers (`{"message": "Unauthorized"}`) map
by status alone.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


class FileflowClientError(Exception):
    """Base of every error this package raises."""


class ApiError(FileflowClientError):
    """The API answered with an error status."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{message} ({status} {code})")
        self.status = status
        self.code = code
        self.message = message


class InvalidRequestError(ApiError):
    """400/422: the request was refused as malformed (a bug, or an invalid file name or size)."""


class AuthenticationError(ApiError):
    """401: no token, or a token that is invalid or expired."""


class PermissionDeniedError(ApiError):
    """403: the token is valid but does not allow this."""


class QuotaExceededError(PermissionDeniedError):
    """403: the user's storage quota (bytes or files) would be exceeded."""


class NotFoundError(ApiError):
    """404: no such upload, file, review or webhook endpoint (or not yours: the API answers the same)."""


class ConflictError(ApiError):
    """409: the resource is not in a state that allows this (a review already decided, a limit reached)."""


class UploadStateError(ConflictError):
    """409: the upload is not in a state that allows this (completed, aborted, parts missing)."""


class PreconditionFailedError(ApiError):
    """412: an `If-Match` no longer holds (the file's tags changed meanwhile)."""


class UploadExpiredError(UploadStateError):
    """The upload expired before it was completed."""


class FileTooLargeError(ApiError):
    """413: the file is larger than Fileflow accepts."""


class UnsupportedMediaTypeError(ApiError):
    """415: the content type is not accepted."""


class RateLimitedError(ApiError):
    """429: too many requests; retried with backoff before this is raised."""


class ServerError(ApiError):
    """5xx: the API failed; retried with backoff before this is raised."""


class ApiUnreachableError(FileflowClientError):
    """The API could not be reached (connection refused, DNS, timeout) after retries."""


class ProtocolError(FileflowClientError):
    """The API answered something this client does not understand (a contract mismatch)."""


class TransferError(FileflowClientError):
    """Storage refused or kept failing a part (or single-request) upload after retries."""

    def __init__(
        self, message: str, *, part_number: int | None, status: int | None, code: str | None
    ) -> None:
        super().__init__(message)
        self.part_number = part_number
        self.status = status
        self.code = code


class IntegrityError(FileflowClientError):
    """What was stored does not match the local file."""


class FileChangedError(IntegrityError):
    """The local file changed while it was being uploaded; the upload was not completed."""


# The API's error codes that need a finer class than their status gives.
ERROR_BY_CODE: Mapping[str, type[ApiError]] = {
    "Unauthenticated": AuthenticationError,
    "InvalidToken": AuthenticationError,
    "QuotaExceeded": QuotaExceededError,
    "UploadNotFound": NotFoundError,
    "UploadNotActive": UploadStateError,
    "UploadCompleted": UploadStateError,
    "UploadAborted": UploadStateError,
    "UploadExpired": UploadExpiredError,
    "MultipartUploadGone": UploadStateError,
    "NotMultipartUpload": UploadStateError,
    "NotUploaded": UploadStateError,
    "MissingParts": UploadStateError,
    "PartSizeMismatch": UploadStateError,
    "PartMismatch": UploadStateError,
    "SizeMismatch": UploadStateError,
}

ERROR_BY_STATUS: Mapping[int, type[ApiError]] = {
    400: InvalidRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    410: UploadExpiredError,
    412: PreconditionFailedError,
    413: FileTooLargeError,
    415: UnsupportedMediaTypeError,
    422: InvalidRequestError,
    429: RateLimitedError,
}

_CODE_BY_STATUS: Mapping[int, str] = {
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    413: "PayloadTooLarge",
    415: "UnsupportedMediaType",
    429: "TooManyRequests",
}


def api_error(status: int, body: bytes) -> ApiError:
    """The typed error for an API error answer (our error body, API Gateway's, or none)."""
    code, message = _code_and_message(status, body)
    cls = ERROR_BY_CODE.get(code) or ERROR_BY_STATUS.get(status)
    if cls is None:
        cls = ServerError if status >= 500 else ApiError
    return cls(status, code, message)


def _code_and_message(status: int, body: bytes) -> tuple[str, str]:
    default_code = _CODE_BY_STATUS.get(status, "InternalError" if status >= 500 else f"Http{status}")
    try:
        parsed: Any = json.loads(body)
    except ValueError:
        text = body.decode("utf-8", "replace").strip()[:200]
        return default_code, text or f"HTTP {status}"
    if isinstance(parsed, dict):
        error = parsed.get("error")
        if isinstance(error, dict):
            return str(error.get("code") or default_code), str(error.get("message") or f"HTTP {status}")
        # API Gateway's own answers (authorizer denials, throttling): {"message": ...} / {"Message": ...}
        message = parsed.get("message") or parsed.get("Message")
        if isinstance(message, str):
            return default_code, message
        # FastAPI's validation errors: {"detail": [...]}
        if "detail" in parsed:
            return "ValidationError" if status == 422 else default_code, str(parsed["detail"])[:500]
    return default_code, f"HTTP {status}"
