"""Plain text, CSV, JSON and Markdown: encoding detection and statistics. No boto3 here.

The format is told from the content (a JSON parse, a consistent CSV dialect, Markdown syntax), never
from the filename.
"""

from __future__ import annotations

import codecs
import csv
import json
import re
from collections import Counter
from typing import Any, Final

import charset_normalizer

from fileflow_stages._runtime.content import Analysis, CorruptFileError, Finding, LimitExceededError
from fileflow_stages._runtime.limits import Limits

_SAMPLE_BYTES: Final = 64 * 1024
_ENCODING_SAMPLE_BYTES: Final = 256 * 1024
# C0 controls other than \t \n \v \f \r and ESC: more than this share of them means binary.
_CONTROL_BYTES: Final = frozenset(range(32)) - {9, 10, 11, 12, 13, 27}
_MAX_CONTROL_SHARE: Final = 0.01
_BOMS: Final = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_CSV_DELIMITERS: Final = ",;\t|"
_CSV_SAMPLE_LINES: Final = 50
# The sniffer's regular expressions backtrack on long lines: it sees this much at most.
_CSV_SAMPLE_CHARS: Final = 16 * 1024
# Linear-time patterns only (no nested or overlapping repetition): the text is the uploader's.
_HEADING = re.compile(r"^#{1,6}[ \t]+\S", re.MULTILINE)
_FENCE = re.compile(r"^[ \t]{0,3}(?:```|~~~)", re.MULTILINE)
_LINK = re.compile(r"\[[^\[\]\n]{1,500}\]\([^()\s]{1,2000}\)")
_LIST_ITEM = re.compile(r"^[ \t]{0,8}(?:[-*+]|\d{1,3}[.)])[ \t]+\S", re.MULTILINE)
_PREVIEW_FIELDS: Final = 50
_PREVIEW_CHARS: Final = 200


def _bom_encoding(data: bytes) -> str | None:
    return next((encoding for bom, encoding in _BOMS if data.startswith(bom)), None)


def _mostly_printable(sample: bytes) -> bool:
    if not sample:
        return True
    controls = sum(1 for byte in sample if byte in _CONTROL_BYTES)
    return controls / len(sample) <= _MAX_CONTROL_SHARE


def looks_like_text(data: bytes) -> bool:
    """True for text in any encoding charset-normalizer recognises (UTF-16/32 only with a BOM)."""
    if not data or _bom_encoding(data):
        return True
    sample = data[:_SAMPLE_BYTES]
    if b"\x00" in sample or not _mostly_printable(sample):
        return False
    try:
        # Incremental: the sample may end inside a multi-byte character.
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        return charset_normalizer.from_bytes(sample).best() is not None
    return True


def decode(data: bytes) -> tuple[str, str]:
    """The text and the encoding it was decoded with (BOM, then strict UTF-8, then detection)."""
    encoding = _bom_encoding(data)
    if encoding is None:
        try:
            return data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            best = charset_normalizer.from_bytes(data[:_ENCODING_SAMPLE_BYTES]).best()
            if best is None:
                raise CorruptFileError("text in no recognisable encoding") from None
            encoding = best.encoding
    try:
        return data.decode(encoding), encoding
    except (UnicodeDecodeError, LookupError) as exc:
        # Detection works on a sample: a later byte may still not fit. Keep going, count the damage.
        text = data.decode(encoding, errors="replace")
        if text.count("\ufffd") > len(text) // 100:
            raise CorruptFileError(f"text is not valid {encoding}: {exc}") from exc
        return text, encoding


def _line_endings(text: str) -> str:
    crlf = text.count("\r\n")
    lf = text.count("\n") - crlf
    cr = text.count("\r") - crlf
    present = [name for name, count in (("lf", lf), ("crlf", crlf), ("cr", cr)) if count]
    return present[0] if len(present) == 1 else ("mixed" if present else "none")


def _general_statistics(text: str) -> dict[str, Any]:
    lines = text.splitlines()
    return {
        "characters": len(text),
        "lines": len(lines),
        "blank_lines": sum(1 for line in lines if not line.strip()),
        "words": len(text.split()),
        "longest_line": max((len(line) for line in lines), default=0),
        "line_endings": _line_endings(text),
    }


