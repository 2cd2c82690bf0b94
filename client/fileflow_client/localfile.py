"""Reading the local file in bounded chunks: whole-file SHA-256, per-part checksums, part bodies.

Nothing here holds more than one chunk of a file in memory.
"""

from __future__ import annotations

import base64
import hashlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import crc32c

from fileflow_client.errors import FileChangedError

SHA256 = "SHA256"
CRC32C = "CRC32C"
PART_CHECKSUM_ALGORITHMS = (SHA256, CRC32C)  # S3's ChecksumAlgorithm names the API takes

CHUNK_SIZE = 1024 * 1024


class UploadCancelledError(Exception):
    """Raised inside a part body when the upload is being stopped, so the request is abandoned."""


@dataclass(frozen=True, slots=True)
class FileIdentity:
    """What says "the same file" between runs: where it is, its size and modification time."""

    path: Path
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, path: Path) -> FileIdentity:
        resolved = path.resolve()
        stat = resolved.stat()
        return cls(path=resolved, size=stat.st_size, mtime_ns=stat.st_mtime_ns)

    def ensure_unchanged(self) -> None:
        current = FileIdentity.of(self.path)
        if current != self:
            raise FileChangedError(f"{self.path} changed during the upload (size or modification time)")


def iter_range(
    path: Path, offset: int, size: int, *, cancel: threading.Event | None = None
) -> Iterator[bytes]:
    """The bytes [offset, offset + size) of the file, CHUNK_SIZE at a time."""
    with path.open("rb") as file:
        file.seek(offset)
        remaining = size
        while remaining > 0:
            if cancel is not None and cancel.is_set():
                raise UploadCancelledError("upload stopped")
            chunk = file.read(min(CHUNK_SIZE, remaining))
            if not chunk:
                raise FileChangedError(f"{path} is shorter than when the upload started")
            remaining -= len(chunk)
            yield chunk


def sha256_range(path: Path, offset: int, size: int) -> bytes:
    digest = hashlib.sha256()
    for chunk in iter_range(path, offset, size):
        digest.update(chunk)
    return digest.digest()


def crc32c_range(path: Path, offset: int, size: int) -> bytes:
    """The range's CRC32C, big-endian, as S3 encodes it (the crc32c package: hardware where it can)."""
    value = 0
    for chunk in iter_range(path, offset, size):
        value = crc32c.crc32c(chunk, value)
    return value.to_bytes(4, "big")


def part_checksum(path: Path, offset: int, size: int, algorithm: str = SHA256) -> str:
    """The part's checksum, base64-encoded as S3's x-amz-checksum-sha256 (or -crc32c) carries it."""
    digest = crc32c_range(path, offset, size) if algorithm == CRC32C else sha256_range(path, offset, size)
    return base64.b64encode(digest).decode("ascii")


def file_sha256(path: Path, size: int, *, on_bytes: Callable[[int], None] | None = None) -> str:
    """Hex SHA-256 of the whole file, streamed; `on_bytes(n)` after each chunk."""
    digest = hashlib.sha256()
    for chunk in iter_range(path, 0, size):
        digest.update(chunk)
        if on_bytes is not None:
            on_bytes(len(chunk))
    return digest.hexdigest()


def multipart_etag(part_etags: list[str]) -> str:
    """S3's ETag of a multipart object: MD5 of the parts' binary MD5s, then "-<part count>"."""
    joined = b"".join(bytes.fromhex(etag.strip('"')) for etag in part_etags)
    return f"{hashlib.md5(joined, usedforsecurity=False).hexdigest()}-{len(part_etags)}"


def composite_checksum(part_checksums: list[str], algorithm: str = SHA256) -> str:
    """S3's COMPOSITE checksum of a multipart object: the algorithm's checksum of the parts' binary
    checksums, joined in order, then "-<count>"."""
    joined = b"".join(base64.b64decode(value) for value in part_checksums)
    if algorithm == CRC32C:
        digest = crc32c.crc32c(joined).to_bytes(4, "big")
    else:
        digest = hashlib.sha256(joined).digest()
    return f"{base64.b64encode(digest).decode('ascii')}-{len(part_checksums)}"
