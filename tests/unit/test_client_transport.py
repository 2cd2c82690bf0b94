"""The SDK's requesters: one request builder for the sync and async paths, JSON lines streamed."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from fileflow_client.errors import PermissionDeniedError
from fileflow_client.retry import RetryPolicy
from fileflow_client.transport import AsyncRequester, Call, Requester

BODY = b'{"review_id": "r1"}\n\n{"type": "summary"}\n'


def _answer(request: httpx.Request) -> httpx.Response:
    if request.headers["Authorization"] != "Bearer t0ken":
        return httpx.Response(401)
    if request.url.params.get("since") == "forbidden":
        return httpx.Response(403, json={"error": {"code": "Forbidden", "message": "not a reviewer"}})
    assert request.headers["Accept"] == "application/x-ndjson"
    return httpx.Response(200, content=BODY, headers={"content-type": "application/x-ndjson"})


def _call(since: str) -> Call[None]:
    return Call("GET", "/v1/reviews/feedback", lambda _: None, params={"since": since})


def test_json_lines_stream_one_object_per_line_sync_and_async():
    sync = Requester(
        httpx.Client(transport=httpx.MockTransport(_answer)),
        "https://api.test/",
        "t0ken",
        retry=RetryPolicy(),
    )
    assert list(sync.lines(_call("2026-12-01"))) == [{"review_id": "r1"}, {"type": "summary"}]

    async def read() -> list[object]:
        async with httpx.AsyncClient(transport=httpx.MockTransport(_answer)) as http:
            requester = AsyncRequester(http, "https://api.test", "t0ken", retry=RetryPolicy())
            return [line async for line in requester.lines(_call("2026-12-01"))]

    assert asyncio.run(read()) == [{"review_id": "r1"}, {"type": "summary"}]


def test_a_refused_json_lines_request_is_the_typed_error():
    sync = Requester(
        httpx.Client(transport=httpx.MockTransport(_answer)), "https://api.test", "t0ken", retry=RetryPolicy()
    )
    with pytest.raises(PermissionDeniedError, match="not a reviewer"):
        list(sync.lines(_call("forbidden")))
