"""Content type detection by magic bytes, never by the declared type or the filename. No boto3 here.

`detect(data)` looks at the content only. `declared_mismatch()` then compares what the client declared
(Content-Type, filename extension) with what was detected, so a mismatch can be recorded.
"""

from __future__ import annotations

import bz2
import io
import lzma
import struct
import tarfile
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from fileflow_stages._runtime.content import ContentKind
from fileflow_stages.document.text import looks_like_text

# Generic types say nothing about the content: declaring one is no claim, so never a mismatch.
_UNDECLARED: Final = frozenset({"", "application/octet-stream", "binary/octet-stream", "application/unknown"})
_TAR_MAGIC_OFFSET: Final = 257
_TAR_BLOCK: Final = 512
# How much of a compressed stream is inflated to look for a tar header inside.
_COMPRESSED_PEEK: Final = 2 * _TAR_BLOCK
_ZIP_END_OF_DIRECTORY: Final = b"PK\x05\x06"
# A Word document has a few dozen parts; a ZIP declaring more is listed as an archive.
_OOXML_MAX_ENTRIES: Final = 2000


@dataclass(frozen=True, slots=True)
class DetectedType:
    mime: str
    kind: ContentKind
    label: str
    # Extensions and declared types that agree with this content (the first alias is the mime itself).
    extensions: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()

    @property
    def supported(self) -> bool:
        return self.kind is not ContentKind.UNKNOWN

    def accepts(self, declared_type: str) -> bool:
        return declared_type == self.mime or declared_type in self.aliases


JPEG = DetectedType(
    "image/jpeg", ContentKind.IMAGE, "jpeg", (".jpg", ".jpeg", ".jpe", ".jfif"), ("image/jpg",)
)
PNG = DetectedType("image/png", ContentKind.IMAGE, "png", (".png",), ("image/x-png",))
GIF = DetectedType("image/gif", ContentKind.IMAGE, "gif", (".gif",))
WEBP = DetectedType("image/webp", ContentKind.IMAGE, "webp", (".webp",))
PDF = DetectedType("application/pdf", ContentKind.DOCUMENT, "pdf", (".pdf",), ("application/x-pdf",))
DOCX = DetectedType(
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ContentKind.DOCUMENT,
    "docx",
    (".docx",),
)
ZIP = DetectedType(
    "application/zip",
    ContentKind.ARCHIVE,
    "zip",
    (".zip",),
    ("application/x-zip-compressed", "multipart/x-zip"),
)
TAR = DetectedType("application/x-tar", ContentKind.ARCHIVE, "tar", (".tar",), ("application/tar",))
TAR_GZ = DetectedType(
    "application/gzip",
    ContentKind.ARCHIVE,
    "tar.gz",
    (".tgz", ".gz", ".tar.gz"),
    ("application/x-gzip", "application/x-tar", "application/x-compressed-tar", "application/x-gtar"),
)
TAR_BZ2 = DetectedType(
    "application/x-bzip2",
    ContentKind.ARCHIVE,
    "tar.bz2",
    (".tbz2", ".bz2", ".tar.bz2"),
    ("application/x-tar",),
)
TAR_XZ = DetectedType(
    "application/x-xz", ContentKind.ARCHIVE, "tar.xz", (".txz", ".xz", ".tar.xz"), ("application/x-tar",)
)
MP4 = DetectedType(
    "video/mp4", ContentKind.VIDEO, "mp4", (".mp4", ".m4v"), ("video/x-m4v", "video/quicktime")
)
MOV = DetectedType("video/quicktime", ContentKind.VIDEO, "mov", (".mov", ".qt", ".mp4"), ("video/mp4",))
M4V = DetectedType("video/x-m4v", ContentKind.VIDEO, "m4v", (".m4v", ".mp4"), ("video/mp4",))
WEBM = DetectedType("video/webm", ContentKind.VIDEO, "webm", (".webm",), ("audio/webm",))
# ISO base media brands (the `ftyp` box) of the video containers the video stage transcodes.
_MP4_BRANDS: Final = frozenset(
    {b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"dash", b"mmp4", b"MSNV"}
)
TEXT = DetectedType(
    "text/plain",
    ContentKind.TEXT,
    "text",
    (".txt", ".text", ".log", ".csv", ".tsv", ".json", ".md", ".markdown"),
    # Text sub-types are told apart by heuristics (text.py), so any text declaration agrees with text.
    (
        "text/csv",
        "text/tab-separated-values",
        "application/json",
        "text/json",
        "text/markdown",
        "text/x-markdown",
    ),
)


def _unknown(mime: str, label: str) -> DetectedType:
    return DetectedType(mime, ContentKind.UNKNOWN, label)


