"""A file's workflow events through the Lambda handler, against moto: the long-poll
(GET /v1/files/{id}/events), the stage history and ETag of GET /v1/files/{id}, and DELETE removing them.

Events are written the way the pipeline's stages write them (fileflow_common.pipeline.event_item, and the
file item's stage attributes), straight into the table.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from boto3.dynamodb.conditions import Key

from fileflow_api.events.service import EventsPolicy, FileEventsService
from fileflow_api.events.table import DynamoEventLog
from fileflow_api.files.policy import FilesPolicy
from fileflow_api.files.service import FileService
from fileflow_api.files.storage import S3FileObjects
from fileflow_api.files.table import DynamoFileIndex
from fileflow_api.handler import asgi_handler
from fileflow_common.aws import s3_client, s3_presigner
from fileflow_common.clock import to_timestamp
from fileflow_common.pipeline import Stage, StageEvent, StageState, event_cursor, event_item
from tests.integration.api_requests import ALICE, BOB, Answer, call, call_with
from tests.integration.conftest import BUCKET_NAME, Cloud, FakeLambdaContext

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:fileflow-pipeline:job-1"


@pytest.fixture
def api(cloud: Cloud, lambda_context: FakeLambdaContext) -> FakeLambdaContext:
    return lambda_context


def uploaded(api: FakeLambdaContext, *, user: str = ALICE) -> str:
    """A small file uploaded through the API (initiate, PUT, complete): status `uploaded`."""
    data = b"id,name\n1,ana\n"
    started = call(
        api, "POST", "/v1/uploads", body={"filename": "a.csv", "size": len(data), "content_type": "text/csv"}
    )
    assert started.status == 201, started.body
    single = started.body["single"]
    assert requests.put(single["url"], data=data, headers=single["headers"], timeout=30).status_code == 200
    assert call(api, "POST", f"/v1/uploads/{started.body['upload_id']}/complete").status == 200
    return str(started.body["file_id"])


def record(
    cloud: Cloud,
    file_id: str,
    n: int,
    *,
    stage: Stage = Stage.DETECT,
    state: StageState = StageState.STARTED,
    move_file: bool = True,
    status: str | None = None,
) -> StageEvent:
    """A stage's event `n` seconds after T0, as the stages write it (and, by default, the file's stage)."""
    at = T0 + timedelta(seconds=n)
    event = StageEvent(
        file_id=file_id,
        user_id=ALICE,
        stage=stage,
        state=state,
        at=at,
        cursor=event_cursor(at, EXECUTION, stage.value, state.value, str(n)),
        correlation_id="corr-1",
        execution_arn=EXECUTION,
        detail={"n": n},
    )
    cloud.table.put_item(Item=event_item(event))
    if move_file:
        values = {
            ":stage": stage.value,
            ":state": state.value,
            ":at": to_timestamp(at),
            ":cursor": event.cursor,
            ":arn": EXECUTION,
        }
        request: dict[str, Any] = {
            "Key": {"pk": f"USER#{ALICE}", "sk": f"FILE#{file_id}"},
            "UpdateExpression": "SET stage = :stage, stage_state = :state, stage_updated_at = :at, "
            "stage_cursor = :cursor, execution_arn = :arn",
            "ExpressionAttributeValues": values,
        }
        if status is not None:
            request["UpdateExpression"] += ", #status = :status"
            request["ExpressionAttributeNames"] = {"#status": "status"}
            values[":status"] = status
        cloud.table.update_item(**request)
    return event


@dataclass
class FakeTime:
    now: float = 1000.0
    slept: float = 0.0
    sleeps: int = 0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.slept += seconds
        self.sleeps += 1


def inject_events_clock(cloud: Cloud, fake: FakeTime) -> None:
    """The deployed wiring (DynamoDB adapters, the app, Mangum), with the events' clock and sleep faked."""
    app = asgi_handler().app
    service = FileEventsService(
        files=DynamoFileIndex(cloud.table),
        events=DynamoEventLog(cloud.table),
        policy=EventsPolicy(poll_interval=0.25),
        clock=fake.clock,
        sleep=fake.sleep,
    )
    app.state.dependencies = replace(app.state.dependencies, events=service)  # type: ignore[attr-defined]


def events_of(answer: Answer) -> list[str]:
    assert answer.status == 200, answer.body
    return [event["cursor"] for event in answer.body["events"]]


# --- the long-poll ------------------------------------------------------------------------------------------


