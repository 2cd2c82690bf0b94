"""The S3 object key layout (docs/architecture.md, "Object keys").

- originals:   ``uploads/{user_id}/{file_id}``
- derivatives: ``derived/{user_id}/{file_id}/{name}``
"""

import re
from dataclasses import dataclass
from typing import Final

from fileflow_common.errors import ForeignObjectKeyError, InvalidIdentifierError

UPLOADS_PREFIX = "uploads/"
DERIVED_PREFIX = "derived/"

# fullmatch, never `$`: `$` would accept a trailing newline.
ID_PATTERN: Final = re.compile(r"[A-Za-z0-9_-]{1,64}")
# Starts with an alphanumeric so "." / ".." / hidden names are impossible.
_DERIVED_NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


def validate_id(value: str, *, kind: str) -> str:
    """Return `value` when it is a URL-safe id (``[A-Za-z0-9_-]{1,64}``), else raise."""
    if not ID_PATTERN.fullmatch(value):
        raise InvalidIdentifierError(f"{kind} must match [A-Za-z0-9_-]{{1,64}}")
    return value


def validate_derived_name(value: str) -> str:
    if not _DERIVED_NAME_PATTERN.fullmatch(value):
        raise InvalidIdentifierError("derived name must match [A-Za-z0-9][A-Za-z0-9._-]{0,127}")
    return value


@dataclass(frozen=True, slots=True)
class UploadKey:
    """The key of an original upload."""

    user_id: str
    file_id: str

    def __post_init__(self) -> None:
        validate_id(self.user_id, kind="user_id")
        validate_id(self.file_id, kind="file_id")

    @property
    def key(self) -> str:
        return f"{UPLOADS_PREFIX}{self.user_id}/{self.file_id}"


@dataclass(frozen=True, slots=True)
class DerivedKey:
    """The key of a derivative of an upload (outside the notification prefix)."""

    user_id: str
    file_id: str
    name: str

    def __post_init__(self) -> None:
        validate_id(self.user_id, kind="user_id")
        validate_id(self.file_id, kind="file_id")
        validate_derived_name(self.name)

    @property
    def key(self) -> str:
        return f"{DERIVED_PREFIX}{self.user_id}/{self.file_id}/{self.name}"


type ObjectKey = UploadKey | DerivedKey


def upload_key(user_id: str, file_id: str) -> str:
    return UploadKey(user_id, file_id).key


def derived_key(user_id: str, file_id: str, name: str) -> str:
    return DerivedKey(user_id, file_id, name).key


def parse_object_key(key: str) -> ObjectKey:
    """Parse a decoded S3 key; raise ForeignObjectKeyError for anything outside the layout."""
    prefix, _, rest = key.partition("/")
    parts = rest.split("/")
    try:
        if prefix + "/" == UPLOADS_PREFIX and len(parts) == 2:
            return UploadKey(*parts)
        if prefix + "/" == DERIVED_PREFIX and len(parts) == 3:
            return DerivedKey(*parts)
    except InvalidIdentifierError as exc:
        raise ForeignObjectKeyError(f"not a Fileflow object key: {exc}") from exc
    raise ForeignObjectKeyError("not a Fileflow object key: unknown prefix or wrong depth")
