"""One clear sentence for each kind of failure, with what to do about it, and its exit code."""

from __future__ import annotations

from fileflow_client.batch import BatchCancelledError
from fileflow_client.cli.output import EXIT_AUTH, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_NOT_FOUND
from fileflow_client.errors import (
    ApiError,
    ApiUnreachableError,
    AuthenticationError,
    ConflictError,
    FileChangedError,
    FileTooLargeError,
    IntegrityError,
    NotFoundError,
    PermissionDeniedError,
    QuotaExceededError,
    TransferError,
    UnsupportedMediaTypeError,
    UploadExpiredError,
    UploadStateError,
)
from fileflow_client.files import WaitTimeoutError


def exit_code(error: BaseException) -> int:
    match error:
        case NotFoundError():
            return EXIT_NOT_FOUND
        case AuthenticationError() | PermissionDeniedError() if not isinstance(error, QuotaExceededError):
            return EXIT_AUTH
        case BatchCancelledError():
            return EXIT_INTERRUPTED
    return EXIT_FAILED


def describe(error: BaseException, *, subject: str | None = None) -> str:
    """`subject`: what the command was about ("upload up_1", "file f_1"), for a not-found answer."""
    match error:
        case AuthenticationError():
            return (
                f"authentication failed ({error.status}): the token is missing, invalid or expired. "
                "Get a new one (e.g. `make token USER=alice`), then `fileflow login` or set FILEFLOW_TOKEN."
            )
        case QuotaExceededError():
            return f"your storage quota is used up ({error.status}): {error.message}"
        case PermissionDeniedError():
            return f"not allowed ({error.status} {error.code}): {error.message}"
        case FileTooLargeError():
            return f"the file is too large for Fileflow ({error.status}): {error.message}"
        case UnsupportedMediaTypeError():
            return (
                f"this content type is not accepted ({error.status}): {error.message}. "
                "Pass an accepted one with --content-type."
            )
        case NotFoundError():
            what = subject or "it"
            return f"{what} was not found ({error.status}): it does not exist or is not yours"
        case UploadExpiredError():
            return f"the upload expired ({error.status}): start it again"
        case UploadStateError():
            return (
                f"not possible in the upload's current state ({error.status} {error.code}): {error.message}"
            )
        case ConflictError():
            return f"not possible now ({error.status} {error.code}): {error.message}"
        case ApiError():
            return f"the API refused the request ({error.status} {error.code}): {error.message}"
        case ApiUnreachableError():
            return f"{error} (is the API URL right, and the service up?)"
        case FileChangedError():
            return f"{error}; the upload was not completed. Upload the file again once it stops changing."
        case IntegrityError():
            return f"the bytes do not match: {error}"
        case TransferError():
            return f"{error}. Run the same command again to resume."
        case WaitTimeoutError():
            return f"{error}; `fileflow wait` again to keep waiting"
        case FileNotFoundError() | IsADirectoryError() | PermissionError():
            return str(error)
    return f"{type(error).__name__}: {error}"
