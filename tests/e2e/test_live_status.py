"""Live status and playback on the deployed stack: the events long-poll, ETags, and HLS through the API.

A file uploaded through the API is followed through its workflow's stages by long-polling
GET /v1/files/{id}/events; an MP4 is played back through GET /v1/files/{id}/hls/{playlist}, whose every
URI the API rewrote (nested playlists to its own route, segments to presigned URLs).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from tests import samples
from tests.e2e.polling import wait_for
from tests.e2e.test_isolation import Client, upload_file
from tools.stack import StackOutputs
from tools.token import TokenFactory

pytestmark = pytest.mark.e2e

TERMINAL = {"processed", "failed", "rejected", "needs_review"}
# How late a waiting long-poll may deliver an event (the bound; the route polls every 0.25 s).
DELIVERY_BOUND_S = 1.0


def _user(stack: StackOutputs, prefix: str) -> Client:
    return Client(stack.api_url, TokenFactory.for_stack(stack).valid(f"{prefix}-{uuid.uuid4().hex[:10]}"))


def _processed(client: Client, file_id: str) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        body: dict[str, Any] = client("GET", f"/v1/files/{file_id}").json()
        return body if body.get("status") in TERMINAL else None

    return wait_for(probe, timeout=120, interval=0.5, what=f"file {file_id} to end its workflow")


def test_a_long_poll_delivers_every_stage_as_it_happens(stack: StackOutputs) -> None:
    client = _user(stack, "e2e-live")
    # Given a JPEG uploaded through the API
    started = upload_file(client, samples.jpeg(1600, 1200), filename="live.jpg", content_type="image/jpeg")
    file_id = started["file_id"]
    # When a client long-polls its events from the start, resuming after each answer's cursor
    seen: list[dict[str, Any]] = []
    late: list[tuple[str, float]] = []
    cursor: str | None = None
    status = "uploading"
    deadline = datetime.now(UTC).timestamp() + 120
    while datetime.now(UTC).timestamp() < deadline:
        params: dict[str, Any] = {"wait": 20, **({"after": cursor} if cursor else {})}
        asked = datetime.now(UTC).timestamp()
        body = client.ok("GET", f"/v1/files/{file_id}/events", params=params)
        answered = datetime.now(UTC).timestamp()
        for event in body["events"]:
            happened = datetime.fromisoformat(event["at"]).timestamp()
            # An event that happened while the request waited must arrive within the bound
            if happened >= asked:
                late.append((f"{event['stage']}:{event['state']}", answered - happened))
        seen.extend(body["events"])
        cursor, status = body["cursor"], body["status"]
        if status in TERMINAL and not body["events"]:
            break
    # Then every stage arrived in order, once, with the upload's correlation id
    assert status == "processed"
    assert [(e["stage"], e["state"]) for e in seen] == [
        (stage, state)
        for stage in ("detect", "image", "analysis", "ai", "finalize", "notify")
        for state in ("started", "succeeded")
    ]
    assert {e["correlation_id"] for e in seen} == {started["correlation_id"]}
    # And the events that happened during a wait were delivered within a second of happening
    assert late, "no event happened while a long-poll waited"
    assert all(delay <= DELIVERY_BOUND_S for _, delay in late), late
    # And the file's detail shows the same history and its execution
    detail = client.ok("GET", f"/v1/files/{file_id}")
    assert [e["cursor"] for e in detail["stages"]] == [e["cursor"] for e in seen]
    assert detail["execution_arn"].split(":")[-1] == detail["jobs"][0]["job_id"]
    assert (detail["stage"], detail["stage_state"]) == ("notify", "succeeded")


def test_get_file_answers_304_while_nothing_changed(stack: StackOutputs) -> None:
    client = _user(stack, "e2e-etag")
    # Given a processed file and its ETag
    started = upload_file(client, samples.TEXT.encode(), filename="notes.txt", content_type="text/plain")
    _processed(client, started["file_id"])
    first = client("GET", f"/v1/files/{started['file_id']}")
    etag = first.headers["ETag"]
    # When it is asked for again with that ETag / Then 304, no body, the same ETag
    again = client("GET", f"/v1/files/{started['file_id']}", headers={"If-None-Match": etag})
    assert (again.status_code, again.content, again.headers["ETag"]) == (304, b"", etag)
    # And once it changes (a tag), the old ETag gets the new body
    client.ok("PUT", f"/v1/files/{started['file_id']}/tags", json={"tags": ["changed"]})
    changed = client("GET", f"/v1/files/{started['file_id']}", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    assert changed.json()["tags"] == ["changed"]


def test_an_mp4_plays_back_through_the_api_for_its_owner_only(stack: StackOutputs) -> None:
    owner, stranger = _user(stack, "e2e-hls"), _user(stack, "e2e-hls-other")
    # Given an MP4 made by the test with the bundled ffmpeg, uploaded through the API and processed
    started = upload_file(owner, samples.mp4(3.0, 1280, 720), filename="clip.mp4", content_type="video/mp4")
    detail = _processed(owner, started["file_id"])
    assert detail["status"] == "processed", detail
    names = {derivative["name"] for derivative in detail["derivatives"]}
    assert {"hls-master.m3u8", "hls-720p.m3u8", "hls-360p.m3u8", "poster.jpg"} <= names
    # When the owner reads the master playlist through the API
    master = owner("GET", f"/v1/files/{started['file_id']}/hls/hls-master.m3u8")
    assert master.status_code == 200, master.text
    assert master.headers["Content-Type"].startswith("application/vnd.apple.mpegurl")
    renditions = [line for line in master.text.splitlines() if line and not line.startswith("#")]
    # Then it names both renditions, each through the API's own playlist route
    assert len(renditions) == 2
    assert all(f"/v1/files/{started['file_id']}/hls/hls-" in url for url in renditions), renditions
    segments_played = 0
    for rendition in renditions:
        media = owner.session.get(rendition, timeout=30)
        assert media.status_code == 200, media.text
        segments = [line for line in media.text.splitlines() if line and not line.startswith("#")]
        assert segments
        for segment in segments:
            # And every segment URL (presigned, no token needed) answers with MPEG-TS bytes
            answer = requests.get(segment, timeout=30)
            assert answer.status_code == 200, segment
            assert answer.headers["Content-Type"] == "video/mp2t"
            assert answer.content[:1] == b"\x47"  # the MPEG-TS sync byte
            segments_played += 1
    assert segments_played >= 2
    # And another user gets the same 404 as for any file that is not theirs
    for playlist in ("hls-master.m3u8", "hls-720p.m3u8"):
        denied = stranger("GET", f"/v1/files/{started['file_id']}/hls/{playlist}")
        assert denied.status_code == 404, denied.text
    # And the analysis records the video's facts
    analysis = detail["analysis"]
    assert (analysis["width"], analysis["height"], analysis["video_codec"]) == (1280, 720, "h264")
