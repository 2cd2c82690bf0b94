"""Notify stage: the file's outcome as an event (`file.processed`, `file.needs_review`, `file.failed`).

It is recorded on the file's event stream with the correlation id; the webhook sender delivers these
events to the user's endpoints (docs/processing.md, "Notify").
"""

from __future__ import annotations

from typing import Any

from fileflow_common.pipeline import Stage
from fileflow_stages._runtime.stage import StageContext, StageResult, stage_handler

_EVENT_TYPES = {
    "processed": "file.processed",
    "needs_review": "file.needs_review",
    "failed": "file.failed",
    "rejected": "file.failed",
}


def outcome_of(state: dict[str, Any]) -> str | None:
    """The file's final status from the state: finalize's output, or the failure path's."""
    for name in ("finalize", "failure"):
        part = state.get(name)
        if isinstance(part, dict) and isinstance(part.get("status"), str):
            return str(part["status"])
    return None


def notify(context: StageContext) -> StageResult:
    status = outcome_of(context.invocation.state.model_dump())
    if status is None:
        return StageResult(output={"event": None})
    event_type = _EVENT_TYPES[status]
    detail = {"event": event_type, "status": status, "file_id": context.file.file_id}
    return StageResult(output={"event": event_type}, detail=detail)


# Deleted meanwhile: nobody is told about a file that is gone, and the workflow ends quietly.
lambda_handler = stage_handler(Stage.NOTIFY, notify, deleted_output={"event": None})
