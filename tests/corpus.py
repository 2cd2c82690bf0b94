"""The hostile-input corpus (issue #9): files a user may upload to hurt the pipeline, and how each ends.

Each case is an upload: its filename (some hostile in themselves), its declared content type, the bytes
(built in memory by tests/samples.py, reproducibly: ZIP and gzip timestamps are pinned while building;
only the encrypted PDF's salt is random) and the outcome the file record must show:
- `refused`: the upload API refuses the initiate (`code` is its error code); no file is stored;
- `rejected` / `failed`: the file item's `processing_error.code` is `code`, and the stage in `stage`
  (the workflow's state) is the one that refused it;
- `needs_review`: processed, with these finding codes on the job (`findings`), or a declared type or
  extension the content contradicts (`mismatch`);
- `processed`: nothing to report.

The in-process test (tests/integration/test_hostile_corpus.py) and the deployed one
(tests/reliability/test_corpus.py) run every case against these expectations.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Literal
from unittest import mock

from tests import samples

MIB = 1024 * 1024
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
# 2026-12-01T00:00:00Z: ZIP entries and gzip headers carry this instead of the build time.
PINNED_EPOCH = 1_796_083_200.0

type Status = Literal["processed", "needs_review", "failed", "rejected", "refused"]


@dataclass(frozen=True)
class Expected:
    status: Status
    # failed / rejected: processing_error.code; refused: the API's error code
    code: str | None = None
    # failed / rejected: the workflow state whose stage refused the file
    stage: str | None = None
    # needs_review: the job's finding codes, in the order the stage reports them
    findings: tuple[str, ...] = ()
    # needs_review: the content contradicts the declared content type or the filename's extension
    mismatch: bool = False

    def describe(self) -> str:
        """One cell of the corpus table: `failed CorruptFile`, `needs_review Symlinks`, ..."""
        reasons = [self.code] if self.code else list(self.findings)
        if self.mismatch:
            reasons.append("type mismatch")
        return " ".join([self.status, ", ".join(reasons)]).strip()


@dataclass(frozen=True)
class Case:
    id: str
    filename: str
    content_type: str
    build: Callable[[], bytes] = field(repr=False)
    expected: Expected
    # What the case attacks (a line of the corpus table).
    about: str
    # In the small corpus of `make test-e2e` too (a few cases of every kind); the rest only in
    # `make test-reliability`.
    smoke: bool = False

    def data(self) -> bytes:
        with pinned_clock():
            return self.build()


@contextmanager
def pinned_clock() -> Iterator[None]:
    """zipfile and gzip stamp the current time into their headers: pin it, so bytes repeat."""
    with mock.patch.object(time, "time", return_value=PINNED_EPOCH):
        yield


def _processed() -> Expected:
    return Expected("processed")


def _review(*findings: str, mismatch: bool = False) -> Expected:
    return Expected("needs_review", findings=findings, mismatch=mismatch)


def _failed(code: str, stage: str) -> Expected:
    return Expected("failed", code, stage)


def _rejected(stage: str) -> Expected:
    return Expected("rejected", "UnsupportedType", stage)


def _refused(code: str = "InvalidFilename") -> Expected:
    return Expected("refused", code)


CASES: tuple[Case, ...] = (
    # --- images ------------------------------------------------------------------------------------------
    Case("truncated-jpeg", "holiday.jpg", "image/jpeg", samples.truncated_jpeg,
         _failed("CorruptFile", "Image"), "a JPEG cut in half", smoke=True),
    Case("corrupt-jpeg", "scan.jpg", "image/jpeg", samples.corrupt_image,
         _failed("CorruptFile", "Image"), "a JPEG signature, then garbage"),
    Case("truncated-png", "chart.png", "image/png", samples.truncated_png,
         _failed("CorruptFile", "Image"), "a PNG cut inside its image data"),
    Case("png-bad-crc", "icon.png", "image/png", samples.png_with_bad_crc,
         _failed("CorruptFile", "Image"), "a PNG whose header chunk fails its CRC"),
    Case("corrupt-webp", "sticker.webp", "image/webp", samples.corrupt_webp,
         _failed("CorruptFile", "Image"), "a WEBP container of garbage"),
    Case("png-pixel-bomb", "bomb.png", "image/png", samples.decompression_bomb,
         _failed("DecompressionBomb", "Image"), "10^10 pixels declared in a few hundred bytes", smoke=True),
    Case("png-pixel-bomb-past-limit", "big.png", "image/png", lambda: samples.decompression_bomb(8000, 7000),
         _failed("DecompressionBomb", "Image"), "56 MP: over our 50 MP limit, under Pillow's own"),
    Case("gif-screen-bomb", "screen.gif", "image/gif", samples.gif_screen_bomb,
         _failed("DecompressionBomb", "Image"), "a 1-pixel GIF on a 65535x65535 logical screen"),
    Case("gif-frame-bomb", "frames.gif", "image/gif", samples.gif_frame_bomb,
         _failed("DecompressionBomb", "Image"), "1,001 frames: over the 1,000-frame limit"),
    # --- archives ----------------------------------------------------------------------------------------
    Case("zip-bomb", "backup.zip", "application/zip", samples.zip_bomb,
         _failed("ZipBomb", "Archive"), "one entry of 20 MiB of zeros, ~1000x", smoke=True),
    Case("zip-declared-bomb", "huge.zip", "application/zip", samples.zip_declaring_huge_entry,
         _failed("ZipBomb", "Archive"), "a central directory declaring a 4 GiB entry"),
    Case("zip-overlapping", "overlap.zip", "application/zip", samples.overlapping_zip,
         _failed("ZipBomb", "Archive"), "two entries sharing one compressed stream"),
    Case("zip-many-entries", "many.zip", "application/zip", samples.zip_with_many_entries,
         _failed("ZipBomb", "Archive"), "10,001 empty entries: over the entry limit"),
    Case("zip-nested-bombs", "42.zip", "application/zip", samples.nested_zip_bomb,
         _review("NestedArchives"), "a ZIP of ZIP bombs: listed, never opened"),
    Case("zip-nested", "nested.zip", "application/zip", samples.nested_zip,
         _review("NestedArchives"), "a ZIP inside a ZIP"),
    Case("zip-slip", "slip.zip", "application/zip", samples.zip_slip,
         _failed("UnsafeArchivePath", "Archive"), "an entry ../../etc/cron.d/evil", smoke=True),
    Case("zip-absolute-path", "abs.zip", "application/zip",
         lambda: samples.zip_file({"/etc/passwd": b"root::0:0::/root:/bin/sh\n"}),
         _failed("UnsafeArchivePath", "Archive"), "an entry /etc/passwd"),
    Case("zip-windows-traversal", "win.zip", "application/zip",
         lambda: samples.zip_file({"..\\..\\Windows\\evil.bat": b"@echo off\n"}),
         _failed("UnsafeArchivePath", "Archive"), "an entry ..\\..\\Windows\\evil.bat"),
    Case("zip-symlink-escape", "link.zip", "application/zip",
         lambda: samples.zip_with_symlink("../../../etc/shadow"),
         _failed("UnsafeArchivePath", "Archive"), "a symlink to ../../../etc/shadow"),
    Case("zip-symlink-inside", "inner-link.zip", "application/zip", samples.zip_with_symlink,
         _review("Symlinks"), "a symlink that stays inside"),
    Case("zip-encrypted-entry", "secret.zip", "application/zip", samples.zip_with_encrypted_entry,
         _review("EncryptedEntries"), "an entry flagged encrypted"),
    Case("zip-truncated", "cut.zip", "application/zip", samples.truncated_zip,
         _failed("CorruptFile", "Archive"), "a ZIP cut before its central directory"),
    Case("tar-gz-bomb", "logs.tar.gz", "application/gzip", samples.tar_bomb,
         _failed("ZipBomb", "Archive"), "a tar.gz inflating 20 MiB of zeros", smoke=True),
    Case("tar-xz-bomb", "logs.tar.xz", "application/octet-stream", samples.tar_xz_bomb,
         _failed("ZipBomb", "Archive"), "a tar.xz inflating 64 MiB of zeros (~10,000x)"),
    Case("tar-slip", "slip.tar", "application/x-tar", samples.tar_slip,
         _failed("UnsafeArchivePath", "Archive"), "a member /etc/passwd"),
    Case("tar-symlink-escape", "link.tar", "application/x-tar",
         lambda: samples.tar_file(symlinks={"docs/shadow": "../../etc/shadow"}),
         _failed("UnsafeArchivePath", "Archive"), "a symlink to ../../etc/shadow"),
    Case("tar-hardlink-escape", "hard.tar", "application/x-tar",
         lambda: samples.tar_with_hardlink("/etc/passwd"),
         _failed("UnsafeArchivePath", "Archive"), "a hard link to /etc/passwd"),
    Case("tar-device", "dev.tar", "application/x-tar", samples.tar_with_device,
         _review("SpecialFiles"), "a character device member"),
    Case("tar-gz-truncated", "cut.tar.gz", "application/gzip", samples.truncated_tar_gz,
         _failed("CorruptFile", "Archive"), "a tar.gz cut inside its stream"),
    # --- documents ---------------------------------------------------------------------------------------
    Case("pdf-encrypted", "locked.pdf", "application/pdf", samples.encrypted_pdf,
         _review("EncryptedDocument"), "a PDF that needs a password", smoke=True),
    Case("pdf-malformed", "broken.pdf", "application/pdf", samples.malformed_pdf,
         _failed("CorruptFile", "Document"), "a PDF header, then no PDF"),
    Case("pdf-truncated", "half.pdf", "application/pdf", samples.truncated_pdf,
         _failed("CorruptFile", "Document"), "a PDF cut in half"),
    Case("pdf-page-bomb", "pages.pdf", "application/pdf", samples.pdf_page_bomb,
         _failed("LimitExceeded", "Document"), "5,000 pages in a few KB (one page listed 5,000 times)"),
    Case("docx-malformed", "report.docx", DOCX, samples.malformed_docx,
         _failed("CorruptFile", "Document"), "the parts of a Word document, holding no XML"),
    Case("docx-bomb", "inflated.docx", DOCX, samples.docx_bomb,
         _failed("ZipBomb", "Document"), "a document.xml inflating 64 MiB (~1000x)"),
    Case("docx-encrypted", "protected.docx", DOCX, samples.encrypted_docx,
         _rejected("Detect"), "a password-protected .docx (an OLE2 container)"),
    # --- text --------------------------------------------------------------------------------------------
    Case("text-huge", "dump.txt", "text/plain", lambda: samples.huge_text(40 * MIB),
         _failed("LimitExceeded", "Document"), "40 MiB of text: over the 32 MiB text limit"),
    Case("text-large", "large.log", "text/plain", lambda: samples.huge_text(30 * MIB),
         _processed(), "30 MiB of text: analysed whole, within the memory size"),
    Case("text-control-characters", "notes.txt", "text/plain", samples.control_characters,
         _rejected("Detect"), "control characters posing as text"),
    Case("json-deeply-nested", "deep.json", "application/json", samples.deeply_nested_json,
         _processed(), "an array nested 100,000 deep"),
    Case("text-invalid-utf8", "letter.txt", "text/plain", samples.invalid_utf8_text,
         _processed(), "UTF-8 with invalid bytes in it"),
    Case("text-bidi-content", "bidi.txt", "text/plain", samples.bidi_text,
         _processed(), "bidi overrides and zero-width characters in the text"),
    Case("empty-file", "empty.txt", "text/plain", lambda: b"",
         _processed(), "zero bytes", smoke=True),
    Case("empty-file-claiming-png", "empty.png", "image/png", lambda: b"",
         _review(mismatch=True), "zero bytes declared as a PNG"),
    # --- polyglots and wrong extensions ------------------------------------------------------------------
    Case("jpeg-named-pdf", "invoice.pdf", "application/pdf", lambda: samples.jpeg(320, 240),
         _review(mismatch=True), "a JPEG declared and named as a PDF", smoke=True),
    Case("html-named-png", "cat.png", "image/png", samples.html_page,
         _review(mismatch=True), "an HTML page with a script, declared as a PNG"),
    Case("elf-named-jpeg", "photo.jpg", "image/jpeg", samples.elf_executable,
         _rejected("Detect"), "an ELF executable declared as a JPEG"),
    Case("zip-named-docx", "contract.docx", DOCX, samples.zip_file,
         _review(mismatch=True), "a plain ZIP declared as a Word document"),
    Case("pdf-zip-polyglot", "polyglot.pdf", "application/pdf", samples.pdf_zip_polyglot,
         _processed(), "a PDF with a ZIP appended: read as the PDF it starts as"),
    Case("gifar", "avatar.gif", "image/gif", samples.gifar,
         _processed(), "a GIF with a JAR appended: re-encoded, the JAR is not carried over"),
    # --- names -------------------------------------------------------------------------------------------
    Case("name-bidi-override", "invoice\u202egpj.exe", "image/jpeg", lambda: samples.jpeg(64, 64),
         _refused(), "U+202E makes invoice<RLO>gpj.exe display as invoiceexe.jpg", smoke=True),
    Case("name-control-character", "report\x07\x1b[2J.pdf", "application/pdf", lambda: samples.pdf(1),
         _refused(), "BEL and an ANSI escape in the name"),
    Case("name-newline", "a.txt\r\nX-Injected: 1", "text/plain", lambda: samples.TEXT.encode(),
         _refused(), "CRLF in the name (header injection)"),
    Case("name-nul", "photo.jpg\x00.exe", "image/jpeg", lambda: samples.jpeg(64, 64),
         _refused(), "a NUL truncating the name in C"),
    Case("name-too-long", "n" * 300 + ".txt", "text/plain", lambda: samples.TEXT.encode(),
         _refused(), "a 304-character name"),
    Case("name-unicode", "Résumé 2026 — 日本語 📄.pdf", "application/pdf", lambda: samples.pdf(1),
         _processed(), "accents, CJK and an emoji: kept", smoke=True),
    Case("name-rtl-script", "تقرير-سنوي.pdf", "application/pdf", lambda: samples.pdf(1),
         _processed(), "an Arabic name (right-to-left, no formatting characters)"),
    Case("name-traversal", "../../etc/passwd", "text/plain", lambda: samples.TEXT.encode(),
         _processed(), "a path: reduced to its last part, passwd"),
    # --- videos ------------------------------------------------------------------------------------------
    Case("mp4-truncated", "clip.mp4", "video/mp4", samples.truncated_mp4,
         _failed("CorruptFile", "Video"), "an MP4 cut in half", smoke=True),
    Case("mp4-broken", "broken.mp4", "video/mp4", samples.broken_mp4,
         _failed("CorruptFile", "Video"), "an ftyp box, then garbage"),
    Case("webm-corrupt", "broken.webm", "video/webm", samples.corrupt_webm,
         _failed("CorruptFile", "Video"), "a WebM header, then garbage"),
    Case("mp4-too-long", "long.mp4", "video/mp4", samples.long_mp4,
         _failed("LimitExceeded", "Video"), "16 minutes in a few KB: over the 15-minute limit"),
    Case("mp4-too-wide", "wide.mp4", "video/mp4", samples.wide_mp4,
         _failed("LimitExceeded", "Video"), "a 4160-pixel-wide frame: over the 4096 limit"),
    Case("mp4-audio-only", "song.mp4", "video/mp4", samples.audio_only_mp4,
         _rejected("Video"), "an MP4 with no video stream"),
)  # fmt: skip

# Good files uploaded between the hostile ones: each must still end processed.
GOOD: tuple[Case, ...] = (
    Case("good-jpeg", "good.jpg", "image/jpeg", lambda: samples.jpeg(640, 480), _processed(), "a photo"),
    Case("good-pdf", "good.pdf", "application/pdf", lambda: samples.pdf(2), _processed(), "a document"),
    Case("good-zip", "good.zip", "application/zip", samples.zip_file, _processed(), "an archive"),
    Case("good-csv", "good.csv", "text/csv", lambda: samples.CSV.encode(), _processed(), "a table"),
)

SMOKE: tuple[Case, ...] = tuple(case for case in CASES if case.smoke)


def by_id(case_id: str) -> Case:
    return next(case for case in (*CASES, *GOOD) if case.id == case_id)