def _json_depth(value: Any) -> int:
    """Nesting depth, iteratively (a deep document must not exhaust the stack here too)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, depth)
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children)
    return deepest


def _json_statistics(text: str) -> dict[str, Any] | None:
    stripped = text.strip()
    if not stripped or stripped[0] not in "[{":
        return None
    try:
        document = json.loads(stripped)
    except (ValueError, RecursionError):
        return None
    statistics: dict[str, Any] = {
        "top_level": "object" if isinstance(document, dict) else "array",
        "items": len(document),
        "depth": _json_depth(document),
    }
    if isinstance(document, dict):
        statistics["keys"] = [key[:_PREVIEW_CHARS] for key in list(document)[:_PREVIEW_FIELDS]]
    return statistics


def _csv_dialect(text: str) -> type[csv.Dialect] | None:
    sample_lines = [line for line in text.splitlines()[:_CSV_SAMPLE_LINES] if line.strip()]
    if len(sample_lines) < 2:
        return None
    try:
        dialect = csv.Sniffer().sniff("\n".join(sample_lines)[:_CSV_SAMPLE_CHARS], delimiters=_CSV_DELIMITERS)
    except csv.Error:
        return None
    widths = Counter(len(row) for row in csv.reader(sample_lines, dialect))
    width, rows = widths.most_common(1)[0]
    # Prose sniffed as CSV has ragged widths; a table has one width on (nearly) every line.
    return dialect if width >= 2 and rows >= 0.8 * len(sample_lines) else None


def _csv_statistics(text: str, dialect: type[csv.Dialect]) -> dict[str, Any]:
    rows = [row for row in csv.reader(text.splitlines(), dialect) if row]
    widths = Counter(len(row) for row in rows)
    columns = widths.most_common(1)[0][0]
    try:
        has_header = csv.Sniffer().has_header(
            "\n".join(text.splitlines()[:_CSV_SAMPLE_LINES])[:_CSV_SAMPLE_CHARS]
        )
    except csv.Error:
        has_header = False
    statistics: dict[str, Any] = {
        "delimiter": dialect.delimiter,
        "rows": len(rows) - (1 if has_header else 0),
        "columns": columns,
        "ragged_rows": sum(count for width, count in widths.items() if width != columns),
        "has_header": has_header,
    }
    if has_header:
        statistics["header"] = [field[:_PREVIEW_CHARS] for field in rows[0][:_PREVIEW_FIELDS]]
    return statistics


def _markdown_statistics(text: str) -> dict[str, Any] | None:
    headings = len(_HEADING.findall(text))
    fences = len(_FENCE.findall(text)) // 2
    links = len(_LINK.findall(text))
    list_items = len(_LIST_ITEM.findall(text))
    if not headings or (headings < 2 and not (fences or links or list_items)):
        return None
    return {"headings": headings, "code_blocks": fences, "links": links, "list_items": list_items}


def analyze_text(data: bytes, limits: Limits) -> Analysis:
    if len(data) > limits.max_text_bytes:
        raise LimitExceededError(f"text of {len(data)} bytes exceeds the {limits.max_text_bytes}-byte limit")
    text, encoding = decode(data)
    result: dict[str, Any] = {"encoding": encoding, "bytes": len(data), **_general_statistics(text)}
    findings: list[Finding] = []
    if "\ufffd" in text and encoding != "utf-8":
        findings.append(Finding("UndecodableBytes", f"some bytes are not valid {encoding}"))

    if (json_statistics := _json_statistics(text)) is not None:
        content_type, result["json"] = "application/json", json_statistics
    elif (dialect := _csv_dialect(text)) is not None:
        content_type, result["csv"] = "text/csv", _csv_statistics(text, dialect)
    elif (markdown := _markdown_statistics(text)) is not None:
        content_type, result["markdown"] = "text/markdown", markdown
    else:
        content_type = "text/plain"
    return Analysis(result=result, findings=findings, content_type=content_type)
