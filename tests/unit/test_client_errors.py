"""API error answers become typed SDK errors."""

import json

import pytest

from fileflow_client.errors import (
    ApiError,
    AuthenticationError,
    FileTooLargeError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    QuotaExceededError,
    ServerError,
    UnsupportedMediaTypeError,
    UploadExpiredError,
    UploadStateError,
    api_error,
)


def body(code: str, message: str = "m") -> bytes:
    return json.dumps({"error": {"code": code, "message": message}}).encode()


@pytest.mark.parametrize(
    ("status", "payload", "expected", "code"),
    [
        (400, body("InvalidIdentifier"), InvalidRequestError, "InvalidIdentifier"),
        (401, b'{"message": "Unauthorized"}', AuthenticationError, "Unauthorized"),
        (
            403,
            b'{"Message": "User is not authorized to access this resource"}',
            PermissionDeniedError,
            "Forbidden",
        ),
        (403, body("QuotaExceeded"), QuotaExceededError, "QuotaExceeded"),
        (401, body("InvalidToken"), AuthenticationError, "InvalidToken"),
        (404, body("UploadNotFound"), NotFoundError, "UploadNotFound"),
        (409, body("UploadCompleted"), UploadStateError, "UploadCompleted"),
        (409, body("UploadExpired"), UploadExpiredError, "UploadExpired"),
        (413, body("UploadTooLarge", "at most 100 GiB"), FileTooLargeError, "UploadTooLarge"),
        (415, body("UnsupportedContentType"), UnsupportedMediaTypeError, "UnsupportedContentType"),
        (422, b'{"detail": [{"loc": ["body", "size"]}]}', InvalidRequestError, "ValidationError"),
        (502, b"Bad Gateway", ServerError, "InternalError"),
        (418, b"", ApiError, "Http418"),
    ],
)
def test_error_answers_map_to_typed_errors(status: int, payload: bytes, expected: type[ApiError], code: str):
    error = api_error(status, payload)
    assert type(error) is expected
    assert error.status == status
    assert error.code == code


def test_the_apis_message_is_kept():
    error = api_error(413, body("UploadTooLarge", "uploads are limited to 100 GiB"))
    assert error.message == "uploads are limited to 100 GiB"
    assert "413" in str(error)
