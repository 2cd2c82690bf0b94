"""PDF (pypdf) and DOCX (python-docx): text, page count, a few properties. No boto3 here.

The extracted text becomes the `text.txt` derivative (capped at `max_text_chars`); the file item keeps
the counts and a short preview. Encrypted PDFs that open with the empty password are read; the others
end needs_review, with neither text nor page count (pypdf reads nothing before decryption).
A DOCX is a ZIP: its entries are checked against the archive bomb limits before python-docx inflates
anything.
"""

from __future__ import annotations

import io
import logging
import zipfile
from typing import Any, Final

import docx
from docx.opc.exceptions import PackageNotFoundError
from lxml.etree import LxmlError
from pypdf import PdfReader
from pypdf.errors import FileNotDecryptedError, PdfReadError, PyPdfError

from fileflow_stages._runtime.content import (
    Analysis,
    CorruptFileError,
    Derivative,
    Finding,
    LimitExceededError,
)
from fileflow_stages._runtime.limits import Limits
from fileflow_stages.archive.archives import check_zip_limits

TEXT_DERIVATIVE: Final = "text.txt"
_PREVIEW_CHARS: Final = 500
_PDF_ERRORS: Final = (PyPdfError, PdfReadError, OSError, ValueError, KeyError, TypeError, AttributeError)
_PROPERTY_CHARS: Final = 200

# pypdf logs every recoverable oddity of a malformed file as a warning; the job records what matters.
logging.getLogger("pypdf").setLevel(logging.ERROR)


def _text_analysis(text: str, limits: Limits, result: dict[str, Any]) -> Analysis:
    truncated = len(text) > limits.max_text_chars
    kept = text[: limits.max_text_chars]
    result |= {
        "characters": len(text),
        "words": len(text.split()),
        "text_truncated": truncated,
        "preview": kept[:_PREVIEW_CHARS],
    }
    derivatives = (
        [Derivative(TEXT_DERIVATIVE, "text/plain; charset=utf-8", kept.encode("utf-8"))] if kept else []
    )
    return Analysis(result=result, derivatives=derivatives)


def _pdf_property(reader: PdfReader, name: str) -> str | None:
    try:
        value = getattr(reader.metadata, name, None) if reader.metadata else None
    except _PDF_ERRORS:
        return None
    return str(value)[:_PROPERTY_CHARS] if value else None


def analyze_pdf(data: bytes, limits: Limits) -> Analysis:
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        encrypted = reader.is_encrypted
        # The empty user password opens most "encrypted" PDFs (permissions-only protection).
        readable = not encrypted or bool(reader.decrypt(""))
        pages = len(reader.pages)
    except FileNotDecryptedError:
        readable, pages = False, None
    except _PDF_ERRORS as exc:
        raise CorruptFileError(f"malformed PDF: {exc}") from exc
    if pages is not None and pages > limits.max_pdf_pages:
        raise LimitExceededError(f"{pages} pages, over the {limits.max_pdf_pages}-page limit")

    result: dict[str, Any] = {"pages": pages, "encrypted": encrypted}
    if not readable:
        finding = Finding("EncryptedDocument", "the PDF needs a password: no text was extracted")
        return Analysis(result=result | {"text_extracted": False}, findings=[finding])
    result |= {"title": _pdf_property(reader, "title"), "author": _pdf_property(reader, "author")}

    chunks: list[str] = []
    collected = 0
    unreadable_pages = 0
    for page in reader.pages:
        if collected > limits.max_text_chars:
            break
        try:
            chunk = page.extract_text() or ""
        except _PDF_ERRORS:
            unreadable_pages += 1
            continue
        chunks.append(chunk)
        collected += len(chunk)
    analysis = _text_analysis("\n\f".join(chunks), limits, result | {"text_extracted": True})
    if unreadable_pages:
        analysis.findings.append(
            Finding("UnreadablePages", f"text of {unreadable_pages} page(s) could not be extracted")
        )
    return analysis


def analyze_docx(data: bytes, limits: Limits) -> Analysis:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            check_zip_limits(package, archive_size=len(data), limits=limits)
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, PackageNotFoundError, LxmlError, KeyError, ValueError, OSError) as exc:
        raise CorruptFileError(f"malformed DOCX: {exc}") from exc
    paragraphs = [paragraph.text for paragraph in document.paragraphs]
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    properties = document.core_properties
    result: dict[str, Any] = {
        "paragraphs": len(paragraphs),
        "tables": len(document.tables),
        "title": (properties.title or None) and properties.title[:_PROPERTY_CHARS],
        "author": (properties.author or None) and properties.author[:_PROPERTY_CHARS],
    }
    return _text_analysis("\n".join([*paragraphs, *cells]), limits, result)
