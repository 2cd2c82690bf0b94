"""Load on the deployed stack (issue #9): concurrent uploads through the API in rounds, then the sweeper.

Each round uploads its files at once with the SDK (a few of them multipart: larger than the API's single-PUT
threshold) and abandons a few multipart sessions with a part sent. Then, for every upload: exactly one file
record (GET /v1/files and the table), one job, one Step Functions execution (named after the job), and its
derivatives in S3. After the sweeper: no multipart upload left in the bucket, no session initiated past
its expiry, and no API answer was a 5xx. Client-side latency per route (method + route template) goes to
the reliability table (tests/reliability/report.py), never into an assertion.

`make test` runs 10 uploads in 1 round; `make test-reliability` 100 uploads in 3 rounds
(FILEFLOW_LOAD_UPLOADS, FILEFLOW_LOAD_ROUNDS).
"""

from __future__ import annotations

import io
import json
import os
import random
import re
import threading
import time
import uuid
import zipfile
from collections import Counter, defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from fileflow_api.app import openapi_document
from fileflow_client import FileflowClient, UploadResult
from fileflow_common.clock import to_timestamp
from infra import outputs as names
from tests import samples
from tests.e2e.conftest import AwsClients
from tests.e2e.polling import wait_for
from tests.reliability.report import Table, percentiles
from tools.stack import StackOutputs
from tools.token import TokenFactory

pytestmark = [pytest.mark.e2e, pytest.mark.reliability]

