"""The SDK against the real API function in-process (its Lambda handler, as the authorizer passes
events to it) and moto's S3 behind the presigned URLs: the client and the server agree on the contract.

moto intercepts `requests`, so the SDK's PUTs are relayed through it; moto does not check SigV4
signatures or presigned checksums: S3's refusals are proven on the local cloud (e2e).
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import requests

from fileflow_api.handler import lambda_handler
from fileflow_api.uploads.part_plan import MiB
from fileflow_client import FileflowClient, NotFoundError, Progress, RetryPolicy
from fileflow_client.state import load_state
from tests.integration.api_requests import ALICE, api_event, signing_secret
from tests.integration.conftest import BUCKET_NAME, Cloud, FakeLambdaContext

__all__ = ["signing_secret"]  # the fixture, imported for this module's tests

API_URL = "https://api.fileflow.test/prod"
SIZE = 20 * MiB + 12_345  # three parts of the API's 8 MiB plan
_FORWARDED_HEADERS = ("If-Match", "If-None-Match")
# Response headers that described requests' transfer, not the content relayed
_TRANSFER_HEADERS = frozenset({"content-encoding", "transfer-encoding", "content-length", "connection"})


class StoppedError(Exception):
    pass


class InProcessFileflow(httpx.BaseTransport):
    """API requests -> the API function's handler with ALICE's authorizer context; the rest -> moto."""

    def __init__(self, context: FakeLambdaContext) -> None:
        self._context = context
        self._lock = threading.Lock()  # one request at a time through the mocks

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        with self._lock:
            if request.url.host == "api.fileflow.test":
                _ensure_event_loop()  # Mangum needs one, and the SDK calls the API from its threads too
                event = api_event(
                    request.method,
                    request.url.path.removeprefix("/prod"),
                    raw_body=body.decode() or None,
                    query=dict(request.url.params) or None,
                    user=ALICE,
                )
                for name in _FORWARDED_HEADERS:  # the conditional requests' headers reach the API
                    if name in request.headers:
                        event["headers"][name] = request.headers[name]
                        event["multiValueHeaders"][name] = [request.headers[name]]
                answer = lambda_handler(event, self._context)
                assert not answer.get("isBase64Encoded")
                return httpx.Response(
                    answer["statusCode"],
                    headers=answer.get("headers") or {},
                    content=answer.get("body") or "",
                )
            headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
            relayed = requests.request(
                request.method, str(request.url), data=body, headers=headers, timeout=30
            )
            kept = {k: v for k, v in relayed.headers.items() if k.lower() not in _TRANSFER_HEADERS}
            return httpx.Response(relayed.status_code, headers=kept, content=relayed.content)


def _ensure_event_loop() -> None:
    try:
        asyncio.get_event_loop()
    except RuntimeError:
        asyncio.set_event_loop(asyncio.new_event_loop())


@pytest.fixture
def new_client(
    cloud: Cloud, signing_secret: str, lambda_context: FakeLambdaContext, tmp_path: Path
) -> Iterator[Callable[[], FileflowClient]]:
    clients: list[FileflowClient] = []

    def make() -> FileflowClient:
        client = FileflowClient(
            API_URL,
            "a token the authorizer checked",
            transport=InProcessFileflow(lambda_context),
            state_dir=tmp_path / "state",
            retry=RetryPolicy(max_attempts=2, base_delay=0),
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def random_file(path: Path, size: int) -> bytes:
    data = random.Random(5).randbytes(size)
    path.write_bytes(data)
    return data


def stored(cloud: Cloud, key: str) -> bytes:
    return cloud.s3.get_object(Bucket=BUCKET_NAME, Key=key)["Body"].read()


def test_sdk_uploads_through_the_real_api(
    tmp_path: Path, cloud: Cloud, new_client: Callable[[], FileflowClient]
):
    # Given a file of three parts of the API's plan
    data = random_file(tmp_path / "film.bin", SIZE)
    # When the SDK uploads it
    result = new_client().upload(tmp_path / "film.bin", concurrency=3)
    # Then the API planned it, signed every part with its checksum, completed it, and the SDK's
    # checks of the answer (size, SHA-256, ETag of the parts) passed
    assert (result.mode, result.part_size, result.part_count) == ("multipart", 8 * MiB, 3)
    assert result.parts_sent == (1, 2, 3)
    assert result.key.startswith(f"uploads/{ALICE}/")
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    assert stored(cloud, result.key) == data


def test_sdk_uploads_a_small_file_in_one_put(
    tmp_path: Path, cloud: Cloud, new_client: Callable[[], FileflowClient]
):
    data = random_file(tmp_path / "note.txt", 1000)
    result = new_client().upload(tmp_path / "note.txt")
    assert result.mode == "single"
    assert result.content_type == "text/plain"
    assert stored(cloud, result.key) == data


def test_sdk_resumes_from_the_apis_list_of_parts(
    tmp_path: Path, cloud: Cloud, new_client: Callable[[], FileflowClient]
):
    # Given an upload stopped once its first part was stored
    path = tmp_path / "film.bin"
    data = random_file(path, SIZE)

    def stop(event: Progress) -> None:
        if event.part_number is not None:
            raise StoppedError

    with pytest.raises(StoppedError):
        new_client().upload(path, concurrency=1, progress=stop)
    # When a new client uploads the same file
    client = new_client()
    result = client.upload(path)
    # Then it kept what S3 held (the API's ListParts page) and sent the rest
    assert result.resumed
    assert result.parts_reused == (1,)
    assert result.parts_sent == (2, 3)
    assert stored(cloud, result.key) == data
    assert client.status(result.upload_id).status == "completed"


def test_sdk_reads_status_and_parts_and_aborts(tmp_path: Path, new_client: Callable[[], FileflowClient]):
    path = tmp_path / "film.bin"
    random_file(path, SIZE)

    def stop_after_two(event: Progress) -> None:
        if event.parts_done == 2 and event.part_number is not None:
            raise StoppedError

    client = new_client()
    with pytest.raises(StoppedError):
        client.upload(path, concurrency=1, progress=stop_after_two)
    (state_file,) = (tmp_path / "state").iterdir()
    state = load_state(state_file)
    assert state is not None
    upload_id = state.upload_id

    status = client.status(upload_id)
    assert (status.status, status.size, status.part_count, status.parts_received) == ("initiated", SIZE, 3, 2)
    parts = client.list_parts(upload_id)
    assert [(p.part_number, p.size) for p in parts] == [(1, 8 * MiB), (2, 8 * MiB)]
    assert client.abort(upload_id).status == "aborted"
    with pytest.raises(NotFoundError):
        client.status("no-such-upload")
