"""ZIP and TAR (plain, gzip, bzip2, xz) listings. Nothing is ever extracted. No boto3 here.

Fails the job (RejectedContentError): zip bombs (too many entries, too many uncompressed bytes, an
entry or the whole archive expanding beyond the ratio limit, overlapping ZIP entries) and zip-slip
(an entry path or link target that is absolute or climbs out with `..`).
Ends needs_review (findings): symlinks and hard links that stay inside, encrypted entries, nested
archives (told from each entry's first bytes), special files (devices, FIFOs).
The full listing is the `listing.json` derivative; the file item keeps totals and a preview.
"""

from __future__ import annotations

import bz2
import gzip
import io
import itertools
import json
import lzma
import re
import stat
import tarfile
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Final, Protocol

from fileflow_stages._runtime.content import (
    Analysis,
    ArchiveBombError,
    CorruptFileError,
    Derivative,
    Finding,
    UnsafeArchiveError,
)
from fileflow_stages._runtime.limits import MIB, Limits
from fileflow_stages.detect.detection import archive_label, declared_zip_entries

LISTING_DERIVATIVE: Final = "listing.json"
# Ratios are only judged past this size: tiny entries of zeros are not bombs.
_RATIO_FLOOR_BYTES: Final = MIB
# Bytes inflated from an entry to tell a nested archive (and a ZIP symlink's target).
_PEEK_BYTES: Final = 512
_PEEKED_ENTRIES: Final = 1000
_PATH_CHARS: Final = 512
_REPORTED_EXAMPLES: Final = 3
_ZIP_ENCRYPTED_FLAG: Final = 0x1
_ZIP_UNIX_SYSTEM: Final = 3
_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:")
_TAR_ERRORS: Final = (tarfile.TarError, EOFError, OSError, zlib.error, lzma.LZMAError, ValueError)
_ZIP_ENTRY_ERRORS: Final = (
    zipfile.BadZipFile,
    zlib.error,
    OSError,
    EOFError,
    NotImplementedError,
    RuntimeError,
)


@dataclass(frozen=True, slots=True)
class Entry:
    path: str
    type: str  # file, directory, symlink, hardlink, special
    size: int
    compressed_size: int | None = None
    encrypted: bool = False
    link_target: str | None = None
    nested: str | None = None  # the archive format an entry holds


def escapes(path: str) -> bool:
    """True when extracting `path` would land outside the target directory (zip-slip)."""
    normalized = path.replace("\\", "/")
    if normalized.startswith("/") or _WINDOWS_DRIVE.match(normalized):
        return True
    return ".." in normalized.split("/")


def _link_escapes(entry_path: str, target: str) -> bool:
    """A link target that is absolute, or climbs above the archive root from the link's directory."""
    normalized = target.replace("\\", "/")
    if normalized.startswith("/") or _WINDOWS_DRIVE.match(normalized):
        return True
    depth = len([part for part in entry_path.replace("\\", "/").split("/")[:-1] if part not in ("", ".")])
    for part in normalized.split("/"):
        if part == "..":
            depth -= 1
            if depth < 0:
                return True
        elif part not in ("", "."):
            depth += 1
    return False


def _ratio(uncompressed: int, compressed: int) -> float:
    return uncompressed / compressed if compressed else float("inf")


def check_zip_limits(archive: zipfile.ZipFile, *, archive_size: int, limits: Limits) -> None:
    """Raise ArchiveBombError from the central directory alone (declared sizes, offsets)."""
    infos = archive.infolist()
    if len(infos) > limits.max_archive_entries:
        raise ArchiveBombError(f"{len(infos)} entries, over the {limits.max_archive_entries}-entry limit")
    total = sum(info.file_size for info in infos)
    if total > limits.max_archive_uncompressed_bytes:
        raise ArchiveBombError(
            f"{total} bytes uncompressed, over the {limits.max_archive_uncompressed_bytes}-byte limit"
        )
    for info in infos:
        ratio = _ratio(info.file_size, info.compress_size)
        if info.file_size > _RATIO_FLOOR_BYTES and ratio > limits.max_compression_ratio:
            raise ArchiveBombError(
                f"entry {info.filename[:_PATH_CHARS]!r} expands {ratio:.0f}x "
                f"({info.compress_size} -> {info.file_size} bytes), "
                f"over the {limits.max_compression_ratio}x limit"
            )
    if total > _RATIO_FLOOR_BYTES and _ratio(total, archive_size) > limits.max_compression_ratio:
        raise ArchiveBombError(
            f"archive expands {_ratio(total, archive_size):.0f}x ({archive_size} -> {total} bytes), "
            f"over the {limits.max_compression_ratio}x limit"
        )
    # Entries sharing compressed data (a non-recursive zip bomb) start inside another entry's data.
    spans = sorted((info.header_offset, info.header_offset + info.compress_size) for info in infos)
    for (_start, end), (next_start, _next_end) in itertools.pairwise(spans):
        if next_start < end:
            raise ArchiveBombError("entries overlap: several entries share the same compressed data")


