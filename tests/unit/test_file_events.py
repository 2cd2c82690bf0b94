"""FileEventsService: the stage history and the long-poll, on fakes with an injected clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from fileflow_api.events.service import EventsPolicy, FileEventsService, InvalidEventCursorError
from fileflow_api.files.errors import UnknownFileError
from fileflow_api.files.model import FileRecord
from fileflow_common.pipeline import Stage, StageEvent, StageState, event_cursor

USER, FILE = "user-alice", "file1"
T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def event(n: int, *, user: str = USER, stage: Stage = Stage.DETECT) -> StageEvent:
    at = T0 + timedelta(seconds=n)
    return StageEvent(
        file_id=FILE,
        user_id=user,
        stage=stage,
        state=StageState.STARTED,
        at=at,
        cursor=event_cursor(at, "exec", stage.value, str(n)),
    )


class FakeFiles:
    def __init__(self, status: str = "processing") -> None:
        self.file: FileRecord | None = FileRecord(
            user_id=USER,
            file_id=FILE,
            key=f"uploads/{USER}/{FILE}",
            filename="a.png",
            content_type="image/png",
            status=status,
            created_at="2026-12-01T10:00:00.000Z",
        )
        self.reads = 0

    def get(self, user_id: str, file_id: str) -> FileRecord | None:
        self.reads += 1
        return self.file if (user_id, file_id) == (USER, FILE) else None


class FakeEvents:
    def __init__(self, events: list[StageEvent] | None = None) -> None:
        self.events = events or []
        self.queries = 0

    def events_after(self, file_id: str, after: str | None, *, limit: int) -> list[StageEvent]:
        self.queries += 1
        newer = [e for e in sorted(self.events, key=lambda e: e.cursor) if after is None or e.cursor > after]
        return newer[:limit] if file_id == FILE else []


class FakeTime:
    """A monotonic clock that only moves when the service sleeps; `on_sleep` runs at each sleep."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        self.on_sleep: Callable[[int], None] = lambda _: None

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        self.on_sleep(len(self.sleeps))


def world(
    events: list[StageEvent] | None = None, *, status: str = "processing", page_size: int = 100
) -> tuple[FileEventsService, FakeFiles, FakeEvents, FakeTime]:
    files, log, time = FakeFiles(status), FakeEvents(events), FakeTime()
    service = FileEventsService(
        files=files,
        events=log,
        policy=EventsPolicy(poll_interval=0.25, status_check_interval=1.0, page_size=page_size),
        clock=time.clock,
        sleep=time.sleep,
    )
    return service, files, log, time


def test_events_newer_than_the_cursor_come_at_once_oldest_first() -> None:
    service, _, _, time = world([event(2), event(0), event(1)])
    page = service.wait(USER, FILE, after=None, wait_seconds=20)
    assert [e.cursor for e in page.events] == [event(0).cursor, event(1).cursor, event(2).cursor]
    assert (page.cursor, page.more, time.sleeps) == (event(2).cursor, False, [])
    later = service.wait(USER, FILE, after=event(0).cursor, wait_seconds=20)
    assert [e.cursor for e in later.events] == [event(1).cursor, event(2).cursor]


def test_a_page_holds_at_most_page_size_events_and_says_more_follow() -> None:
    service, _, _, _ = world([event(n) for n in range(5)], page_size=2)
    first = service.wait(USER, FILE, after=None, wait_seconds=0)
    assert ([e.cursor for e in first.events], first.more) == ([event(0).cursor, event(1).cursor], True)
    last = service.wait(USER, FILE, after=event(3).cursor, wait_seconds=0)
    assert ([e.cursor for e in last.events], last.more) == ([event(4).cursor], False)


def test_a_wait_with_nothing_new_polls_until_the_wait_is_over_then_answers_empty() -> None:
    service, files, log, time = world([event(0)])
    page = service.wait(USER, FILE, after=event(0).cursor, wait_seconds=2)
    assert (page.events, page.cursor, page.more) == ([], event(0).cursor, False)
    # Every 0.25 s for 2 s: 8 sleeps, a query after each (and one before); the file read once a second
    assert time.sleeps == [0.25] * 8
    assert log.queries == 9
    assert files.reads == 3


def test_a_wait_answers_with_the_event_written_while_it_waits() -> None:
    service, _, log, time = world()
    time.on_sleep = lambda n: log.events.append(event(7)) if n == 3 else None
    page = service.wait(USER, FILE, after=None, wait_seconds=20)
    assert [e.cursor for e in page.events] == [event(7).cursor]
    # Seen on the first query after it was written: within one poll interval
    assert time.sleeps == [0.25] * 3


def test_wait_zero_never_sleeps_and_a_final_file_never_waits() -> None:
    service, _, _, time = world()
    assert service.wait(USER, FILE, after=None, wait_seconds=0).events == []
    assert time.sleeps == []
    for status in ("processed", "failed", "rejected", "needs_review"):
        service, _, _, time = world([event(0)], status=status)
        page = service.wait(USER, FILE, after=event(0).cursor, wait_seconds=25)
        assert (page.events, page.file.status, time.sleeps) == ([], status, []), status


def test_a_file_that_reaches_its_final_status_while_waited_on_ends_the_wait() -> None:
    service, files, _, time = world()

    def finish(n: int) -> None:
        if n == 2 and files.file is not None:
            files.file = replace(files.file, status="processed")

    time.on_sleep = finish
    page = service.wait(USER, FILE, after=None, wait_seconds=20)
    # The status is read once a second: the wait ends on the first read after it changed
    assert (page.events, page.file.status, len(time.sleeps)) == ([], "processed", 4)


def test_a_file_deleted_while_waited_on_is_not_found() -> None:
    service, files, _, time = world()
    time.on_sleep = lambda n: setattr(files, "file", None) if n == 1 else None
    with pytest.raises(UnknownFileError, match="no file 'file1'"):
        service.wait(USER, FILE, after=None, wait_seconds=20)


def test_another_users_file_and_a_malformed_cursor_are_refused_before_any_wait() -> None:
    service, _, log, time = world([event(0)])
    with pytest.raises(UnknownFileError, match="no file 'file1'"):
        service.wait("user-bob", FILE, after=None, wait_seconds=20)
    with pytest.raises(UnknownFileError, match="no file 'bad!id'"):
        service.wait(USER, "bad!id", after=None, wait_seconds=20)
    for cursor in ("x", "1764612345678-0A1B2C3D", "1764612345678-0a1b2c3d ", ""):
        with pytest.raises(InvalidEventCursorError, match="after: cursor must look like") as refused:
            service.wait(USER, FILE, after=cursor, wait_seconds=20)
        assert refused.value.code == "InvalidCursor"
    assert (log.queries, time.sleeps) == (0, [])


def test_events_of_another_user_in_the_files_partition_are_never_shown() -> None:
    service, _, _, _ = world([event(0), event(1, user="user-bob")])
    assert [e.cursor for e in service.wait(USER, FILE, after=None, wait_seconds=0).events] == [
        event(0).cursor
    ]
    assert [e.cursor for e in service.history(USER, FILE)] == [event(0).cursor]


def test_the_history_is_every_event_oldest_first_across_pages() -> None:
    service, _, log, _ = world([event(n) for n in range(7)], page_size=3)
    assert [e.cursor for e in service.history(USER, FILE)] == [event(n).cursor for n in range(7)]
    assert log.queries == 3
