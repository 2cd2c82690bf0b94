"""Every file in events/ invokes its function on the deployed stack through `make invoke` (issue #14).

The samples are aimed (`FILE=`) at real files this module uploads: a PNG, a PDF, a ZIP and an MP4, and
a PNG waiting for review (Claude, through the emulator, is unsure of it). Aimed at that file, the review
samples (open, escalate, expire) keep the token its execution waits on; the test then resumes the
execution with the expiry's outcome, as the timeout path would, and it ends. One `make invoke` per
function, in the workflow's order, the API last (its `delete_*` routes last).

Every invocation must succeed: no function error, no 5xx, no batch item failure (but the poison record
`starter/mixed_batch.json` carries on purpose), and every API route 2xx unless it names an id the
samples cannot aim (a webhook endpoint), which gets the documented refusal in EXPECTED_REFUSALS.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tests import samples
from tests.e2e.deploy import ROOT
from tests.e2e.polling import wait_for
from tests.e2e.test_isolation import Client
from tests.e2e.test_reviews import AI_RESULT
from tests.e2e.uploading import upload
from tests.events import EVENTS_DIR
from tests.support.claude_emulator import ClaudeEmulator
from tools.ops.aim import target_for
from tools.stack import StackOutputs, client_kwargs
from tools.token import TokenFactory

pytestmark = pytest.mark.e2e

# Functions in the workflow's order (an events/ directory not named here runs last, on the PNG).
ORDER = (
    "starter",
    "authorizer",
    "stage-detect",
    "stage-image",
    "stage-document",
    "stage-archive",
    "stage-video",
    "stage-analysis",
    "stage-ai",
    "stage-review",
    "stage-finalize",
    "stage-notify",
    "stage-failure",
    "webhooks",
    "sweeper",
    "lane-reclaimer",
    "api",
)
# Which uploaded file each function's samples are aimed at (the PNG otherwise).
AIMED_AT = {
    "stage-document": "pdf",
    "stage-archive": "zip",
    "stage-video": "mp4",
    "stage-review": "review",
    "api": "review",
}
# The review's tasks in the order the workflow runs them.
REVIEW_ORDER = ("open", "escalate", "expire")
# What an API route may answer instead of 2xx, by its documented error code (docs/api-contract.md).
WEBHOOK_NOT_FOUND = (404, "WebhookNotFound")  # the samples' endpoint id is made up
EXPECTED_REFUSALS: dict[str, tuple[int, str]] = {
    **{
        case: WEBHOOK_NOT_FOUND
        for case in (
            "get_webhook",
            "update_webhook",
            "delete_webhook",
            "rotate_secret",
            "list_deliveries",
            "get_delivery",
            "redeliver",
        )
    },
    # hooks.example.com does not resolve here (no internet): refused before anything is stored
    "create_webhook": (422, "UnsafeWebhookUrl"),
    # the aimed file has no HLS playlist
    "hls_playlist": (404, "PlaylistNotFound"),
    # its upload session is completed: the routes that need an initiated one refuse
    **{
        case: (409, "UploadCompleted")
        for case in (
            "abort_upload",
            "abort_multipart_upload",
            "list_parts",
            "list_uploaded_parts",
            "sign_parts",
            "sign_part",
            "sign_part_batch",
        )
    },
    # its review was closed by the expire sample: a decision comes too late
    "decide": (409, "ReviewExpired"),
}
# The mixed batch's second record is a poison message on purpose.
EXPECTED_BATCH_FAILURES = {"starter/mixed_batch": 1}


def _case(path: str) -> str:
    """events/<function>/<case>.json -> "<function>/<case>"."""
    return path.removeprefix("events/").removesuffix(".json")


def _ordered_events(function: str) -> list[str]:
    names = sorted(path.stem for path in (EVENTS_DIR / function).glob("*.json"))
    if function == "stage-review":
        names = sorted(names, key=lambda name: REVIEW_ORDER.index(name) if name in REVIEW_ORDER else 99)
    if function == "api":
        names = sorted(names, key=lambda name: name.startswith("delete_"))
    return [f"events/{function}/{name}.json" for name in names]


def make_invoke(function: str, events: list[str], file_id: str) -> list[dict[str, Any]]:
    """`make invoke FN=... EVENT="..." FILE=... JSON=1`: one JSON line per event."""
    env = {**os.environ, "FILEFLOW_STACK_NAME": os.environ.get("FILEFLOW_STACK_NAME", "Fileflow")}
    command = [
        "make",
        "-s",
        "invoke",
        f"FN={function}",
        f"EVENT={' '.join(events)}",
        f"FILE={file_id}",
        "JSON=1",
    ]
    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert len(lines) == len(events), f"make invoke FN={function}: {done.stdout}\n{done.stderr}"
    return lines


@pytest.fixture(scope="module")
def files(stack: StackOutputs, claude_emulator: ClaudeEmulator) -> Iterator[dict[str, str]]:
    """kind -> file id: processed files of each kind, and a PNG waiting for review."""
    run = uuid.uuid4().hex[:8]
    owner, reviewed = f"e2e-ev-{run}", f"e2e-ev-rv-{run}"
    claude_emulator.set_tool_input(reviewed, AI_RESULT)
    tokens = TokenFactory.for_stack(stack)
    client, review_client = (
        Client(stack.api_url, tokens.valid(owner)),
        Client(stack.api_url, tokens.valid(reviewed)),
    )
    ids = {
        "png": upload(client, samples.png(), filename="a.png", content_type="image/png").file_id,
        "pdf": upload(client, samples.pdf(), filename="a.pdf", content_type="application/pdf").file_id,
        "zip": upload(client, samples.zip_file(), filename="a.zip", content_type="application/zip").file_id,
        "mp4": upload(
            client,
            samples.mp4(seconds=1.0, width=320, height=240),
            filename="a.mp4",
            content_type="video/mp4",
        ).file_id,
    }
    ids["review"] = upload(
        review_client, samples.png(), filename="r.png", content_type="image/png", analysis="deep"
    ).file_id
    for kind, file_id in ids.items():
        caller = review_client if kind == "review" else client

        def ready(file_id: str = file_id, caller: Client = caller, kind: str = kind) -> dict[str, Any] | None:
            body: dict[str, Any] = caller.ok("GET", f"/v1/files/{file_id}")
            if kind == "review":
                return body if (body.get("review") or {}).get("status") == "pending" else None
            return body if body["status"] in ("processed", "needs_review") else None

        wait_for(ready, timeout=180, what=f"the {kind} file processed")
    waiting = target_for(ids["review"])
    assert waiting.task_token, "the review file's execution waits on no token"
    yield ids
    claude_emulator.reset(reviewed)
    with contextlib.suppress(ClientError):  # the test failed before it resumed the execution
        _resume(waiting.task_token, {"decision": "expired"})


def _resume(task_token: str, output: dict[str, Any]) -> None:
    boto3.client("stepfunctions", **client_kwargs()).send_task_success(
        taskToken=task_token, output=json.dumps(output)
    )


def _resume_reviewed(file_id: str, task_token: str, expired: dict[str, Any]) -> None:
    """The execution waiting on the review resumes with the expire sample's outcome, and ends."""
    _resume(task_token, expired)
    sfn = boto3.client("stepfunctions", **client_kwargs())
    arn = target_for(file_id).execution_arn

    def ended() -> str | None:
        status = str(sfn.describe_execution(executionArn=arn)["status"])
        return None if status == "RUNNING" else status

    assert wait_for(ended, timeout=120, what="the reviewed file's execution to end") == "SUCCEEDED"


