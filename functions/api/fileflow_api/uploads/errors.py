"""The uploads capability's errors and their HTTP statuses (docs/api-contract.md, "Errors")."""

from collections.abc import Mapping

from fastapi import status

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
from fileflow_common.errors import FileflowError

ERROR_STATUS: Mapping[type[FileflowError], int] = {
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
}