def _zip_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo, peek: bool) -> Entry:
    encrypted = bool(info.flag_bits & _ZIP_ENCRYPTED_FLAG)
    unix_mode = info.external_attr >> 16 if info.create_system == _ZIP_UNIX_SYSTEM else 0
    is_symlink = stat.S_ISLNK(unix_mode)
    entry_type = "directory" if info.is_dir() else ("symlink" if is_symlink else "file")
    head = b""
    if (peek or is_symlink) and not encrypted and not info.is_dir() and info.file_size:
        try:
            with archive.open(info) as member:
                head = member.read(_PEEK_BYTES)
        except _ZIP_ENTRY_ERRORS as exc:
            raise CorruptFileError(f"entry {info.filename[:_PATH_CHARS]!r} cannot be read: {exc}") from exc
    return Entry(
        path=info.filename[:_PATH_CHARS],
        type=entry_type,
        size=info.file_size,
        compressed_size=info.compress_size,
        encrypted=encrypted,
        link_target=head.decode("utf-8", "replace") if is_symlink else None,
        nested=archive_label(head) if entry_type == "file" else None,
    )


def list_zip(data: bytes, limits: Limits) -> Analysis:
    declared = declared_zip_entries(data)
    if declared is not None and declared > limits.max_archive_entries:
        raise ArchiveBombError(f"{declared} entries, over the {limits.max_archive_entries}-entry limit")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            check_zip_limits(archive, archive_size=len(data), limits=limits)
            entries = [
                _zip_entry(archive, info, peek=index < _PEEKED_ENTRIES)
                for index, info in enumerate(archive.infolist())
            ]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError) as exc:
        raise CorruptFileError(f"malformed ZIP: {exc}") from exc
    return _listing("zip", entries, archive_size=len(data), limits=limits)


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


def _decompressed(label: str, raw: io.BytesIO) -> _Readable:
    """The tar stream inside `raw`; every reader is dropped with its in-memory source (nothing to close)."""
    match label:
        case "tar.gz":
            return gzip.GzipFile(fileobj=raw)
        case "tar.bz2":
            return bz2.BZ2File(raw)
        case "tar.xz":
            return lzma.LZMAFile(raw)
    return raw


class _BoundedReader:
    """Reads a (decompressing) stream, refusing to inflate more than the limits allow."""

    def __init__(self, stream: _Readable, *, archive_size: int, limits: Limits) -> None:
        self._stream = stream
        self.inflated = 0
        self._archive_size = archive_size
        self._limits = limits
        # Uncompressed bytes may exceed the entry sizes by the headers: one 512-byte block per entry.
        self._ceiling = limits.max_archive_uncompressed_bytes + 512 * (limits.max_archive_entries + 2)

    def read(self, size: int = -1) -> bytes:
        chunk = self._stream.read(size)
        self.inflated += len(chunk)
        if self.inflated > self._ceiling:
            raise ArchiveBombError(
                f"more than {self._limits.max_archive_uncompressed_bytes} bytes uncompressed, over the limit"
            )
        if (
            self.inflated > _RATIO_FLOOR_BYTES
            and _ratio(self.inflated, self._archive_size) > self._limits.max_compression_ratio
        ):
            raise ArchiveBombError(
                f"archive expands over {self._limits.max_compression_ratio}x "
                f"({self._archive_size} compressed bytes inflated past {self.inflated})"
            )
        return chunk


def _tar_entry(archive: tarfile.TarFile, member: tarfile.TarInfo, peek: bool) -> Entry:
    if member.isdir():
        entry_type = "directory"
    elif member.issym():
        entry_type = "symlink"
    elif member.islnk():
        entry_type = "hardlink"
    elif member.isfile():
        entry_type = "file"
    else:
        entry_type = "special"
    nested = None
    if peek and entry_type == "file" and member.size:
        extracted = archive.extractfile(member)
        if extracted is not None:
            nested = archive_label(extracted.read(_PEEK_BYTES))
    return Entry(
        path=member.name[:_PATH_CHARS],
        type=entry_type,
        size=member.size,
        link_target=member.linkname[:_PATH_CHARS] if entry_type in ("symlink", "hardlink") else None,
        nested=nested,
    )