def test_events_answer_at_once_oldest_first_with_the_cursor_and_the_files_stage(
    api: FakeLambdaContext, cloud: Cloud
) -> None:
    # Given a file whose workflow recorded three transitions (written out of order)
    file_id = uploaded(api)
    later = record(cloud, file_id, 2, stage=Stage.IMAGE, state=StageState.STARTED)
    first = record(cloud, file_id, 0, stage=Stage.DETECT, state=StageState.STARTED, move_file=False)
    second = record(cloud, file_id, 1, stage=Stage.DETECT, state=StageState.SUCCEEDED, move_file=False)
    # When its owner asks for its events
    started = time.monotonic()
    answer = call(api, "GET", f"/v1/files/{file_id}/events")
    # Then they come at once, oldest first, with the last cursor and the file's current stage
    assert time.monotonic() - started < 2
    assert events_of(answer) == [first.cursor, second.cursor, later.cursor]
    body = answer.body
    assert (body["file_id"], body["cursor"], body["more"]) == (file_id, later.cursor, False)
    assert (body["status"], body["stage"], body["stage_state"]) == ("uploaded", "image", "started")
    assert body["events"][1] == {
        "cursor": second.cursor,
        "stage": "detect",
        "state": "succeeded",
        "at": "2026-12-01T10:00:01.000Z",
        "correlation_id": "corr-1",
        "detail": {"n": 1},
    }
    # And after a cursor, only what is newer
    assert events_of(call(api, "GET", f"/v1/files/{file_id}/events", query={"after": first.cursor})) == [
        second.cursor,
        later.cursor,
    ]


def test_events_come_100_at_a_time_and_say_when_more_follow(api: FakeLambdaContext, cloud: Cloud) -> None:
    file_id = uploaded(api)
    cursors = [record(cloud, file_id, n, move_file=False).cursor for n in range(105)]
    # And a job record in the same partition, which is not an event
    cloud.table.put_item(Item={"pk": f"FILE#{file_id}", "sk": "JOB#image-1", "user_id": ALICE})
    page = call(api, "GET", f"/v1/files/{file_id}/events", query={"wait": "0"})
    assert (events_of(page), page.body["more"], page.body["cursor"]) == (cursors[:100], True, cursors[99])
    rest = call(api, "GET", f"/v1/files/{file_id}/events", query={"after": cursors[99], "wait": "0"})
    assert (events_of(rest), rest.body["more"], rest.body["cursor"]) == (cursors[100:], False, cursors[104])
    none = call(api, "GET", f"/v1/files/{file_id}/events", query={"after": cursors[104], "wait": "0"})
    assert (events_of(none), none.body["more"], none.body["cursor"]) == ([], False, cursors[104])


def test_a_wait_answers_with_the_event_a_concurrent_writer_adds(api: FakeLambdaContext, cloud: Cloud) -> None:
    # Given a file with one event, and a stage that records the next one 0.3 s from now (real clock)
    file_id = uploaded(api)
    seen = record(cloud, file_id, 0)
    writer = threading.Timer(0.3, record, args=(cloud, file_id, 1), kwargs={"stage": Stage.IMAGE})
    # When the owner waits for what follows
    started = time.monotonic()
    writer.start()
    try:
        answer = call(api, "GET", f"/v1/files/{file_id}/events", query={"after": seen.cursor, "wait": "10"})
    finally:
        writer.join()
    elapsed = time.monotonic() - started
    # Then the answer is that event, within a poll interval of its write (not after the 10 s)
    assert [event["stage"] for event in answer.body["events"]] == ["image"], answer.body
    assert 0.3 <= elapsed < 1.3
    assert answer.body["stage"] == "image"


def test_a_wait_with_nothing_new_answers_empty_once_the_injected_wait_is_over(
    api: FakeLambdaContext, cloud: Cloud
) -> None:
    file_id = uploaded(api)
    seen = record(cloud, file_id, 0)
    fake = FakeTime()
    inject_events_clock(cloud, fake)
    started = time.monotonic()
    answer = call(api, "GET", f"/v1/files/{file_id}/events", query={"after": seen.cursor, "wait": "20"})
    # Then 200, nothing new, the cursor unchanged, after polling every 0.25 s for the 20 s (fake ones)
    assert answer.status == 200, answer.body
    assert (answer.body["events"], answer.body["cursor"], answer.body["more"]) == ([], seen.cursor, False)
    assert (fake.slept, fake.sleeps) == (20.0, 80)
    assert time.monotonic() - started < 10  # 81 queries against moto, no real wait


