"""What every function agrees on about a file: its status, and the shape of a media type."""

import re
from enum import StrEnum
from typing import Final


class FileStatus(StrEnum):
    """The file item's status: the upload API sets the first two, the workflow the rest."""

    UPLOADING = "uploading"
    UPLOADED = "uploaded"
    PROCESSING = "processing"
    PROCESSED = "processed"
    NEEDS_REVIEW = "needs_review"
    FAILED = "failed"
    # Content of a type Fileflow does not process, or a file refused as unsafe.
    REJECTED = "rejected"


# RFC 6838 restricted names, lower case (content types are normalised before they are checked).
_NAME: Final = r"[a-z0-9][a-z0-9!#$&^_.+-]{0,126}"
MEDIA_TYPE_REGEX: Final = f"{_NAME}/{_NAME}"
# fullmatch, never `$`: `$` would accept a trailing newline.
MEDIA_TYPE: Final = re.compile(MEDIA_TYPE_REGEX)
# A listing filter: a media type, or a whole family (`image/*`).
MEDIA_TYPE_FILTER: Final = re.compile(rf"{_NAME}/(?:{_NAME}|\*)")
