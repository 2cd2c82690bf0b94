"""The operator commands against the deployed stack (issue #14): `make trace` follows one upload through
every function by its correlation id, `make metrics` reads the functions' EMF records, and the local
cloud holds the stack's dashboard.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import samples
from tests.e2e.polling import wait_for
from tests.e2e.test_isolation import Client
from tests.e2e.uploading import upload
from tests.support.claude_emulator import ClaudeEmulator
from tools.stack import StackOutputs
from tools.token import TokenFactory

ROOT = Path(__file__).resolve().parents[2]
# What Claude (the emulator) answers this module's user: sure enough that no review waits.
SURE_ANSWER = {
    "description": "a gradient",
    "tags": ["gradient"],
    "text_seen": "",
    "category": "illustration",
    "moderation": {"adult": False, "violence": False, "hate": False, "self_harm": False},
    "confidence": 0.97,
}
# An image goes detect -> image -> analysis -> ai -> finalize -> notify; each logs with the upload's id.
IMAGE_STAGES = ("detect", "image", "analysis", "ai", "finalize", "notify")


def ops(*args: str) -> Any:
    """`python -m tools.ops ... --json`, as `make` runs it, against the same cloud as the suite."""
    done = subprocess.run(
        [sys.executable, "-m", "tools.ops", *args, "--json"],
        cwd=ROOT,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def processed_image(stack: StackOutputs, claude_emulator: ClaudeEmulator) -> Iterator[dict[str, Any]]:
    """An image of this module's own user, processed with Claude's analysis: its file record."""
    user = f"e2e-ops-{uuid.uuid4().hex[:10]}"
    claude_emulator.set_tool_input(user, SURE_ANSWER)
    client = Client(stack.api_url, TokenFactory.for_stack(stack).valid(user))
    file_id = upload(
        client, samples.jpeg(800, 600), filename="ops.jpg", content_type="image/jpeg", analysis="deep"
    ).file_id

    def done() -> dict[str, Any] | None:
        body: dict[str, Any] = client.ok("GET", f"/v1/files/{file_id}")
        finished = (
            body["status"] == "processed" and body["stage"] == "notify" and body["stage_state"] == "succeeded"
        )
        return body if finished else None

    yield wait_for(done, timeout=180, interval=0.5, what=f"file {file_id} to be processed")
    claude_emulator.reset(user)


def test_trace_prints_the_api_the_starter_and_every_stage_with_the_uploads_correlation_id(
    processed_image: dict[str, Any],
) -> None:
    file_id, correlation_id = processed_image["file_id"], processed_image["correlation_id"]
    wanted = {"log api", "log starter", *(f"log stage-{stage}" for stage in IMAGE_STAGES)}

    def traced() -> list[dict[str, Any]] | None:
        entries: list[dict[str, Any]] = ops("trace", file_id, "--since", "1h")
        return entries if wanted <= {entry["source"] for entry in entries} else None

    # (log lines reach CloudWatch Logs shortly after each function answers)
    entries = wait_for(traced, timeout=60, interval=2, what="every function's lines in the trace")
    by_correlation = [e for e in entries if e["source"] != "log api" and e["source"].startswith("log ")]
    assert {entry["correlation_id"] for entry in by_correlation} == {correlation_id}
    assert correlation_id in {entry["correlation_id"] for entry in entries if entry["source"] == "log api"}
    # And the rest of the path: the audit trail, the execution's states, the job, in time order
    sources = {entry["source"] for entry in entries}
    assert {"audit", "execution", "dynamodb job", "dynamodb event"} <= sources
    assert [entry["at"] for entry in entries[1:]] == sorted(entry["at"] for entry in entries[1:])
    executed = [entry["text"] for entry in entries if entry["source"] == "execution"]
    assert "TaskStateEntered AI" in executed
    assert executed[-1] == "ExecutionSucceeded"


def test_metrics_show_uploads_stage_durations_and_ai_tokens(processed_image: dict[str, Any]) -> None:
    def measured() -> dict[str, dict[str, Any]] | None:
        rows = ops("metrics", "--since", "1h")
        found = {row["name"]: row for row in rows if row["namespace"] == "Fileflow"}
        needed = ("UploadsStarted", "UploadsCompleted", "StageDuration", "AiInputTokens")
        return found if all(found.get(name, {}).get("sum", 0) > 0 for name in needed) else None

    found = wait_for(measured, timeout=60, interval=2, what="the metrics of the upload and its stages")
    assert found["StageDuration"]["unit"] == "Milliseconds"
    assert found["UploadedBytes"]["sum"] >= 1
