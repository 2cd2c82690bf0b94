"""A file's workflow events: its stage history, and the long-poll for the next ones. No boto3.

The processing workflow appends one event per stage transition (fileflow_common.pipeline), in the
file's partition, under time-ordered cursors. `wait` answers at once with the events after a cursor; when
there are none it polls (a strongly consistent Query every `poll_interval`) until one arrives, the wait
runs out, or the file's workflow has ended (a final status, and its last stage done): a browser sees a
change within a second without a WebSocket API (API Gateway v2 is not in the local cloud;
docs/files-api.md, "Live status").

Ownership is checked on the caller's own file item first, exactly as GET /v1/files/{id} does: another
user's file is "not found". While waiting, the file is read again at most every `status_check_interval`,
before the events are: a final status answered with no events means no event older than that status is
left unseen. Events found are answered with the file as read after them (its stage at least theirs).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from fileflow_api.core.cursors import InvalidCursorError
from fileflow_api.files.model import FileRecord
from fileflow_api.files.service import FileLookup, live_file
from fileflow_common import pipeline
from fileflow_common.files import FileStatus
from fileflow_common.pipeline import StageEvent

# API Gateway answers 504 after 29 s: a wait never gets near it (infra/constructs/api.py).
MAX_WAIT_SECONDS = 25
DEFAULT_WAIT_SECONDS = 20
# Statuses after which the workflow writes nothing that would move the file on.
FINAL_STATUSES = frozenset(
    {FileStatus.PROCESSED, FileStatus.FAILED, FileStatus.REJECTED, FileStatus.NEEDS_REVIEW}
)
# The workflow's last stage: once it is done, nothing more is written for the file.
LAST_STAGE = pipeline.Stage.NOTIFY.value
DONE_STATES = frozenset({pipeline.StageState.SUCCEEDED.value, pipeline.StageState.FAILED.value})


def workflow_ended(file: FileRecord) -> bool:
    """A final status, and the workflow past its last stage (finalize sets the status before notify)."""
    if file.status not in FINAL_STATUSES:
        return False
    return file.stage is None or (file.stage == LAST_STAGE and file.stage_state in DONE_STATES)


# GET /v1/files/{id} shows at most this many (a file's workflow writes a few dozen).
MAX_HISTORY = 1000


class InvalidEventCursorError(InvalidCursorError):
    """`after` is not an event cursor (400 InvalidCursor, like every other cursor)."""


class EventLog(Protocol):
    def events_after(self, file_id: str, after: str | None, *, limit: int) -> list[StageEvent]:
        """Up to `limit` of the file's events newer than `after` (all when None), oldest first.

        Strongly consistent: an event written before the call is in the answer.
        """
        ...


@dataclass(frozen=True, slots=True)
class EventsPolicy:
    poll_interval: float = 0.25  # seconds between two reads of the events while waiting
    status_check_interval: float = 1.0  # seconds between two reads of the file item while waiting
    page_size: int = 100


@dataclass(frozen=True, slots=True)
class EventsPage:
    file: FileRecord  # its stage, stage state and status (read after `events` when there are some)
    events: list[StageEvent]
    cursor: str | None  # the last event's, or the `after` given when there is none
    more: bool  # more events follow `cursor` already: ask again at once


class FileEventsService:
    def __init__(
        self,
        *,
        files: FileLookup,
        events: EventLog,
        policy: EventsPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._files = files
        self._events = events
        self._policy = policy or EventsPolicy()
        self._clock = clock
        self._sleep = sleep

    def history(self, user_id: str, file_id: str) -> list[StageEvent]:
        """The file's events, oldest first (the caller has found the file already)."""
        found: list[StageEvent] = []
        after: str | None = None
        while len(found) < MAX_HISTORY:
            page = self._events.events_after(file_id, after, limit=self._policy.page_size)
            found += [event for event in page if event.user_id == user_id]
            if len(page) < self._policy.page_size:
                break
            after = page[-1].cursor
        return found[:MAX_HISTORY]

    def wait(self, user_id: str, file_id: str, *, after: str | None, wait_seconds: float) -> EventsPage:
        """The events after `after`; when there are none, the first ones within `wait_seconds`."""
        if after is not None:
            try:
                after = pipeline.validate_cursor(after)
            except pipeline.InvalidCursorError as exc:
                raise InvalidEventCursorError(f"after: {exc}") from exc
        started = self._clock()
        deadline = started + max(0.0, wait_seconds)
        file, checked_at = live_file(self._files, user_id, file_id), started
        while True:
            page = self._page(user_id, file_id, after)
            if page:
                more = len(page) > self._policy.page_size
                events = page[: self._policy.page_size]
                file = live_file(self._files, user_id, file_id)
                return EventsPage(file=file, events=events, cursor=events[-1].cursor, more=more)
            now = self._clock()
            if workflow_ended(file) or now >= deadline:
                return EventsPage(file=file, events=[], cursor=after, more=False)
            self._sleep(min(self._policy.poll_interval, deadline - now))
            if self._clock() - checked_at >= self._policy.status_check_interval:
                # Also how a delete during the wait ends it: 404, like any other read of a deleted file.
                file, checked_at = live_file(self._files, user_id, file_id), self._clock()

    def _page(self, user_id: str, file_id: str, after: str | None) -> list[StageEvent]:
        """One more than a page, so `more` is known without another read."""
        events = self._events.events_after(file_id, after, limit=self._policy.page_size + 1)
        return [event for event in events if event.user_id == user_id]
