"""Type detection by content: the declared type and the filename never decide."""

import pytest

from fileflow_processor.analysis import ContentKind
from fileflow_processor.detection import (
    DOCX,
    GIF,
    JPEG,
    PDF,
    PNG,
    TAR,
    TAR_GZ,
    TEXT,
    WEBP,
    ZIP,
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
