"""Archive stage: ZIP and TAR listings (stdlib only); entries are inspected, never extracted."""

from __future__ import annotations

from fileflow_common.pipeline import Stage
from fileflow_stages._runtime.content import Analysis
from fileflow_stages._runtime.content_stage import analyzer_stage
from fileflow_stages._runtime.limits import Limits
from fileflow_stages._runtime.stage import stage_handler
from fileflow_stages._runtime.state import Detected
from fileflow_stages.archive import archives


def analyze(detected: Detected, data: bytes, limits: Limits) -> Analysis:
    if detected.label == "zip":
        return archives.list_zip(data, limits)
    return archives.list_tar(data, detected.label, limits)


inspect = analyzer_stage(analyze)
lambda_handler = stage_handler(Stage.ARCHIVE, inspect)