def test_every_sample_event_invokes_its_function_without_an_error(files: dict[str, str]) -> None:
    # Given every events/<function>/ directory, each aimed at a file of its kind
    directories = sorted(path.name for path in EVENTS_DIR.iterdir() if path.is_dir())
    functions = [name for name in ORDER if name in directories] + [
        name for name in directories if name not in ORDER
    ]
    # When each function's samples go through `make invoke`, in the workflow's order
    task_token = target_for(files["review"]).task_token
    assert task_token
    results: dict[str, dict[str, Any]] = {}
    for function in functions:
        events = _ordered_events(function)
        file_id = files[AIMED_AT.get(function, "png")]
        for result in make_invoke(function, events, file_id):
            results[_case(result["event"])] = result
        if function == "stage-review":
            # And the reviewed file's execution, still waiting on its token, resumes and ends
            _resume_reviewed(files["review"], task_token, results["stage-review/expire"]["payload"])
    # Then every file in events/ was invoked
    assert sorted(results) == sorted(
        _case(f"events/{p.relative_to(EVENTS_DIR)}") for p in EVENTS_DIR.rglob("*.json")
    )
    # And none failed: no function error, no 5xx
    failed = {case: result["error"] for case, result in results.items() if result["error"]}
    assert failed == {}, json.dumps({case: results[case]["payload"] for case in failed}, indent=1)[:4000]
    # And no batch item failed but the poison record of the mixed batch
    for case, result in results.items():
        payload = result["payload"]
        if isinstance(payload, dict) and "batchItemFailures" in payload:
            assert len(payload["batchItemFailures"]) == EXPECTED_BATCH_FAILURES.get(case, 0), (case, payload)
    # And every API route answered 2xx, or the documented refusal of a made-up id
    answers = {
        case.removeprefix("api/"): (result["payload"]["statusCode"], result["payload"].get("body") or "")
        for case, result in results.items()
        if case.startswith("api/")
    }
    refused = {
        case: (status, json.loads(body)["error"]["code"])
        for case, (status, body) in answers.items()
        if not 200 <= status < 300
    }
    unexpected = {case: answer for case, answer in refused.items() if EXPECTED_REFUSALS.get(case) != answer}
    assert unexpected == {}, json.dumps({case: answers[case] for case in unexpected})
