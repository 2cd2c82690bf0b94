"""Notify stage: the file's outcome as an event (`file.processed`, `file.needs_review`, `file.failed`),
and `review.decided` (status: the decision) after a human review (docs/reviews.md).

It is recorded on the file's event stream with the correlation id, and queued once to the webhook sender
(fileflow_common.webhooks), which delivers it to the user's endpoints and the upload's `callback_url`
(docs/processing.md, "Notify"). A failed send raises, so the workflow retries the stage; the event's id
comes from the execution, so a retry queues the same event and the sender delivers it once.
"""

from __future__ import annotations

from typing import Any

from fileflow_common.pipeline import Stage
from fileflow_common.webhooks.events import EventData, EventType, new_event
from fileflow_stages._runtime.stage import StageContext, StageResult, stage_handler

_EVENT_TYPES = {
    "processed": EventType.FILE_PROCESSED,
    "needs_review": EventType.FILE_NEEDS_REVIEW,
    "failed": EventType.FILE_FAILED,
    "rejected": EventType.FILE_FAILED,
}


def outcome_of(state: dict[str, Any]) -> str | None:
    """The file's final status from the state: finalize's output, or the failure path's."""
    for name in ("finalize", "failure"):
        part = state.get(name)
        if isinstance(part, dict) and isinstance(part.get("status"), str):
            return str(part["status"])
    return None


def failure_reason(state: dict[str, Any]) -> str | None:
    """The failure path's error code (e.g. `UnsupportedType`): never its message, which may quote content."""
    code = (state.get("failure") or {}).get("code")
    return code if isinstance(code, str) else None


def review_decision(state: dict[str, Any]) -> str | None:
    """The human review's decision (or the timeout rule's `expired`), when the file had a review."""
    decision = (state.get("review") or {}).get("decision")
    return decision if isinstance(decision, str) else None


def notify(context: StageContext) -> StageResult:
    state = context.invocation.state.model_dump()
    status = outcome_of(state)
    if status is None:
        return StageResult(output={"event": None})
    event_type = _EVENT_TYPES[status]
    file = context.file
    # Raises FileDeletedError for a file deleted meanwhile: nothing is sent about a file that is gone.
    declared = context.services.records.declared(file.upload)
    event = new_event(
        user_id=file.user_id,
        type=event_type,
        data=EventData(
            file_id=file.file_id,
            upload_id=declared.upload_id,
            status=status,
            correlation_id=file.correlation_id,
            reason=failure_reason(state) if event_type is EventType.FILE_FAILED else None,
        ),
        identity=(context.invocation.execution_arn or file.job_id,),
        callback_url=declared.callback_url,
        occurred_at=context.clock(),
    )
    context.services.webhooks.publish(event)
    detail = {
        "event": event_type.value,
        "status": status,
        "file_id": file.file_id,
        "event_id": event.event_id,
    }
    decision = review_decision(state)
    if decision is not None:
        reviewed = new_event(
            user_id=file.user_id,
            type=EventType.REVIEW_DECIDED,
            data=EventData(
                file_id=file.file_id,
                upload_id=declared.upload_id,
                status=decision,
                correlation_id=file.correlation_id,
            ),
            identity=(context.invocation.execution_arn or file.job_id,),
            callback_url=declared.callback_url,
            occurred_at=context.clock(),
        )
        context.services.webhooks.publish(reviewed)
        detail["review_event_id"] = reviewed.event_id
    return StageResult(output={"event": event_type.value}, detail=detail)


# Deleted meanwhile: nobody is told about a file that is gone, and the workflow ends quietly.
lambda_handler = stage_handler(Stage.NOTIFY, notify, deleted_output={"event": None})
