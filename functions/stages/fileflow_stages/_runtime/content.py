"""What a content handler returns, and the errors that reject a file for good. No boto3 here.

Handlers take bytes and return an `Analysis`: a JSON-able result summary, findings and derivative blobs.
A `RejectedContentError` means the file itself is bad (corrupt, a bomb, unsafe, over a limit): its job
fails with the error's code and message, and the message is NOT retried.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from fileflow_common.errors import FileflowError


class ContentKind(StrEnum):
    IMAGE = "image"
    DOCUMENT = "document"
    TEXT = "text"
    ARCHIVE = "archive"
    VIDEO = "video"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Derivative:
    """A blob to store at `derived/{user_id}/{file_id}/{name}`."""

    name: str
    content_type: str
    body: bytes
    width: int | None = None
    height: int | None = None

    def describe(self) -> dict[str, Any]:
        """The derivative as recorded on the file item (without its bytes)."""
        described: dict[str, Any] = {
            "name": self.name,
            "content_type": self.content_type,
            "size": len(self.body),
        }
        if self.width is not None and self.height is not None:
            described |= {"width": self.width, "height": self.height}
        return described


@dataclass(frozen=True, slots=True)
class Finding:
    """Something a person should look at; it does not stop processing (the job ends needs_review)."""

    code: str
    message: str

    def describe(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


@dataclass(frozen=True, slots=True)
class Analysis:
    result: dict[str, Any]
    derivatives: list[Derivative] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    # A finer type than detection could tell from magic bytes alone (text/csv rather than text/plain).
    content_type: str | None = None


class RejectedContentError(FileflowError):
    """The file's content cannot or must not be processed; retrying would fail the same way."""

    code = "RejectedContent"


class UnsupportedTypeError(RejectedContentError):
    code = "UnsupportedType"


class CorruptFileError(RejectedContentError):
    """Truncated, malformed or undecodable content."""

    code = "CorruptFile"


class DecompressionBombError(RejectedContentError):
    """An image whose pixel count (or frame count) exceeds the configured limits."""

    code = "DecompressionBomb"


class ArchiveBombError(RejectedContentError):
    """An archive whose uncompressed total, compression ratio or entry count exceeds the limits."""

    code = "ZipBomb"


class UnsafeArchiveError(RejectedContentError):
    """An archive entry whose path (or link target) would escape the extraction directory (zip-slip)."""

    code = "UnsafeArchivePath"


class LimitExceededError(RejectedContentError):
    """A size, page or entry limit of the processor."""

    code = "LimitExceeded"
