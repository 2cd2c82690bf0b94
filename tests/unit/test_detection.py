"""Type detection by content: the declared type and the filename never decide."""

import struct

import pytest

from fileflow_stages._runtime.content import ContentKind
from fileflow_stages.detect.detection import (
    DOCX,
    GIF,
    JPEG,
    M4V,
    MOV,
    MP4,
    PDF,
    PNG,
    TAR,
    TAR_GZ,
    TEXT,
    WEBM,
    WEBP,
    ZIP,
    DetectedType,
    declared_mismatch,
    detect,
)
from tests import samples


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (samples.jpeg(64, 48), JPEG),
        (samples.png(32, 32), PNG),
        (samples.webp(32, 32), WEBP),
        (samples.gif(32, 32), GIF),
        (samples.pdf(), PDF),
        (samples.docx_file(), DOCX),
        (samples.zip_file(), ZIP),
        (samples.tar_file(), TAR),
        (samples.tar_file(compression="gz"), TAR_GZ),
        (samples.CSV.encode(), TEXT),
        ("héllo wörld, ça va ?\n".encode("latin-1"), TEXT),
        (b"", TEXT),
    ],
    ids=["jpeg", "png", "webp", "gif", "pdf", "docx", "zip", "tar", "tar.gz", "csv", "latin-1", "empty"],
)
def test_supported_types_are_told_by_their_bytes(data: bytes, expected: object) -> None:
    # Given the bytes of a file / When detected / Then the type is the content's
    assert detect(data) is expected


@pytest.mark.parametrize(
    ("data", "label"),
    [
        (b"\x7fELF\x02\x01\x01" + b"\x00" * 64, "elf"),
        (b"MZ\x90\x00" + b"\x00" * 64, "exe"),
        (b"Rar!\x1a\x07\x01\x00" + b"\x00" * 16, "rar"),
        (b"\x00\x00\x00\x18ftypheic" + b"\x00" * 16, "heic"),
        (b"\x1f\x8b\x08\x00" + b"\x00" * 32, "gz (not a tar)"),
        (bytes(range(256)) * 4, "binary"),
    ],
)
def test_other_content_is_named_and_unsupported(data: bytes, label: str) -> None:
    detected = detect(data)
    assert detected.kind is ContentKind.UNKNOWN
    assert detected.label == label


def test_a_png_named_and_declared_as_a_pdf_is_a_png_and_the_mismatch_is_reported() -> None:
    # Given PNG bytes that the client called report.pdf, application/pdf
    detected = detect(samples.png(16, 16))
    # When compared with what was declared
    mismatch = declared_mismatch(detected, "application/pdf", "report.pdf")
    # Then the content wins and both claims are recorded as contradicted
    assert detected is PNG
    assert mismatch == {
        "declared_content_type": "application/pdf",
        "filename_extension": ".pdf",
        "detected_content_type": "image/png",
    }


@pytest.mark.parametrize(
    ("declared_type", "filename"),
    [
        ("image/jpeg", "photo.JPG"),
        ("image/jpg; charset=binary", "photo.jpeg"),
        ("application/octet-stream", None),  # a generic type claims nothing
        (None, "no-extension"),
        ("", None),
    ],
)
def test_agreeing_or_generic_declarations_are_no_mismatch(
    declared_type: str | None, filename: str | None
) -> None:
    assert declared_mismatch(JPEG, declared_type, filename) == {}


def iso_media(brand: bytes, *compatible: bytes) -> bytes:
    """The start of an ISO base media file: its `ftyp` box (major brand, minor version, compatible
    brands), then the start of an `mdat` box."""
    payload = brand + b"\x00\x00\x02\x00" + b"".join(compatible or (brand,))
    ftyp = struct.pack(">I", 8 + len(payload)) + b"ftyp" + payload
    return ftyp + struct.pack(">I", 40) + b"mdat" + b"\x00" * 32


def ebml(doc_type: bytes) -> bytes:
    """An EBML header (the first bytes of Matroska and WebM): version, read version, DocType, then a
    Segment element."""
    body = (
        b"\x42\x86\x81\x01"  # EBMLVersion 1
        + b"\x42\xf7\x81\x01"  # EBMLReadVersion 1
        + b"\x42\x82"
        + bytes([0x80 | len(doc_type)])
        + doc_type  # DocType
        + b"\x42\x87\x81\x04"  # DocTypeVersion 4
        + b"\x42\x85\x81\x02"  # DocTypeReadVersion 2
    )
    return b"\x1a\x45\xdf\xa3" + bytes([0x80 | len(body)]) + body + b"\x18\x53\x80\x67" + b"\x01" * 16


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (iso_media(b"isom", b"isom", b"iso2", b"avc1", b"mp41"), MP4),
        (iso_media(b"mp42", b"mp42", b"isom"), MP4),
        (iso_media(b"qt  "), MOV),
        (iso_media(b"M4V ", b"M4V ", b"M4A ", b"mp42", b"isom"), M4V),
        (ebml(b"webm"), WEBM),
    ],
    ids=["mp4-isom", "mp4-mp42", "mov", "m4v", "webm"],
)
def test_the_video_containers_the_video_stage_transcodes_are_told_by_their_header(
    data: bytes, expected: object
) -> None:
    # Given the first bytes of a video / When detected / Then its container, of the video kind
    detected = detect(data)
    assert detected is expected
    assert detected.kind is ContentKind.VIDEO


@pytest.mark.parametrize(
    ("data", "mime", "label"),
    [
        (ebml(b"matroska"), "video/x-matroska", "matroska"),
        (iso_media(b"heic", b"mif1", b"heic"), "image/heic", "heic"),
        (iso_media(b"3gp4"), "video/mp4", "iso-media (3gp4)"),
    ],
    ids=["matroska", "heic", "3gp"],
)
def test_other_iso_media_and_ebml_containers_are_named_and_unsupported(
    data: bytes, mime: str, label: str
) -> None:
    # Given a Matroska file (only WebM's DocType is transcoded), a HEIC image or a 3GP video
    detected = detect(data)
    # Then each is named precisely, and not processed
    assert (detected.mime, detected.label, detected.kind) == (mime, label, ContentKind.UNKNOWN)


@pytest.mark.parametrize(
    ("detected", "declared_type", "filename"),
    [
        (MP4, "video/mp4", "clip.MP4"),
        (MP4, "video/quicktime", "clip.m4v"),
        (MOV, "video/quicktime", "clip.mov"),
        (MOV, "video/mp4", "clip.mp4"),  # cameras write QuickTime files named .mp4
        (M4V, "video/x-m4v", "clip.m4v"),
        (WEBM, "video/webm", "clip.webm"),
    ],
)
def test_video_declarations_that_agree_with_the_container_are_no_mismatch(
    detected: DetectedType, declared_type: str, filename: str
) -> None:
    assert declared_mismatch(detected, declared_type, filename) == {}


def test_a_webm_declared_as_an_mp4_is_a_mismatch() -> None:
    assert declared_mismatch(WEBM, "video/mp4", "clip.mp4") == {
        "declared_content_type": "video/mp4",
        "filename_extension": ".mp4",
        "detected_content_type": "video/webm",
    }
