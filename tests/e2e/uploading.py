"""Uploads through the deployed API as a client makes them: initiate, PUT the bytes (one URL or the
planned parts), complete. The starter only adopts objects of an upload session (docs/processing.md,
"What the starter accepts"), so every e2e test and bench that needs a stored file goes this way."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests

from tests.e2e.test_isolation import Client

TIMEOUT = 60


@dataclass(frozen=True)
class Uploaded:
    file_id: str
    key: str
    upload_id: str
    size: int


def initiate(
    client: Client,
    data: bytes,
    *,
    filename: str,
    content_type: str,
    priority: int | None = None,
    analysis: str | None = None,
) -> requests.Response:
    body: dict[str, Any] = {"filename": filename, "size": len(data), "content_type": content_type}
    if priority is not None:
        body["priority"] = priority
    if analysis is not None:
        body["analysis"] = analysis
    return client("POST", "/v1/uploads", json=body)


def send(client: Client, session: dict[str, Any], data: bytes) -> None:
    """PUTs the bytes to the session's presigned URL, or each planned part to its own."""
    if session["mode"] == "single":
        single = session["single"]
        put = requests.put(single["url"], data=data, headers=single["headers"], timeout=TIMEOUT)
        assert put.status_code == 200, put.text
        return
    numbers = list(range(1, session["part_count"] + 1))
    signed = client(
        "POST",
        f"/v1/uploads/{session['upload_id']}/parts",
        json={"parts": [{"part_number": number} for number in numbers]},
    )
    assert signed.status_code == 200, signed.text
    for part in signed.json()["parts"]:
        start = (part["part_number"] - 1) * session["part_size"]
        chunk = data[start : start + session["part_size"]]
        put = requests.put(part["url"], data=chunk, headers=part["headers"], timeout=TIMEOUT * 4)
        assert put.status_code == 200, put.text


def complete(client: Client, session: dict[str, Any]) -> dict[str, Any]:
    completed = client("POST", f"/v1/uploads/{session['upload_id']}/complete", json={})
    assert completed.status_code == 200, completed.text
    result: dict[str, Any] = completed.json()
    return result


def upload(
    client: Client,
    data: bytes,
    *,
    filename: str = "upload",
    content_type: str = "application/octet-stream",
    priority: int | None = None,
    analysis: str | None = None,
) -> Uploaded:
    """No extension and a generic type by default: no claim the content could contradict (needs_review)."""
    started = initiate(
        client, data, filename=filename, content_type=content_type, priority=priority, analysis=analysis
    )
    assert started.status_code == 201, started.text
    session = started.json()
    send(client, session, data)
    complete(client, session)
    return Uploaded(session["file_id"], session["key"], session["upload_id"], len(data))
