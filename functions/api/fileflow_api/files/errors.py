"""The files capability's errors and their HTTP statuses (docs/files-api.md, "Errors")."""

from collections.abc import Mapping

from fastapi import status

from fileflow_api.files.service import (
    FileUploadingError,
    InvalidQueryError,
    InvalidTagsError,
    TagsConflictError,
    TagsVersionMismatchError,
    UnknownFileError,
)
from fileflow_common.errors import FileflowError

ERROR_STATUS: Mapping[type[FileflowError], int] = {
    UnknownFileError: status.HTTP_404_NOT_FOUND,
    InvalidTagsError: status.HTTP_422_UNPROCESSABLE_CONTENT,
    InvalidQueryError: status.HTTP_422_UNPROCESSABLE_CONTENT,
    FileUploadingError: status.HTTP_409_CONFLICT,
    TagsConflictError: status.HTTP_409_CONFLICT,
    TagsVersionMismatchError: status.HTTP_412_PRECONDITION_FAILED,
}
