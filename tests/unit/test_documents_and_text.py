"""PDF, DOCX and text handlers: extracted text, counts, encodings, limits, hostile documents."""

import json
from dataclasses import replace

import pytest

from fileflow_stages._runtime.content import ArchiveBombError, CorruptFileError, LimitExceededError
from fileflow_stages._runtime.limits import Limits
from fileflow_stages.document.documents import TEXT_DERIVATIVE, analyze_docx, analyze_pdf
from fileflow_stages.document.text import analyze_text
from tests import samples

LIMITS = Limits()


def test_pdf_text_and_page_count() -> None:
    # Given a 3-page PDF with one line of text per page
    analysis = analyze_pdf(samples.pdf(3), LIMITS)
    # Then the pages are counted and the text of each is in text.txt
    assert analysis.result["pages"] == 3
    assert analysis.result["encrypted"] is False
    [text] = analysis.derivatives
    assert text.name == TEXT_DERIVATIVE
    body = text.body.decode()
    assert all(f"Hello Fileflow page {number}" in body for number in (1, 2, 3))
    assert analysis.result["preview"].startswith("Hello Fileflow page 1")
    assert analysis.findings == []


def test_pdf_encrypted_with_a_password_needs_review_without_text() -> None:
    analysis = analyze_pdf(samples.encrypted_pdf("secret"), LIMITS)
    assert analysis.result["encrypted"] is True
    assert analysis.result["text_extracted"] is False
    assert analysis.derivatives == []
    assert [finding.code for finding in analysis.findings] == ["EncryptedDocument"]


def test_pdf_encrypted_with_the_empty_password_is_read() -> None:
    # Given a permissions-only protected PDF (empty user password)
    analysis = analyze_pdf(samples.encrypted_pdf(""), LIMITS)
    # Then it is decrypted and read like any other
    assert analysis.result["encrypted"] is True
    assert analysis.result["pages"] == 3
    assert b"Hello Fileflow page 3" in analysis.derivatives[0].body
    assert analysis.findings == []


def test_malformed_pdf_fails_with_a_reason() -> None:
    with pytest.raises(CorruptFileError, match="malformed PDF"):
        analyze_pdf(samples.malformed_pdf(), LIMITS)


def test_pdf_over_the_page_limit_is_refused() -> None:
    with pytest.raises(LimitExceededError, match="3 pages, over the 2-page limit"):
        analyze_pdf(samples.pdf(3), replace(LIMITS, max_pdf_pages=2))


def test_extracted_text_is_capped() -> None:
    analysis = analyze_pdf(samples.pdf(3), replace(LIMITS, max_text_chars=10))
    assert analysis.derivatives[0].body == b"Hello File"
    assert analysis.result["text_truncated"] is True


def test_docx_paragraphs_tables_and_properties() -> None:
    analysis = analyze_docx(samples.docx_file(), LIMITS)
    assert analysis.result["paragraphs"] == 2
    assert analysis.result["tables"] == 1
    assert analysis.result["title"] == "Quarterly report"
    body = analysis.derivatives[0].body.decode()
    assert "Fileflow processed this document." in body
    assert "region" in body


def test_docx_that_is_a_zip_bomb_is_refused_before_parsing() -> None:
    # Given a "DOCX" whose package holds a part inflating 1000x
    with pytest.raises(ArchiveBombError, match="expands"):
        analyze_docx(samples.zip_bomb(), LIMITS)


def test_plain_text_statistics() -> None:
    analysis = analyze_text(samples.TEXT.encode(), LIMITS)
    assert analysis.content_type == "text/plain"
    assert (
        analysis.result | {"lines": 4, "blank_lines": 1, "words": 10, "encoding": "utf-8"} == analysis.result
    )
    assert analysis.result["line_endings"] == "lf"


def test_csv_is_told_from_its_content() -> None:
    analysis = analyze_text(samples.CSV.encode(), LIMITS)
    assert analysis.content_type == "text/csv"
    assert analysis.result["csv"] == {
        "delimiter": ",",
        "rows": 3,
        "columns": 3,
        "ragged_rows": 0,
        "has_header": True,
        "header": ["name", "size", "kind"],
    }


def test_json_is_told_from_its_content() -> None:
    analysis = analyze_text(samples.JSON.encode(), LIMITS)
    assert analysis.content_type == "application/json"
    assert analysis.result["json"] == {
        "top_level": "object",
        "items": 2,
        "depth": 3,
        "keys": ["files", "owner"],
    }


def test_deeply_nested_json_does_not_crash_the_handler() -> None:
    # Given JSON nested deeper than Python's recursion limit
    deep = ("[" * 100_000 + "]" * 100_000).encode()
    # Then it is analysed as text (statistics), not parsed to a crash
    analysis = analyze_text(deep, LIMITS)
    assert analysis.content_type == "text/plain"
    assert analysis.result["characters"] == 200_000


def test_markdown_is_told_from_its_content() -> None:
    analysis = analyze_text(samples.MARKDOWN.encode(), LIMITS)
    assert analysis.content_type == "text/markdown"
    assert analysis.result["markdown"] == {"headings": 2, "code_blocks": 0, "links": 1, "list_items": 2}


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        ("Grüße aus Köln\nÄpfel und Öl\n".encode("utf-16"), "utf-16"),
        ("Grüße aus Köln\n".encode("utf-8-sig"), "utf-8-sig"),
        ("Привет, мир! Как дела? Всё хорошо.\n".encode("cp1251") * 3, "cp1251"),
    ],
)
def test_encodings_are_detected(data: bytes, encoding: str) -> None:
    analysis = analyze_text(data, LIMITS)
    assert analysis.result["encoding"] == encoding
    assert analysis.result["characters"] > 0


def test_text_over_the_size_limit_is_refused() -> None:
    with pytest.raises(LimitExceededError, match="text of 64 bytes"):
        analyze_text(samples.TEXT.encode(), replace(LIMITS, max_text_bytes=63))


def test_text_results_are_json_serializable() -> None:
    for data in (samples.TEXT, samples.CSV, samples.JSON, samples.MARKDOWN):
        json.dumps(analyze_text(data.encode(), LIMITS).result)
