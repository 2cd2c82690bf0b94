"""The files capability's errors and their HTTP statuses (docs/files-api.md, "Errors")."""

from collections.abc import Mapping
from http import HTTPStatus

from fileflow_common.errors import FileflowError


class UnknownFileError(FileflowError):
    """No such file for this user (another user's file, a deleted one, a malformed id: all the same)."""

    code = "FileNotFound"


class InvalidTagsError(FileflowError):
    code = "InvalidTags"


class InvalidQueryError(FileflowError):
    """Filters that contradict each other or a search text that cannot match a name."""

    code = "InvalidQuery"


class FileUploadingError(FileflowError):
    """The file's upload has not completed: abort it (DELETE /v1/uploads/{id}) or complete it first."""

    code = "FileUploading"


class TagsVersionMismatchError(FileflowError):
    """If-Match named another version of the tags than the current one."""

    code = "TagsVersionMismatch"


class TagsConflictError(FileflowError):
    """The tags kept changing under concurrent writers; the request can be repeated."""

    code = "TagsConflict"


ERROR_STATUS: Mapping[type[FileflowError], int] = {
    UnknownFileError: HTTPStatus.NOT_FOUND,
    InvalidTagsError: HTTPStatus.UNPROCESSABLE_CONTENT,
    InvalidQueryError: HTTPStatus.UNPROCESSABLE_CONTENT,
    FileUploadingError: HTTPStatus.CONFLICT,
    TagsConflictError: HTTPStatus.CONFLICT,
    TagsVersionMismatchError: HTTPStatus.PRECONDITION_FAILED,
}
