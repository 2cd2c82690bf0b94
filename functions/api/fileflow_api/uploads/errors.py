"""The uploads capability's errors and their HTTP statuses (docs/api-contract.md, "Errors")."""

from collections.abc import Mapping
from http import HTTPStatus

from fileflow_api.uploads.filenames import InvalidFilenameError
from fileflow_api.uploads.model import UploadSession, UploadStatus
from fileflow_common.errors import FileflowError


class UploadNotFoundError(FileflowError):
    """No such upload for this user (another user's upload is "not found" too)."""

    code = "UploadNotFound"


class UploadStateError(FileflowError):
    """The upload is no longer `initiated`, so the operation cannot apply."""

    code = "UploadNotActive"

    def __init__(self, message: str, *, status: UploadStatus) -> None:
        super().__init__(message)
        self.status = status


class UploadCompletedError(UploadStateError):
    code = "UploadCompleted"


class UploadAbortedError(UploadStateError):
    code = "UploadAborted"


class UploadExpiredError(UploadStateError):
    code = "UploadExpired"


_STATE_ERRORS: Mapping[UploadStatus, type[UploadStateError]] = {
    UploadStatus.COMPLETED: UploadCompletedError,
    UploadStatus.ABORTED: UploadAbortedError,
    UploadStatus.EXPIRED: UploadExpiredError,
}


def state_error(session: UploadSession, action: str) -> UploadStateError:
    """The precise error for `action` on a session that left `initiated`."""
    error = _STATE_ERRORS[session.status]
    return error(f"cannot {action}: upload {session.upload_id} is {session.status}", status=session.status)


class MultipartUploadGoneError(FileflowError):
    """S3 no longer knows the multipart upload (completed, aborted, or removed by the lifecycle rule)."""

    code = "MultipartUploadGone"


class UploadTooLargeError(FileflowError):
    code = "UploadTooLarge"


class UnsupportedContentTypeError(FileflowError):
    code = "UnsupportedContentType"


class InvalidContentTypeError(FileflowError):
    code = "InvalidContentType"


class PartNumberOutOfRangeError(FileflowError):
    code = "PartNumberOutOfRange"


class InvalidPartRequestError(FileflowError):
    """Duplicate part numbers, too many at once, or a checksum of another algorithm than the upload's."""

    code = "InvalidPartRequest"


class SizeRequiredError(FileflowError):
    """A form POST without a declared size: it has no complete, so the POST policy must pin the size."""

    code = "SizeRequired"


class InvalidChecksumError(FileflowError):
    """A checksum that cannot be one: not hex/base64, or not the algorithm's digest length."""

    code = "InvalidChecksum"


class Sha256MismatchError(FileflowError):
    """Complete's `sha256` is not the one the upload declared already (at initiate or an earlier complete)."""

    code = "Sha256Mismatch"


class Sha256TooLateError(FileflowError):
    """Complete's `sha256` for an upload that can no longer take one: a single PUT (its object may be
    processed before complete, so it declares its SHA-256 at initiate), or one completed without."""

    code = "Sha256TooLate"


class NotMultipartUploadError(FileflowError):
    code = "NotMultipartUpload"


class NotUploadedError(FileflowError):
    """Complete of a single-PUT upload whose object S3 does not hold yet."""

    code = "NotUploaded"


class MissingPartsError(FileflowError):
    code = "MissingParts"


class PartSizeMismatchError(FileflowError):
    code = "PartSizeMismatch"


class PartMismatchError(FileflowError):
    """A part the client lists is not the one S3 holds (another ETag)."""

    code = "PartMismatch"


class SizeMismatchError(FileflowError):
    code = "SizeMismatch"


class InvalidPriorityError(FileflowError):
    code = "InvalidPriority"


class InvalidAnalysisModeError(FileflowError):
    code = "InvalidAnalysisMode"


class CallbackWithoutEndpointError(FileflowError):
    """A callback_url from a user without an enabled webhook endpoint, whose secret would sign it."""

    code = "CallbackWithoutEndpoint"


ERROR_STATUS: Mapping[type[FileflowError], int] = {
    UploadNotFoundError: HTTPStatus.NOT_FOUND,
    UploadStateError: HTTPStatus.CONFLICT,
    MultipartUploadGoneError: HTTPStatus.CONFLICT,
    NotMultipartUploadError: HTTPStatus.CONFLICT,
    NotUploadedError: HTTPStatus.CONFLICT,
    MissingPartsError: HTTPStatus.CONFLICT,
    PartSizeMismatchError: HTTPStatus.CONFLICT,
    PartMismatchError: HTTPStatus.CONFLICT,
    SizeMismatchError: HTTPStatus.CONFLICT,
    Sha256MismatchError: HTTPStatus.CONFLICT,
    Sha256TooLateError: HTTPStatus.CONFLICT,
    UploadTooLargeError: HTTPStatus.CONTENT_TOO_LARGE,
    UnsupportedContentTypeError: HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
    InvalidFilenameError: HTTPStatus.UNPROCESSABLE_CONTENT,
    InvalidContentTypeError: HTTPStatus.UNPROCESSABLE_CONTENT,
    InvalidPartRequestError: HTTPStatus.UNPROCESSABLE_CONTENT,
    InvalidChecksumError: HTTPStatus.UNPROCESSABLE_CONTENT,
    SizeRequiredError: HTTPStatus.UNPROCESSABLE_CONTENT,
    InvalidPriorityError: HTTPStatus.UNPROCESSABLE_CONTENT,
    InvalidAnalysisModeError: HTTPStatus.UNPROCESSABLE_CONTENT,
    CallbackWithoutEndpointError: HTTPStatus.UNPROCESSABLE_CONTENT,
    PartNumberOutOfRangeError: HTTPStatus.BAD_REQUEST,
}
