"""Authentication and rate limiting: their statuses, and the headers those statuses need."""

from collections.abc import Mapping
from http import HTTPStatus

from fileflow_api.auth.identity import ForbiddenError, UnauthenticatedError
from fileflow_api.auth.ratelimit import RateLimitedError
from fileflow_common.errors import FileflowError
from fileflow_common.tokens import InvalidTokenError, TokenKeysUnavailableError

ERROR_STATUS: Mapping[type[FileflowError], int] = {
    UnauthenticatedError: HTTPStatus.UNAUTHORIZED,
    ForbiddenError: HTTPStatus.FORBIDDEN,
    InvalidTokenError: HTTPStatus.UNAUTHORIZED,
    TokenKeysUnavailableError: HTTPStatus.SERVICE_UNAVAILABLE,
    RateLimitedError: HTTPStatus.TOO_MANY_REQUESTS,
}


def error_headers(error: FileflowError) -> dict[str, str] | None:
    """The auth scheme with a 401 (RFC 6750), the wait with a 429 (RFC 6585)."""
    if isinstance(error, UnauthenticatedError | InvalidTokenError):
        return {"WWW-Authenticate": "Bearer"}
    if isinstance(error, RateLimitedError):
        return {"Retry-After": str(error.retry_after_seconds)}
    return None
