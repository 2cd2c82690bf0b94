"""GET /v1/files/{file_id}/events: the file's workflow events, long-polled (docs/files-api.md). Thin."""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from pydantic import BaseModel, Field

from fileflow_api.core.params import Caller
from fileflow_api.dependencies import get_dependencies
from fileflow_api.events.service import DEFAULT_WAIT_SECONDS, MAX_WAIT_SECONDS, FileEventsService
from fileflow_api.files.params import FileId, files_router
from fileflow_common.clock import to_timestamp
from fileflow_common.pipeline import StageEvent

router = files_router()
# Time kept back from the function's remaining time for the answer itself.
_ANSWER_MARGIN_SECONDS = 2.0


def get_events_service(request: Request) -> FileEventsService:
    return get_dependencies(request).events


Events = Annotated[FileEventsService, Depends(get_events_service)]


class StageEventModel(BaseModel):
    cursor: Annotated[str, Field(description="time-ordered; send the last one back as ?after=")]
    stage: Annotated[str, Field(description="received, detect, image, document, archive, video, ...")]
    state: Annotated[str, Field(description="started, succeeded or failed")]
    at: str
    correlation_id: str | None
    detail: Annotated[dict[str, Any], Field(description="durations, counts, an error's code and message")]

    @classmethod
    def of(cls, event: StageEvent) -> StageEventModel:
        return cls(
            cursor=event.cursor,
            stage=event.stage.value,
            state=event.state.value,
            at=to_timestamp(event.at),
            correlation_id=event.correlation_id,
            detail=dict(event.detail),
        )


class FileEventsResponse(BaseModel):
    file_id: str
    events: Annotated[list[StageEventModel], Field(description="newer than `after`, oldest first")]
    cursor: Annotated[
        str | None, Field(description="send it back as ?after=: the last event's, else the `after` given")
    ]
    more: Annotated[bool, Field(description="more events follow already: ask again at once")]
    status: str
    stage: str | None
    stage_state: str | None


def _seconds_left(request: Request) -> float:
    """What the Lambda function has left for this request, less the time to answer (inf off Lambda)."""
    context = request.scope.get("aws.context")
    if context is None:
        return math.inf
    remaining = float(context.get_remaining_time_in_millis()) / 1000
    return max(0.0, remaining - _ANSWER_MARGIN_SECONDS)


@router.get("/{file_id}/events")
def file_events(
    request: Request,
    file_id: FileId,
    user: Caller,
    events: Events,
    after: Annotated[
        str | None, Query(description="the `cursor` of the previous answer (absent: from the first event)")
    ] = None,
    wait: Annotated[
        int,
        Query(ge=0, le=MAX_WAIT_SECONDS, description="seconds to wait for an event when none is newer"),
    ] = DEFAULT_WAIT_SECONDS,
) -> FileEventsResponse:
    page = events.wait(user.user_id, file_id, after=after, wait_seconds=min(wait, _seconds_left(request)))
    return FileEventsResponse(
        file_id=page.file.file_id,
        events=[StageEventModel.of(event) for event in page.events],
        cursor=page.cursor,
        more=page.more,
        status=page.file.status,
        stage=page.file.stage,
        stage_state=page.file.stage_state,
    )
