"""Document stage: PDF and DOCX text extraction, and text files' statistics (pypdf, python-docx,
charset-normalizer, in the `documents` layer)."""

from __future__ import annotations

from fileflow_common.pipeline import Stage
from fileflow_stages._runtime.content import Analysis, ContentKind, UnsupportedTypeError
from fileflow_stages._runtime.content_stage import analyzer_stage
from fileflow_stages._runtime.limits import Limits
from fileflow_stages._runtime.stage import stage_handler
from fileflow_stages._runtime.state import Detected
from fileflow_stages.detect.detection import DOCX, PDF
from fileflow_stages.document import documents, text


def analyze(detected: Detected, data: bytes, limits: Limits) -> Analysis:
    if detected.kind is ContentKind.TEXT:
        return text.analyze_text(data, limits)
    if detected.mime == PDF.mime:
        return documents.analyze_pdf(data, limits)
    if detected.mime == DOCX.mime:
        return documents.analyze_docx(data, limits)
    raise UnsupportedTypeError(f"the document stage does not process {detected.mime}")


extract = analyzer_stage(analyze)
lambda_handler = stage_handler(Stage.DOCUMENT, extract)
