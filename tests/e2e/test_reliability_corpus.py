"""The hostile-input corpus (tests/corpus.py) on the deployed stack (issue #9).

Every case is uploaded through the real API (initiate, presigned PUT or parts, complete) by one user,
interleaved with good files, all at once. Then: each file reaches its expected final status and reason
(read through GET /v1/files/{id}), no execution of these files is left RUNNING, nothing lands in the
DLQ, and the good files were processed. Per case, the time from its upload's completion to its final
status and the largest "Max Memory Used" of the stage functions that ran for it (their REPORT lines in
CloudWatch Logs) go to the reliability table (tests/reliability/report.py), never into an assertion.

`make test-e2e` runs the smoke cases (`Case.smoke`); `make test-reliability` every case
(FILEFLOW_CORPUS=full).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

from infra import outputs as names
from tests import corpus
from tests.corpus import Case
from tests.e2e import uploading
from tests.e2e.conftest import AwsClients
from tests.e2e.polling import DeadlineExceededError, wait_for
from tests.e2e.test_isolation import Client
from tests.reliability.report import Table, percentiles
from tools.stack import StackOutputs
from tools.token import TokenFactory

pytestmark = [pytest.mark.e2e, pytest.mark.reliability]

FULL = os.environ.get("FILEFLOW_CORPUS") == "full"
CASES = corpus.CASES if FULL else corpus.SMOKE
FINAL = {"processed", "needs_review", "failed", "rejected"}
TIMEOUT = 60
# Generous: the whole corpus at once queues behind the video stage's two reserved environments.
SETTLE_TIMEOUT = 900 if FULL else 300
RUNNING_GRACE = 120
STAGE_FUNCTIONS = ("detect", "image", "document", "archive", "video", "analysis", "ai", "finalize", "failure")
_REPORT = re.compile(r"^REPORT RequestId: (\S+)\t.*Memory Size: (\d+) MB\tMax Memory Used: (\d+) MB")

CASE_TABLE = Table(
    "corpus",
    "Hostile-input corpus on the local stack: each case's final status, time and stage memory",
    ("case", "expected", "observed", "reason", "seconds", "stage", "max MB", "of MB"),
)
SUMMARY_TABLE = Table(
    "corpus-summary",
    "Hostile-input corpus on the local stack: totals",
    ("run", "cases", "good files", "statuses", "p50 s", "max s", "max MB (stage)", "running", "DLQ"),
)


@dataclass
class Upload:
    case: Case
    refused: requests.Response | None = None
    file_id: str | None = None
    stored_at: float = 0.0
    final: dict[str, Any] = field(default_factory=dict)
    final_at: float = 0.0

    @property
    def seconds(self) -> float | None:
        return round(self.final_at - self.stored_at, 1) if self.final else None


def upload(client: Client, case: Case) -> Upload:
    """Through the API as a client does it: initiate, PUT the bytes (one URL or parts), complete."""
    data = case.data()
    started = uploading.initiate(client, data, filename=case.filename, content_type=case.content_type)
    if started.status_code != 201:
        return Upload(case, refused=started)
    session = started.json()
    uploading.send(client, session, data)
    uploading.complete(client, session)
    return Upload(case, file_id=session["file_id"], stored_at=time.monotonic())


def interleaved(cases: tuple[Case, ...]) -> list[Case]:
    """A good file before the corpus, then one after every few hostile cases."""
    order: list[Case] = []
    for index, case in enumerate(cases):
        if index % 4 == 0:
            order.append(corpus.GOOD[(index // 4) % len(corpus.GOOD)])
        order.append(case)
    return order


@dataclass
class CorpusRun:
    uploads: list[Upload]
    running: list[str]
    dead_lettered: list[str]
    # file id -> (stage, Max Memory Used MB, Memory Size MB) of its stage invocation using the most
    memory: dict[str, tuple[str, int, int]]

    def of(self, case: Case) -> Upload:
        return next(upload for upload in self.uploads if upload.case is case)

    @property
    def good(self) -> list[Upload]:
        return [upload for upload in self.uploads if upload.case in corpus.GOOD]


def settle(client: Client, uploads: list[Upload]) -> None:
    """Polls every stored file until each has a final status (the time is taken as each one gets it)."""

    def all_final() -> bool:
        for pending in (upload for upload in uploads if upload.file_id and not upload.final):
            response = client("GET", f"/v1/files/{pending.file_id}")
            body: dict[str, Any] = response.json() if response.status_code == 200 else {}
            if body.get("status") in FINAL:
                pending.final, pending.final_at = body, time.monotonic()
        return all(upload.final for upload in uploads if upload.file_id)

    wait_for(all_final, timeout=SETTLE_TIMEOUT, interval=2, what="every corpus file's final status")


def executions_running(stack: StackOutputs, aws: AwsClients, uploads: list[Upload]) -> list[str]:
    ours = {upload.file_id for upload in uploads if upload.file_id}
    paginator = aws.stepfunctions.get_paginator("list_executions")
    running = []
    for page in paginator.paginate(stateMachineArn=stack[names.STATE_MACHINE_ARN], statusFilter="RUNNING"):
        for execution in page["executions"]:
            described = aws.stepfunctions.describe_execution(executionArn=execution["executionArn"])
            if json.loads(described["input"])["file"]["file_id"] in ours:
                running.append(execution["executionArn"])
    return running


def executions_left_running(stack: StackOutputs, aws: AwsClients, uploads: list[Upload]) -> list[str]:
    """What is still running once the workflows had time to end: a file is final at Finalize (or
    RecordFailure), and its execution ends after Notify (or NotifyFailure)."""
    with contextlib.suppress(DeadlineExceededError):
        wait_for(
            lambda: not executions_running(stack, aws, uploads),
            timeout=RUNNING_GRACE,
            interval=2,
            what="the corpus' executions to end",
        )
    return executions_running(stack, aws, uploads)


def dead_letters(stack: StackOutputs, aws: AwsClients, user: str) -> list[str]:
    """The DLQ's messages about this user's uploads (peeked: received with no visibility timeout; other
    suites dead-letter their own poison messages on purpose)."""
    found: dict[str, str] = {}
    for _ in range(3):
        messages = aws.sqs.receive_message(
            QueueUrl=stack[names.DLQ_URL], MaxNumberOfMessages=10, VisibilityTimeout=0, WaitTimeSeconds=1
        ).get("Messages", [])
        found |= {message["MessageId"]: message["Body"] for message in messages if user in message["Body"]}
    return sorted(found.values())


def stage_memory(stack: StackOutputs, aws: AwsClients, since_ms: int) -> dict[str, tuple[str, int, int]]:
    """Per file: the stage invocation with the largest Max Memory Used (REPORT lines, matched to the file
    through the request id on the stage's own log lines)."""
    peaks: dict[str, tuple[str, int, int]] = {}
    for stage in STAGE_FUNCTIONS:
        group = f"/aws/lambda/{stack[names.stage_function_output(stage)]}"
        file_of: dict[str, str] = {}
        reports: list[tuple[str, int, int]] = []
        kwargs: dict[str, Any] = {"logGroupName": group, "startTime": since_ms}
        while True:
            try:
                page = aws.logs.filter_log_events(**kwargs)
            except aws.logs.exceptions.ResourceNotFoundException:
                break
            for event in page["events"]:
                message = event["message"]
                if report := _REPORT.match(message):
                    reports.append((report.group(1), int(report.group(3)), int(report.group(2))))
                elif message.startswith("{") and '"file_id"' in message:
                    try:
                        line = json.loads(message)
                    except ValueError:
                        continue
                    if "function_request_id" in line:
                        file_of[line["function_request_id"]] = line["file_id"]
            if not page.get("nextToken"):
                break
            kwargs["nextToken"] = page["nextToken"]
        for request_id, used, size in reports:
            file_id = file_of.get(request_id)
            if file_id is not None and used > peaks.get(file_id, ("", -1, 0))[1]:
                peaks[file_id] = (stage, used, size)
    return peaks


@pytest.fixture(scope="module")
def corpus_run(stack: StackOutputs, aws: AwsClients) -> Iterator[CorpusRun]:
    """The corpus uploaded interleaved with good files by one user, and every file settled."""
    user = f"e2e-corpus-{uuid.uuid4().hex[:10]}"
    client = Client(stack.api_url, TokenFactory.for_stack(stack).valid(user))
    since_ms = int(time.time() * 1000) - 5000
    uploads = [upload(client, case) for case in interleaved(CASES)]
    settle(client, uploads)
    run = CorpusRun(
        uploads,
        running=executions_left_running(stack, aws, uploads),
        dead_lettered=dead_letters(stack, aws, user),
        memory=stage_memory(stack, aws, since_ms),
    )
    yield run
    record_figures(run)
    client.session.close()


def reason(upload: Upload) -> str | None:
    if upload.refused is not None:
        return str(upload.refused.json().get("error", {}).get("code"))
    error = upload.final.get("processing_error") or {}
    return error.get("code")


def record_figures(run: CorpusRun) -> None:
    for upload in run.uploads:
        if upload.case in corpus.GOOD:
            continue
        observed = "refused" if upload.refused is not None else upload.final.get("status")
        stage, used, size = run.memory.get(upload.file_id or "", (None, None, None))
        CASE_TABLE.record(
            upload.case.id,
            {
                "case": upload.case.id,
                "expected": upload.case.expected.describe(),
                "observed": observed,
                "reason": reason(upload),
                "seconds": upload.seconds,
                "stage": stage,
                "max MB": used,
                "of MB": size,
            },
        )
    hostile = [upload for upload in run.uploads if upload.case not in corpus.GOOD]
    times = [upload.seconds for upload in hostile if upload.seconds is not None]
    points = percentiles(times, (50, 100))
    statuses = Counter(
        "refused" if upload.refused is not None else str(upload.final.get("status")) for upload in hostile
    )
    peaks = [run.memory[upload.file_id] for upload in hostile if upload.file_id in run.memory]
    peak = max(peaks, key=lambda entry: entry[1], default=None)
    SUMMARY_TABLE.record(
        "full" if FULL else "smoke",
        {
            "run": "full" if FULL else "smoke",
            "cases": sum(statuses.values()),
            "good files": len(run.good),
            "statuses": ", ".join(f"{status} {count}" for status, count in sorted(statuses.items())),
            "p50 s": points.get(50),
            "max s": points.get(100),
            "max MB (stage)": f"{peak[1]} of {peak[2]} ({peak[0]})" if peak else None,
            "running": len(run.running),
            "DLQ": len(run.dead_lettered),
        },
    )


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_each_corpus_file_reaches_its_expected_status_and_reason(corpus_run: CorpusRun, case: Case) -> None:
    # Given the corpus uploaded through the API with good files between its cases, all settled
    uploaded = corpus_run.of(case)
    expected = case.expected
    if expected.status == "refused":
        # Then a hostile name is refused at initiate, with the reason
        assert uploaded.refused is not None
        assert uploaded.refused.status_code == 422, uploaded.refused.text
        assert uploaded.refused.json()["error"]["code"] == expected.code
        return
    # Then the file's final status and reason are the expected ones
    assert uploaded.refused is None, uploaded.refused.text
    body = uploaded.final
    assert body["status"] == expected.status, body.get("processing_error")
    if expected.status in ("failed", "rejected"):
        assert body["processing_error"]["code"] == expected.code, body["processing_error"]
        assert body["processing_error"]["message"]
        assert body["processing_error"]["retryable"] is False
    else:
        assert not body.get("processing_error"), body["processing_error"]
        assert bool(body.get("type_mismatch")) is expected.mismatch, body.get("type_mismatch")
        summary = (body.get("analysis") or {}).get("summary") or {}
        assert tuple(summary.get("findings") or ()) == expected.findings, summary


def test_no_corpus_execution_is_left_running_and_nothing_is_dead_lettered(corpus_run: CorpusRun) -> None:
    # Then every workflow of the corpus has ended, and the queue dead-lettered nothing
    assert corpus_run.running == []
    assert corpus_run.dead_lettered == []


def test_the_good_files_between_the_hostile_ones_were_processed(corpus_run: CorpusRun) -> None:
    # Then every good file uploaded among the hostile ones ended processed
    assert corpus_run.good
    assert [(upload.case.id, upload.final.get("status")) for upload in corpus_run.good] == [
        (upload.case.id, "processed") for upload in corpus_run.good
    ]
