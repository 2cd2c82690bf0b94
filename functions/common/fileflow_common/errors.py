"""Domain errors shared by every function; the API maps them to HTTP in one place."""

from typing import ClassVar


class FileflowError(Exception):
    """Base of every domain error; `code` is the stable, machine-readable name clients see."""

    code: ClassVar[str] = "FileflowError"


class InvalidIdentifierError(FileflowError):
    """An id (user, file, job, upload) or a derivative name breaks the allowed alphabet or length."""

    code = "InvalidIdentifier"


class ForeignObjectKeyError(FileflowError):
    """An S3 object key that does not follow the Fileflow key layout."""

    code = "ForeignObjectKey"


class FileDeletedError(FileflowError):
    """The file was deleted (DELETE /v1/files/{id}, its tombstone): no writer may bring it back."""

    code = "FileDeleted"