UNKNOWN_BINARY = _unknown("application/octet-stream", "binary")

# (offset, signature, type): recognized formats Fileflow does not process get a precise name.
_SIGNATURES: Final[tuple[tuple[int, bytes, DetectedType], ...]] = (
    (0, b"\xff\xd8\xff", JPEG),
    (0, b"\x89PNG\r\n\x1a\n", PNG),
    (0, b"GIF87a", GIF),
    (0, b"GIF89a", GIF),
    (0, b"PK\x03\x04", ZIP),
    (0, b"PK\x05\x06", ZIP),  # an empty archive
    (0, b"PK\x07\x08", ZIP),  # a spanned archive's first part
    (0, b"II*\x00", _unknown("image/tiff", "tiff")),
    (0, b"MM\x00*", _unknown("image/tiff", "tiff")),
    (0, b"8BPS", _unknown("image/vnd.adobe.photoshop", "psd")),
    (0, b"\x00\x00\x01\x00", _unknown("image/vnd.microsoft.icon", "ico")),
    (0, b"7z\xbc\xaf\x27\x1c", _unknown("application/x-7z-compressed", "7z")),
    (0, b"Rar!\x1a\x07", _unknown("application/vnd.rar", "rar")),
    (0, b"\x28\xb5\x2f\xfd", _unknown("application/zstd", "zstd")),
    (0, b"\x7fELF", _unknown("application/x-executable", "elf")),
    (0, b"MZ", _unknown("application/vnd.microsoft.portable-executable", "exe")),
    (0, b"\xca\xfe\xba\xbe", _unknown("application/java-vm", "java-class")),
    (0, b"\x00asm", _unknown("application/wasm", "wasm")),
    (0, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", _unknown("application/x-ole-storage", "ole2 (legacy office)")),
    (0, b"SQLite format 3\x00", _unknown("application/vnd.sqlite3", "sqlite")),
    (0, b"ID3", _unknown("audio/mpeg", "mp3")),
    (0, b"OggS", _unknown("audio/ogg", "ogg")),
    (0, b"fLaC", _unknown("audio/flac", "flac")),
)


def _riff(data: bytes) -> DetectedType | None:
    if data[:4] != b"RIFF" or len(data) < 12:
        return None
    form = data[8:12]
    if form == b"WEBP":
        return WEBP
    return {
        b"WAVE": _unknown("audio/wav", "wav"),
        b"AVI ": _unknown("video/x-msvideo", "avi"),
    }.get(form, _unknown("application/octet-stream", "riff"))


def _iso_media(data: bytes) -> DetectedType | None:
    if data[4:8] != b"ftyp":
        return None
    brand = data[8:12]
    if brand in (b"heic", b"heix", b"mif1", b"msf1", b"heim", b"heis"):
        return _unknown("image/heic", "heic")
    if brand in (b"avif", b"avis"):
        return _unknown("image/avif", "avif")
    if brand in _MP4_BRANDS:
        return MP4
    if brand == b"qt  ":
        return MOV
    if brand in (b"M4V ", b"M4VP", b"M4VH"):
        return M4V
    return _unknown("video/mp4", f"iso-media ({brand.decode('latin-1').strip() or 'no brand'})")


def _matroska(data: bytes) -> DetectedType | None:
    """EBML (Matroska and WebM): the header's DocType tells them apart; only WebM is transcoded."""
    if data[:4] != b"\x1a\x45\xdf\xa3":
        return None
    header = data[:64]
    if b"\x42\x82\x84webm" in header:
        return WEBM
    return _unknown("video/x-matroska", "matroska")


def _bmp(data: bytes) -> DetectedType | None:
    # "BM" alone is too weak: the two reserved fields after the file size must be zero.
    if data[:2] == b"BM" and len(data) >= 14 and data[6:10] == b"\x00\x00\x00\x00":
        return _unknown("image/bmp", "bmp")
    return None


def _pdf(data: bytes) -> DetectedType | None:
    # The PDF specification lets readers accept the header anywhere in the first 1024 bytes.
    return PDF if b"%PDF-" in data[:1024] else None


def is_tar_header(block: bytes) -> bool:
    """A POSIX/GNU tar header (magic at 257), or an old v7 header with a valid checksum."""
    if len(block) < _TAR_BLOCK:
        return False
    if block[_TAR_MAGIC_OFFSET : _TAR_MAGIC_OFFSET + 5] == b"ustar":
        return True
    try:
        stored = int(block[148:156].split(b"\x00", 1)[0].strip() or b"-1", 8)
    except ValueError:
        return False
    computed = sum(block[:148]) + 8 * 32 + sum(block[156:_TAR_BLOCK])
    return stored == computed and block[0] != 0


def _compressed_tar(data: bytes) -> DetectedType | None:
    openers: tuple[tuple[bytes, DetectedType, Callable[[bytes], bytes]], ...] = (
        (b"\x1f\x8b", TAR_GZ, _peek_gzip),
        (b"BZh", TAR_BZ2, _peek_bz2),
        (b"\xfd7zXZ\x00", TAR_XZ, _peek_xz),
    )
    for magic, detected, peek in openers:
        if data.startswith(magic):
            try:
                head = peek(data)
            except (OSError, EOFError, ValueError, tarfile.TarError, zlib.error, lzma.LZMAError):
                head = b""
            if is_tar_header(head[:_TAR_BLOCK]):
                return detected
            return _unknown(detected.mime, detected.label.removeprefix("tar.") + " (not a tar)")
    return None


def _peek_gzip(data: bytes) -> bytes:
    return zlib.decompressobj(wbits=31).decompress(data[: 64 * 1024], _COMPRESSED_PEEK)


def _peek_bz2(data: bytes) -> bytes:
    return bz2.BZ2Decompressor().decompress(data[: 64 * 1024], _COMPRESSED_PEEK)


def _peek_xz(data: bytes) -> bytes:
    return lzma.LZMADecompressor().decompress(data[: 64 * 1024], _COMPRESSED_PEEK)


def declared_zip_entries(data: bytes) -> int | None:
    """The entry count of the end-of-central-directory record (read without parsing the directory).

    None when there is no such record; 0xFFFF means "see the ZIP64 record" (counted as at least that).
    """
    # The record is 22 bytes plus a comment of at most 65535 bytes, at the very end.
    position = data.rfind(_ZIP_END_OF_DIRECTORY, max(0, len(data) - 22 - 0xFFFF))
    if position < 0 or len(data) < position + 22:
        return None
    (total_entries,) = struct.unpack_from("<H", data, position + 10)
    return int(total_entries)


def zip_member_names(data: bytes, *, limit: int) -> list[str] | None:
    """The names in a ZIP's central directory; None when it is unreadable or declares over `limit`."""
    declared = declared_zip_entries(data)
    if declared is None or declared > limit:
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return archive.namelist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        return None


def _zip_refined(data: bytes) -> DetectedType:
    """A ZIP that is a Word document (OOXML) is a document; any other ZIP is an archive."""
    names = zip_member_names(data, limit=_OOXML_MAX_ENTRIES)
    if names is not None and "[Content_Types].xml" in names and "word/document.xml" in names:
        return DOCX
    return ZIP


def _text(data: bytes) -> DetectedType | None:
    return TEXT if looks_like_text(data) else None


def detect(data: bytes) -> DetectedType:
    """The type of `data`, from its content alone."""
    head = data[:16]
    for offset, signature, detected in _SIGNATURES:
        if head[offset : offset + len(signature)] == signature:
            return _zip_refined(data) if detected is ZIP else detected
    for probe in (_riff, _iso_media, _matroska, _bmp, _pdf, _compressed_tar):
        found = probe(data)
        if found is not None:
            return found
    if is_tar_header(data[:_TAR_BLOCK]):
        return TAR
    return _text(data) or UNKNOWN_BINARY


def declared_mismatch(
    detected: DetectedType, declared_type: str | None, filename: str | None
) -> dict[str, str]:
    """What the client claimed that the content contradicts (empty when nothing does)."""
    mismatch: dict[str, str] = {}
    declared = (declared_type or "").split(";", 1)[0].strip().lower()
    if declared not in _UNDECLARED and not detected.accepts(declared):
        mismatch["declared_content_type"] = declared
    if filename and "." in filename.rsplit("/", 1)[-1]:
        name = filename.lower()
        if detected.extensions and not any(name.endswith(extension) for extension in detected.extensions):
            mismatch["filename_extension"] = "." + name.rsplit(".", 1)[-1]
    if mismatch:
        mismatch["detected_content_type"] = detected.mime
    return mismatch


# Formats an archive entry may be, told from its first bytes: nested archives are reported, not opened.
_ARCHIVE_MAGICS: Final = (
    (b"PK\x03\x04", "zip"),
    (b"PK\x05\x06", "zip"),
    (b"7z\xbc\xaf\x27\x1c", "7z"),
    (b"Rar!\x1a\x07", "rar"),
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
)


def archive_label(head: bytes) -> str | None:
    """The archive or compression format `head` (an entry's first bytes) starts, if any."""
    label = next((label for magic, label in _ARCHIVE_MAGICS if head.startswith(magic)), None)
    return label or ("tar" if is_tar_header(head[:_TAR_BLOCK]) else None)