MIB = 1024 * 1024
UPLOADS = int(os.environ.get("FILEFLOW_LOAD_UPLOADS", "10"))
ROUNDS = int(os.environ.get("FILEFLOW_LOAD_ROUNDS", "1"))
# Every 20th upload (and the first) is multipart: just over the API's 16 MiB single-PUT threshold.
MULTIPART_EVERY = 20
MULTIPART_SIZE = 17 * MIB
# One user per 10 uploads: each stays far inside its rate limit (300 requests a minute) and quotas.
UPLOADS_PER_USER = 10
# Sessions abandoned per round (one part sent): the sweeper must leave no part of them behind.
ABANDONED_PER_ROUND = max(1, UPLOADS // 50)
PROCESSING_TIMEOUT = 300
# The sweeper sweeps a session this long after its expiry (sweeper_handler.py's default grace).
SWEEP_GRACE = timedelta(seconds=300)
TERMINAL = {"processed", "needs_review", "failed", "rejected"}
# Per request: a cold burst starts an API environment per concurrent request (a process each, here).
REQUEST_TIMEOUT = 120

LOAD = Table(
    "load",
    "Load: concurrent uploads through the deployed API (tests/e2e/test_reliability_load.py)",
    (
        "run",
        "rounds",
        "uploads per round",
        "single PUT",
        "multipart",
        "abandoned",
        "file records",
        "executions",
        "derivatives",
        "orphaned multipart uploads",
        "stuck sessions",
        "API requests",
        "API 5xx",
        "storage 5xx",
        "wall s",
    ),
)
LATENCY = Table(
    "latency",
    "Client-side latency per route under that load (ms)",
    ("run", "route", "requests", "p50 ms", "p95 ms", "p99 ms", "max ms", "p50 first round", "p50 last round"),
)


# --- measuring every request the clients send -----------------------------------------------------------


def _route_patterns() -> list[tuple[re.Pattern[str], str]]:
    """The API's route templates (from its OpenAPI document), most specific first."""
    templates = sorted(openapi_document()["paths"], key=lambda path: (path.count("{"), -len(path)))
    return [
        (re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"), template)
        for template in templates
    ]


@dataclass
class Sample:
    route: str
    status: int
    ms: float
    api: bool
    round: int


@dataclass
class Traffic:
    """Every request of the run: its route (method + template), status and latency."""

    api_base: str
    samples: list[Sample] = field(default_factory=list)
    round: int = 0  # the round the requests belong to
    lock: threading.Lock = field(default_factory=threading.Lock)
    patterns: list[tuple[re.Pattern[str], str]] = field(default_factory=_route_patterns)

    def route(self, request: httpx.Request) -> tuple[str, bool]:
        url = str(request.url)
        if url.startswith(self.api_base):
            path = urlsplit(url).path.removeprefix(urlsplit(self.api_base).path) or "/"
            template = next((t for pattern, t in self.patterns if pattern.match(path)), "(unrouted)")
            return f"{request.method} {template}", True
        kind = "part" if "partNumber" in request.url.params else "object"
        return f"{request.method} storage {kind} (presigned)", False

    def add(self, request: httpx.Request, status: int, ms: float) -> None:
        route, api = self.route(request)
        with self.lock:
            self.samples.append(Sample(route, status, ms, api, self.round))

    def server_errors(self, *, api: bool) -> list[Sample]:
        return [sample for sample in self.samples if sample.api is api and sample.status >= 500]


class MeasuredTransport(httpx.BaseTransport):
    def __init__(self, traffic: Traffic) -> None:
        self._traffic = traffic
        self._network = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        started = time.perf_counter()
        response = self._network.handle_request(request)
        response.read()  # the latency a caller sees includes the body
        self._traffic.add(request, response.status_code, (time.perf_counter() - started) * 1000)
        return response

    def close(self) -> None:
        self._network.close()


# --- the files ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Planned:
    path: Path
    user: str
    kind: str  # what the file is: image, text or archive (the multipart ones)
    multipart: bool


def _archive(size: int, seed: int) -> bytes:
    """A ZIP holding `size` random bytes, stored (not deflated): over the single-PUT threshold."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("data.bin", random.Random(seed).randbytes(size))
        archive.writestr("readme.txt", f"load test archive {seed}\n")
    return buffer.getvalue()


def plan_round(directory: Path, round_number: int, users: list[str]) -> list[Planned]:
    directory.mkdir(parents=True, exist_ok=True)
    planned = []
    for index in range(UPLOADS):
        user = users[index // UPLOADS_PER_USER]
        seed = round_number * 1000 + index
        if index % MULTIPART_EVERY == 0:
            path, kind, data = directory / f"bundle-{index}.zip", "archive", _archive(MULTIPART_SIZE, seed)
        elif index % 3 == 0:
            path, kind = directory / f"notes-{index}.txt", "text"
            data = f"load round {round_number} file {index}\n".encode() * (index + 1)
        else:
            path, kind = directory / f"photo-{index}.png", "image"
            data = samples.png(96 + index, 64 + round_number, mode="RGB")
        path.write_bytes(data)
        planned.append(Planned(path, user, kind, len(data) > 16 * MIB))
    return planned


# --- the deployed stack's records -----------------------------------------------------------------------


def file_item(stack: StackOutputs, aws: AwsClients, user: str, file_id: str) -> dict[str, Any] | None:
    item: dict[str, Any] | None = aws.dynamodb.get_item(
        TableName=stack[names.TABLE_NAME],
        Key={"pk": {"S": f"USER#{user}"}, "sk": {"S": f"FILE#{file_id}"}},
        ConsistentRead=True,
    ).get("Item")
    return item


def query_all(aws: AwsClients, **query: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for page in aws.dynamodb.get_paginator("query").paginate(**query):
        items.extend(page["Items"])
    return items


def prefixed(stack: StackOutputs, aws: AwsClients, pk: str, prefix: str) -> list[dict[str, Any]]:
    return query_all(
        aws,
        TableName=stack[names.TABLE_NAME],
        KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
        ExpressionAttributeValues={":pk": {"S": pk}, ":prefix": {"S": prefix}},
        ConsistentRead=True,
    )


def executions_since(stack: StackOutputs, aws: AwsClients, since: datetime) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for page in aws.stepfunctions.get_paginator("list_executions").paginate(
        stateMachineArn=stack[names.STATE_MACHINE_ARN]
    ):
        found.extend(dict(execution) for execution in page["executions"] if execution["startDate"] >= since)
    return found


def multipart_uploads(stack: StackOutputs, aws: AwsClients, prefix: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for page in aws.s3.get_paginator("list_multipart_uploads").paginate(
        Bucket=stack[names.BUCKET_NAME], Prefix=prefix
    ):
        found.extend(dict(upload) for upload in page.get("Uploads", []))
    return found


def listed_files(client: httpx.Client, api_url: str, token: str) -> list[dict[str, Any]]:
    """Every file of the user through GET /v1/files, page by page."""
    files: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params = {"limit": "100", **({"cursor": cursor} if cursor else {})}
        response = client.get(
            f"{api_url}/v1/files", params=params, headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 200, response.text
        page = response.json()
        files.extend(page["files"])
        cursor = page["next_cursor"]
        if cursor is None:
            return files


@dataclass
class Outcome:
    planned: Planned
    result: UploadResult


@pytest.fixture
def load_users(stack: StackOutputs, aws: AwsClients) -> Iterator[list[str]]:
    """The run's users; their objects and any unfinished upload are removed afterwards."""
    users: list[str] = []
    yield users
    bucket = stack[names.BUCKET_NAME]
    for user in users:
        for prefix in (f"uploads/{user}/", f"derived/{user}/"):
            for upload in multipart_uploads(stack, aws, prefix):
                aws.s3.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
            for page in aws.s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
                for version in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
                    aws.s3.delete_object(Bucket=bucket, Key=version["Key"], VersionId=version["VersionId"])


def abandon_session(
    stack: StackOutputs, aws: AwsClients, http: httpx.Client, token: str, user: str, data: bytes
) -> str:
    """A multipart upload with part 1 sent, then left; its expiry moved past the sweeper's grace."""
    headers = {"Authorization": f"Bearer {token}"}
    initiated = http.post(
        f"{stack.api_url}/v1/uploads",
        headers=headers,
        json={"filename": "abandoned.bin", "size": len(data), "content_type": "application/octet-stream"},
    )
    assert initiated.status_code == 201, initiated.text
    upload = initiated.json()
    signed = http.post(
        f"{stack.api_url}/v1/uploads/{upload['upload_id']}/parts",
        headers=headers,
        json={"parts": [{"part_number": 1}]},
    )
    assert signed.status_code == 200, signed.text
    (part,) = signed.json()["parts"]
    sent = http.put(part["url"], content=data[: upload["part_size"]], headers=part["headers"])
    assert sent.status_code == 200, sent.text
    past = to_timestamp(datetime.now(UTC) - SWEEP_GRACE - timedelta(hours=1))
    aws.dynamodb.update_item(
        TableName=stack[names.TABLE_NAME],
        Key={"pk": {"S": f"USER#{user}"}, "sk": {"S": f"UPLOAD#{upload['upload_id']}"}},
        UpdateExpression="SET session_expires_at = :past, gsi1sk = :past",
        ExpressionAttributeValues={":past": {"S": past}},
    )
    return str(upload["upload_id"])


def test_concurrent_uploads_in_rounds_each_end_with_one_record_one_execution_and_nothing_left_over(
    stack: StackOutputs, aws: AwsClients, load_users: list[str], tmp_path: Path
) -> None:
    tokens = TokenFactory.for_stack(stack)
    traffic = Traffic(api_base=stack.api_url)
    run_id = f"{ROUNDS}x{UPLOADS}-{uuid.uuid4().hex[:6]}"
    started_at = datetime.now(UTC) - timedelta(seconds=5)  # the local cloud's clock may lag a little
    started = time.monotonic()
    outcomes: list[Outcome] = []
    abandoned: list[tuple[str, str]] = []
    http = httpx.Client(transport=MeasuredTransport(traffic), timeout=REQUEST_TIMEOUT)
    # What the run checked, for the report (a check it did not reach stays blank)
    checked: dict[str, int] = {}
    try:
        for round_number in range(ROUNDS):
            # Given a round of files, a user per ten of them, and one SDK client per user
            traffic.round = round_number + 1
            users = [f"load-{run_id}-r{round_number}-u{n}" for n in range(-(-UPLOADS // UPLOADS_PER_USER))]
            # (a user of its own abandons the sessions: its files never count as uploads)
            leaver = f"load-{run_id}-r{round_number}-abandons"
            load_users.extend([*users, leaver])
            user_tokens = {user: tokens.valid(user) for user in users}
            planned = plan_round(tmp_path / f"round-{round_number}", round_number, users)
            clients = {
                user: FileflowClient(
                    stack.api_url,
                    user_tokens[user],
                    transport=MeasuredTransport(traffic),
                    state_dir=tmp_path / "state" / user,
                    timeout=REQUEST_TIMEOUT,
                )
                for user in users
            }
            # When every file is uploaded at once (2 parts at a time), then a few sessions abandoned
            try:
                with ThreadPoolExecutor(max_workers=UPLOADS) as pool:
                    uploads = [
                        pool.submit(clients[plan.user].upload, plan.path, concurrency=2) for plan in planned
                    ]
                    outcomes.extend(
                        Outcome(plan, future.result()) for plan, future in zip(planned, uploads, strict=True)
                    )
                    data = random.Random(round_number).randbytes(MULTIPART_SIZE)
                    for _ in range(ABANDONED_PER_ROUND):
                        upload_id = abandon_session(stack, aws, http, tokens.valid(leaver), leaver, data)
                        abandoned.append((leaver, upload_id))
            finally:
                for client in clients.values():
                    client.close()
            round_outcomes = outcomes[-UPLOADS:]
            assert sum(o.result.mode == "multipart" for o in round_outcomes) == sum(
                p.multipart for p in planned
            )
            # Then every file is processed (waiting on its record in the table)
            for outcome in round_outcomes:
                user, file_id = outcome.planned.user, outcome.result.file_id

                def processed(user: str = user, file_id: str = file_id) -> dict[str, Any] | None:
                    item = file_item(stack, aws, user, file_id)
                    return item if item and item["status"]["S"] in TERMINAL else None

                item = wait_for(
                    processed, timeout=PROCESSING_TIMEOUT, interval=1, what=f"{file_id} processed"
                )
                assert item["status"]["S"] == "processed", (outcome.planned.path.name, item)
            # And each has exactly one file record, in the API's listing and in the table
            for user in users:
                listed = Counter(f["file_id"] for f in listed_files(http, stack.api_url, user_tokens[user]))
                mine = [o.result.file_id for o in round_outcomes if o.planned.user == user]
                assert {file_id: listed[file_id] for file_id in mine} == dict.fromkeys(mine, 1)
                assert sum(listed.values()) == len(mine)
                records = [i["sk"]["S"] for i in prefixed(stack, aws, f"USER#{user}", "FILE#")]
                assert sorted(records) == sorted(f"FILE#{file_id}" for file_id in mine)
                checked["file records"] = checked.get("file records", 0) + len(records)

        # And each has one job and one execution, named after it, which succeeded (a file is processed
        # at Finalize; its execution ends after Notify)
        def settled() -> list[dict[str, Any]] | None:
            found = executions_since(stack, aws, started_at)
            return found if all(e["status"] != "RUNNING" for e in found) else None

        started_executions = wait_for(
            settled, timeout=PROCESSING_TIMEOUT, interval=1, what="every execution of the rounds to end"
        )
        executions = Counter(e["name"] for e in started_executions)
        checked["executions"] = len(executions)
        statuses = {e["name"]: e["status"] for e in started_executions}
        for outcome in outcomes:
            file_id = outcome.result.file_id
            jobs = prefixed(stack, aws, f"FILE#{file_id}", "JOB#")
            assert len(jobs) == 1, (file_id, jobs)
            job_id = jobs[0]["sk"]["S"].removeprefix("JOB#")
            assert (executions[job_id], statuses[job_id]) == (1, "SUCCEEDED"), file_id
            # And its derivatives: what its kind makes, each one in the bucket
            response = http.get(
                f"{stack.api_url}/v1/files/{file_id}",
                headers={"Authorization": f"Bearer {tokens.valid(outcome.planned.user)}"},
            )
            assert response.status_code == 200, response.text
            derivatives = {d["name"]: d for d in response.json()["derivatives"]}
            if outcome.planned.kind == "image":
                assert any(name.startswith("thumb-") for name in derivatives), derivatives
            elif outcome.planned.kind == "archive":
                assert "listing.json" in derivatives, derivatives
            stored = {
                version["Key"].rsplit("/", 1)[1]
                for page in aws.s3.get_paginator("list_objects_v2").paginate(
                    Bucket=stack[names.BUCKET_NAME], Prefix=f"derived/{outcome.planned.user}/{file_id}/"
                )
                for version in page.get("Contents", [])
            }
            assert set(derivatives) <= stored, (file_id, set(derivatives) - stored)
            checked["derivatives"] = checked.get("derivatives", 0) + len(derivatives)
        # When the sweeper runs (invoked directly rather than waiting for its schedule)
        invoked = aws.lambda_.invoke(FunctionName=stack[names.SWEEPER_FUNCTION_NAME], Payload=b"{}")
        sweep = json.loads(invoked["Payload"].read())
        assert "FunctionError" not in invoked, sweep
        # Then no multipart upload of the run is left in the bucket (the abandoned ones' parts are gone)
        orphaned = [u for user in load_users for u in multipart_uploads(stack, aws, f"uploads/{user}/")]
        assert orphaned == []
        checked["orphaned multipart uploads"] = 0
        # And no session of the run is still initiated: the abandoned ones expired
        sessions: dict[str, str] = {}
        for user in load_users:
            for item in prefixed(stack, aws, f"USER#{user}", "UPLOAD#"):
                sessions[item["sk"]["S"].removeprefix("UPLOAD#")] = item["status"]["S"]
        assert {upload_id: sessions[upload_id] for _, upload_id in abandoned} == {
            upload_id: "expired" for _, upload_id in abandoned
        }
        assert Counter(sessions.values()) == Counter(completed=len(outcomes), expired=len(abandoned))
        # (an expired session's file item, metadata without an object, is gone with it)
        leavers = {user for user, _ in abandoned}
        assert [item for user in leavers for item in prefixed(stack, aws, f"USER#{user}", "FILE#")] == []
        # And none anywhere in the table is initiated past its expiry and the sweeper's grace
        stuck = query_all(
            aws,
            TableName=stack[names.TABLE_NAME],
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :initiated AND gsi1sk < :swept",
            ExpressionAttributeValues={
                ":initiated": {"S": "UPLOADS#initiated"},
                ":swept": {"S": to_timestamp(datetime.now(UTC) - SWEEP_GRACE)},
            },
        )
        assert stuck == []
        checked["stuck sessions"] = 0

    finally:
        http.close()
        _report(run_id, traffic, outcomes, abandoned, checked, time.monotonic() - started)
    # And the API never answered a 5xx
    assert [(sample.route, sample.status) for sample in traffic.server_errors(api=True)] == []


def _by_status(errors: list[Sample]) -> str:
    """`0`, or the count and its statuses: `26 (502: 20, 504: 6)`."""
    statuses = Counter(sample.status for sample in errors)
    details = ", ".join(f"{status}: {count}" for status, count in sorted(statuses.items()))
    return f"{len(errors)} ({details})" if errors else "0"


def _report(
    run_id: str,
    traffic: Traffic,
    outcomes: list[Outcome],
    abandoned: list[tuple[str, str]],
    checked: dict[str, int],
    elapsed: float,
) -> None:
    multipart = sum(o.result.mode == "multipart" for o in outcomes)
    LOAD.record(
        f"{ROUNDS:02d}x{UPLOADS:04d}",
        {
            "run": run_id,
            "rounds": ROUNDS,
            "uploads per round": UPLOADS,
            "single PUT": len(outcomes) - multipart,
            "multipart": multipart,
            "abandoned": len(abandoned),
            **checked,
            "API requests": sum(s.api for s in traffic.samples),
            "API 5xx": _by_status(traffic.server_errors(api=True)),
            "storage 5xx": _by_status(traffic.server_errors(api=False)),
            "wall s": round(elapsed, 1),
        },
    )
    by_route: dict[str, list[Sample]] = defaultdict(list)
    for sample in traffic.samples:
        by_route[sample.route].append(sample)
    for route, samples_of_route in sorted(by_route.items()):
        timings = [sample.ms for sample in samples_of_route]
        cuts = percentiles(timings)
        first = percentiles([s.ms for s in samples_of_route if s.round == 1]).get(50)
        last = percentiles([s.ms for s in samples_of_route if s.round == ROUNDS]).get(50)
        LATENCY.record(
            f"{ROUNDS:02d}x{UPLOADS:04d}-{route}",
            {
                "run": f"{ROUNDS}x{UPLOADS}",
                "route": route,
                "requests": len(timings),
                "p50 ms": cuts[50],
                "p95 ms": cuts[95],
                "p99 ms": cuts[99],
                "max ms": max(timings),
                "p50 first round": first,
                "p50 last round": last,
            },
        )
    print(f"\nload {run_id}: {len(outcomes)} uploads ({multipart} multipart) in {elapsed:.1f} s")
