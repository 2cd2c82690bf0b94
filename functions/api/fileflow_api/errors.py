"""The one place where errors become HTTP responses.

FastAPI's own handlers stay in charge of 404/405 (HTTPException). Request validation answers 422 in the
API's error format (FastAPI's `detail` list kept alongside), and 400 when the body is not JSON at all.
"""

from collections.abc import Mapping

from fastapi import FastAPI, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from fileflow_api.auth.identity import UnauthenticatedError
from fileflow_api.auth.ratelimit import RateLimitedError
from fileflow_api.core.cursors import InvalidCursorError
from fileflow_api.core.security import SECURITY_HEADERS
from fileflow_api.files.service import (
    FileUploadingError,
    InvalidQueryError,
    InvalidTagsError,
    TagsConflictError,
    TagsVersionMismatchError,
    UnknownFileError,
)
from fileflow_api.hls.service import PlaylistInvalidError
from fileflow_api.uploads.filenames import InvalidFilenameError
from fileflow_api.uploads.service import (
    InvalidChecksumError,
    InvalidContentTypeError,
    InvalidPartRequestError,
    MissingPartsError,
    NotMultipartUploadError,
    NotUploadedError,
    PartMismatchError,
    PartNumberOutOfRangeError,
    PartSizeMismatchError,
    SizeMismatchError,
    UnsupportedContentTypeError,
    UploadTooLargeError,
)
from fileflow_api.uploads.session import MultipartUploadGoneError, UploadNotFoundError, UploadStateError
from fileflow_api.usage.quotas import QuotaExceededError
from fileflow_common.errors import FileflowError, InvalidIdentifierError
from fileflow_common.observability import logger
from fileflow_common.tokens import InvalidTokenError, TokenKeysUnavailableError

# Looked up along the exception's MRO, so a subclass inherits its parent's status.
STATUS_BY_ERROR: Mapping[type[FileflowError], int] = {
    UnauthenticatedError: status.HTTP_401_UNAUTHORIZED,
    InvalidTokenError: status.HTTP_401_UNAUTHORIZED,
    TokenKeysUnavailableError: status.HTTP_503_SERVICE_UNAVAILABLE,
    RateLimitedError: status.HTTP_429_TOO_MANY_REQUESTS,
    QuotaExceededError: status.HTTP_403_FORBIDDEN,
    # Uploads (docs/api-contract.md, "Errors").
    UploadNotFoundError: status.HTTP_404_NOT_FOUND,
    UploadStateError: status.HTTP_409_CONFLICT,
    MultipartUploadGoneError: status.HTTP_409_CONFLICT,
    NotMultipartUploadError: status.HTTP_409_CONFLICT,
    NotUploadedError: status.HTTP_409_CONFLICT,
    MissingPartsError: status.HTTP_409_CONFLICT,
    PartSizeMismatchError: status.HTTP_409_CONFLICT,
    PartMismatchError: status.HTTP_409_CONFLICT,
    SizeMismatchError: status.HTTP_409_CONFLICT,
    UploadTooLargeError: status.HTTP_413_CONTENT_TOO_LARGE,
    UnsupportedContentTypeError: status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
    InvalidFilenameError: status.HTTP_422_UNPROCESSABLE_CONTENT,
    InvalidContentTypeError: status.HTTP_422_UNPROCESSABLE_CONTENT,
    InvalidPartRequestError: status.HTTP_422_UNPROCESSABLE_CONTENT,
    InvalidChecksumError: status.HTTP_422_UNPROCESSABLE_CONTENT,
    PartNumberOutOfRangeError: status.HTTP_400_BAD_REQUEST,
    InvalidIdentifierError: status.HTTP_400_BAD_REQUEST,
    # Files (docs/files-api.md, "Errors").
    UnknownFileError: status.HTTP_404_NOT_FOUND,
    InvalidCursorError: status.HTTP_400_BAD_REQUEST,
    InvalidTagsError: status.HTTP_422_UNPROCESSABLE_CONTENT,
    InvalidQueryError: status.HTTP_422_UNPROCESSABLE_CONTENT,
    FileUploadingError: status.HTTP_409_CONFLICT,
    TagsConflictError: status.HTTP_409_CONFLICT,
    TagsVersionMismatchError: status.HTTP_412_PRECONDITION_FAILED,
    # HLS (docs/files-api.md, "HLS playlists"); PlaylistNotFound is a FileNotFound: 404.
    PlaylistInvalidError: status.HTTP_502_BAD_GATEWAY,
    FileflowError: status.HTTP_400_BAD_REQUEST,
}


def status_for(error: FileflowError) -> int:
    return next(STATUS_BY_ERROR[cls] for cls in type(error).__mro__ if cls in STATUS_BY_ERROR)


def headers_for(error: FileflowError) -> dict[str, str] | None:
    """Headers a status needs: the auth scheme with a 401 (RFC 6750), the wait with a 429 (RFC 6585)."""
    if isinstance(error, UnauthenticatedError | InvalidTokenError):
        return {"WWW-Authenticate": "Bearer"}
    if isinstance(error, RateLimitedError):
        return {"Retry-After": str(error.retry_after_seconds)}
    return None


def error_body(code: str, message: str) -> dict[str, dict[str, str]]:
    return {"error": {"code": code, "message": message}}


async def _domain_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, FileflowError)
    return JSONResponse(
        status_code=status_for(exc), content=error_body(exc.code, str(exc)), headers=headers_for(exc)
    )


async def _invalid_request(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    malformed = next((error for error in errors if error.get("type") == "json_invalid"), None)
    if malformed is not None:
        reason = (malformed.get("ctx") or {}).get("error", "")
        return JSONResponse(
            status_code=status.HTTP_400_BAD_REQUEST,
            content=error_body("MalformedJson", f"the request body is not valid JSON: {reason}".rstrip(": ")),
        )
    first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
    location = ".".join(str(part) for part in first.get("loc", ()))
    return JSONResponse(
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        content={
            **error_body("InvalidRequest", f"{location}: {first.get('msg')}".lstrip(": ")),
            "detail": jsonable_encoder(errors),
        },
    )


async def _unexpected_error(_: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error", extra={"error_type": type(exc).__name__})
    # Starlette serves this from outside the middleware stack: the headers must be set here.
    return JSONResponse(
        status_code=status.HTTP_500_INTERNAL_SERVER_ERROR,
        content=error_body("InternalError", "internal error"),
        headers=SECURITY_HEADERS,
    )


def register_exception_handlers(app: FastAPI) -> None:
    app.add_exception_handler(FileflowError, _domain_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(Exception, _unexpected_error)