def test_a_file_whose_workflow_ended_answers_at_once(api: FakeLambdaContext, cloud: Cloud) -> None:
    file_id = uploaded(api)
    last = record(cloud, file_id, 0, stage=Stage.NOTIFY, state=StageState.SUCCEEDED, status="processed")
    fake = FakeTime()
    inject_events_clock(cloud, fake)
    answer = call(api, "GET", f"/v1/files/{file_id}/events", query={"after": last.cursor, "wait": "25"})
    assert (answer.body["events"], answer.body["status"], fake.sleeps) == ([], "processed", 0)


def test_a_processed_file_still_waits_for_its_last_stage(api: FakeLambdaContext, cloud: Cloud) -> None:
    # Given a file that finalize marked processed, whose notify stage has not run yet
    file_id = uploaded(api)
    last = record(cloud, file_id, 0, stage=Stage.FINALIZE, state=StageState.SUCCEEDED, status="processed")
    fake = FakeTime()
    inject_events_clock(cloud, fake)
    # When a client long-polls after finalize's event / Then the route waits (notify's events are to come)
    answer = call(api, "GET", f"/v1/files/{file_id}/events", query={"after": last.cursor, "wait": "2"})
    assert answer.body["events"] == []
    assert fake.sleeps > 0


def test_a_wait_never_outlives_the_function(cloud: Cloud) -> None:
    @dataclass(frozen=True)
    class EndingSoon(FakeLambdaContext):
        def get_remaining_time_in_millis(self) -> int:
            return 3_500

    context = EndingSoon()
    file_id = uploaded(context)
    fake = FakeTime()
    inject_events_clock(cloud, fake)
    # With 3.5 s left and 2 s kept for the answer, a 25 s wait is cut to 1.5 s
    answer = call(context, "GET", f"/v1/files/{file_id}/events", query={"wait": "25"})
    assert (answer.status, answer.body["events"], fake.slept) == (200, [], 1.5)


def test_a_malformed_cursor_is_400_and_a_wait_out_of_range_is_422(api: FakeLambdaContext) -> None:
    file_id = uploaded(api)
    for cursor in ("yesterday", "1764612345678-0A1B2C3D", "EVENT#1764612345678-0a1b2c3d"):
        answer = call(api, "GET", f"/v1/files/{file_id}/events", query={"after": cursor})
        assert (answer.status, answer.body["error"]) == (
            400,
            {
                "code": "InvalidCursor",
                "message": "after: cursor must look like 1764612345678-0a1b2c3d (as returned in `cursor`)",
            },
        ), cursor
    for wait in ("26", "-1", "soon"):
        answer = call(api, "GET", f"/v1/files/{file_id}/events", query={"wait": wait})
        assert (answer.status, answer.error_code) == (422, "InvalidRequest"), wait


def test_another_users_file_is_404_exactly_like_get(api: FakeLambdaContext, cloud: Cloud) -> None:
    file_id = uploaded(api)
    record(cloud, file_id, 0)
    for target, user in ((file_id, BOB), ("no-such-file", ALICE), ("bad!id", ALICE)):
        events = call(api, "GET", f"/v1/files/{target}/events", query={"wait": "1"}, user=user)
        get = call(api, "GET", f"/v1/files/{target}", user=user)
        assert (events.status, events.body) == (get.status, get.body) == (404, get.body), (target, user)
        assert events.error_code == "FileNotFound"


# --- GET /v1/files/{id}: stage, history, ETag ---------------------------------------------------------------


def test_get_file_shows_the_stage_and_its_history(api: FakeLambdaContext, cloud: Cloud) -> None:
    file_id = uploaded(api)
    events = [
        record(cloud, file_id, 0, stage=Stage.DETECT, state=StageState.STARTED),
        record(cloud, file_id, 1, stage=Stage.DETECT, state=StageState.SUCCEEDED),
        record(cloud, file_id, 2, stage=Stage.DOCUMENT, state=StageState.FAILED),
    ]
    body = call(api, "GET", f"/v1/files/{file_id}").body
    assert (body["stage"], body["stage_state"], body["execution_arn"]) == ("document", "failed", EXECUTION)
    assert body["stage_updated_at"] == "2026-12-01T10:00:02.000Z"
    assert [(s["cursor"], s["stage"], s["state"]) for s in body["stages"]] == [
        (e.cursor, e.stage.value, e.state.value) for e in events
    ]
    assert body["stages"][2]["detail"] == {"n": 2}