def list_tar(data: bytes, label: str, limits: Limits) -> Analysis:
    """`label`: tar, tar.gz, tar.bz2 or tar.xz (from detection)."""
    reader = _BoundedReader(_decompressed(label, io.BytesIO(data)), archive_size=len(data), limits=limits)
    entries: list[Entry] = []
    total = 0
    try:
        # Stream mode ("r|"): members are read in order, skipped data is inflated through the reader.
        with tarfile.open(fileobj=reader, mode="r|") as archive:  # type: ignore[call-overload]
            for member in archive:
                if len(entries) >= limits.max_archive_entries:
                    raise ArchiveBombError(f"over {limits.max_archive_entries} entries, the entry limit")
                total += member.size
                if total > limits.max_archive_uncompressed_bytes:
                    raise ArchiveBombError(
                        f"over {limits.max_archive_uncompressed_bytes} bytes uncompressed, over the limit"
                    )
                entries.append(_tar_entry(archive, member, peek=len(entries) < _PEEKED_ENTRIES))
    except _TAR_ERRORS as exc:
        raise CorruptFileError(f"malformed {label}: {exc}") from exc
    return _listing(label, entries, archive_size=len(data), limits=limits)


def _examples(entries: list[Entry]) -> str:
    shown = ", ".join(repr(entry.path) for entry in entries[:_REPORTED_EXAMPLES])
    more = len(entries) - _REPORTED_EXAMPLES
    return shown + (f" and {more} more" if more > 0 else "")


def _findings(entries: list[Entry]) -> list[Finding]:
    unsafe = [entry for entry in entries if escapes(entry.path)]
    if unsafe:
        raise UnsafeArchiveError(f"entry path escapes the extraction directory: {_examples(unsafe)}")
    unsafe_links = [
        entry
        for entry in entries
        if entry.link_target is not None
        and (
            _link_escapes(entry.path, entry.link_target)
            if entry.type == "symlink"
            else escapes(entry.link_target)
        )
    ]
    if unsafe_links:
        raise UnsafeArchiveError(f"link target escapes the extraction directory: {_examples(unsafe_links)}")
    checks: tuple[tuple[str, str, Callable[[Entry], bool]], ...] = (
        ("Symlinks", "symbolic links", lambda entry: entry.type == "symlink"),
        ("HardLinks", "hard links", lambda entry: entry.type == "hardlink"),
        ("SpecialFiles", "device files or FIFOs", lambda entry: entry.type == "special"),
        ("EncryptedEntries", "encrypted entries", lambda entry: entry.encrypted),
        ("NestedArchives", "nested archives", lambda entry: entry.nested is not None),
    )
    findings = []
    for code, what, matches in checks:
        found = [entry for entry in entries if matches(entry)]
        if found:
            findings.append(Finding(code, f"{len(found)} {what}: {_examples(found)}"))
    return findings


def _listing(archive_format: str, entries: list[Entry], *, archive_size: int, limits: Limits) -> Analysis:
    findings = _findings(entries)
    types = Counter(entry.type for entry in entries)
    total = sum(entry.size for entry in entries if entry.type == "file")
    result: dict[str, Any] = {
        "archive_format": archive_format,
        "entries": len(entries),
        "files": types["file"],
        "directories": types["directory"],
        "symlinks": types["symlink"],
        "total_uncompressed_bytes": total,
        "archive_bytes": archive_size,
        "compression_ratio": round(_ratio(total, archive_size), 2) if archive_size else 0,
        "encrypted_entries": sum(1 for entry in entries if entry.encrypted),
        "nested_archives": sum(1 for entry in entries if entry.nested is not None),
        "preview": [
            {"path": entry.path[:200], "type": entry.type, "size": entry.size}
            for entry in entries[: limits.listing_preview_entries]
        ],
    }
    listing = json.dumps(
        {"format": archive_format, "entries": [asdict(entry) for entry in entries]}, separators=(",", ":")
    ).encode()
    derivative = Derivative(LISTING_DERIVATIVE, "application/json", listing)
    return Analysis(result=result, derivatives=[derivative], findings=findings)