def files_clock_at(cloud: Cloud, moment: datetime) -> None:
    """The API's file service, its clock stopped at `moment` (download URLs valid 300 s)."""
    app = asgi_handler().app
    files = FileService(
        index=DynamoFileIndex(cloud.table),
        objects=S3FileObjects(s3_client(), BUCKET_NAME, presigner=s3_presigner()),
        cursors=app.state.dependencies.cursors,  # type: ignore[attr-defined]
        quotas=app.state.dependencies.access.quotas,  # type: ignore[attr-defined]
        policy=FilesPolicy(download_ttl=timedelta(seconds=300)),
        clock=lambda: moment,
    )
    app.state.dependencies = replace(app.state.dependencies, files=files)  # type: ignore[attr-defined]


def test_get_file_has_an_etag_that_any_change_moves_and_if_none_match_answers_304(
    api: FakeLambdaContext, cloud: Cloud
) -> None:
    file_id = uploaded(api)
    record(cloud, file_id, 0)
    # The download URLs are signed per 150 s window (next test): one moment, so only a change moves the tag
    files_clock_at(cloud, datetime(2026, 12, 1, 10, 0, 30, tzinfo=UTC))
    path = f"/v1/files/{file_id}"
    first = call(api, "GET", path)
    tag = first.headers["etag"]
    assert first.headers["cache-control"] == "private, no-cache"
    # When the body held is current (its tag, the tag in a list, weakly, or *) / Then 304, no body
    for header in (tag, f'"0123", W/{tag}', "*"):
        again = call_with(api, "GET", path, headers={"If-None-Match": header})
        assert (again.status, again.body) == (304, None), header
        assert (again.headers["etag"], again.headers["cache-control"]) == (tag, "private, no-cache")
    # When another tag is named / Then the whole body
    assert call_with(api, "GET", path, headers={"If-None-Match": '"0123"'}).status == 200
    # And each change moves the tag: a new event alone (the file item untouched), the tags, the stage
    tags = {tag}

    def tag_moved() -> None:
        current = call(api, "GET", path).headers["etag"]
        assert current not in tags
        tags.add(current)
        assert call_with(api, "GET", path, headers={"If-None-Match": tag}).status == 200

    record(cloud, file_id, 1, move_file=False)
    tag_moved()
    assert call(api, "PUT", f"{path}/tags", body={"tags": ["trip"]}).status == 200
    tag_moved()
    record(cloud, file_id, 2, stage=Stage.DOCUMENT)
    tag_moved()
    assert len(tags) == 4


def test_the_etag_holds_while_the_urls_are_signed_in_the_same_half_lifetime(
    api: FakeLambdaContext, cloud: Cloud
) -> None:
    # Given a file whose original is downloadable (a presigned URL valid 300 s), read at chosen moments
    file_id = uploaded(api)

    def read_at(moment: datetime) -> Answer:
        files_clock_at(cloud, moment)
        return call(api, "GET", f"/v1/files/{file_id}")

    window = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)  # 10:05 (the URLs' expiry) starts a 150 s window
    at_start, later, next_window = (read_at(window + timedelta(seconds=s)) for s in (0, 149, 150))
    # Then the same tag within the window (new signatures, other expiry), another one in the next
    assert at_start.body["original"]["download"] != later.body["original"]["download"]
    assert at_start.headers["etag"] == later.headers["etag"]
    assert next_window.headers["etag"] != at_start.headers["etag"]


# --- DELETE -------------------------------------------------------------------------------------------------


def test_delete_removes_the_files_events_with_its_jobs(api: FakeLambdaContext, cloud: Cloud) -> None:
    file_id = uploaded(api)
    for n in range(3):
        record(cloud, file_id, n)
    cloud.table.put_item(Item={"pk": f"FILE#{file_id}", "sk": "JOB#image-1", "user_id": ALICE})
    assert call(api, "DELETE", f"/v1/files/{file_id}").status == 204
    assert cloud.table.query(KeyConditionExpression=Key("pk").eq(f"FILE#{file_id}"))["Items"] == []
    # And the tombstone keeps none of the workflow's attributes nor the correlation id
    tombstone = cloud.table.get_item(Key={"pk": f"USER#{ALICE}", "sk": f"FILE#{file_id}"})["Item"]
    assert set(tombstone) == {
        "pk",
        "sk",
        "entity",
        "user_id",
        "file_id",
        "status",
        "deleted_at",
        "purged_at",
        "expires_at",
    }
    assert call(api, "GET", f"/v1/files/{file_id}/events", query={"wait": "0"}).status == 404
