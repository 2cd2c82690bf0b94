"""Priority lanes on the deployed stack: is an urgent file processed ahead of a burst of low-priority ones?

    make bench-priority                        # 50 priority-1 files, then one priority-9 file
    .venv/bin/python -m bench.priority --burst 100 --rounds 2

Each round initiates the uploads through the API first (the starter only adopts objects of a session;
the clock does not count the API), then PUTs the burst of priority-1 files at once, then the one
priority-9 file. When every execution has ended, the executions' stop times (Step Functions' own clock)
say how many of the burst finished after the urgent file. Target (issue #12): at least 40 of 50. The
peer: the urgent file's own time from stored to ended, against the same file alone on the idle stack.
"""

from __future__ import annotations

import argparse
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import boto3
import requests
from rich.console import Console
from rich.table import Table

from bench.figures import record
from infra import outputs as names
from tools.stack import StackOutputs, client_kwargs, load_outputs
from tools.token import TokenFactory

USER = "bench-priority"
LOW, URGENT = 1, 9
TARGET_AFTER = 40  # of 50
TIMEOUT_S = 900


@dataclass(frozen=True)
class Prepared:
    file_id: str
    upload_id: str
    data: bytes
    put: dict[str, Any]


@dataclass(frozen=True)
class Stored:
    file_id: str
    upload_id: str
    at: float  # perf_counter when the PUT returned


class Bench:
    def __init__(self, stack: StackOutputs) -> None:
        kwargs = client_kwargs()
        self.stack = stack
        self.dynamodb = boto3.client("dynamodb", **kwargs)
        self.sfn = boto3.client("stepfunctions", **kwargs)
        self.api = requests.Session()
        self.api.headers["Authorization"] = f"Bearer {TokenFactory.for_stack(stack).valid(USER)}"
        self.executions = stack[names.STATE_MACHINE_ARN].replace(":stateMachine:", ":execution:")

    def prepare(self, priority: int, index: int) -> Prepared:
        data = f"priority {priority} file {index} {time.time_ns()}\n".encode()
        body: dict[str, Any] = {
            "filename": "bench",
            "size": len(data),
            "content_type": "text/plain",
            "priority": priority,
        }
        response = self.api.post(f"{self.stack.api_url}/v1/uploads", json=body, timeout=60)
        response.raise_for_status()
        session = response.json()
        return Prepared(session["file_id"], session["upload_id"], data, session["single"])

    def store(self, prepared: Prepared) -> Stored:
        put = requests.put(
            prepared.put["url"], data=prepared.data, headers=prepared.put["headers"], timeout=60
        )
        put.raise_for_status()
        return Stored(prepared.file_id, prepared.upload_id, time.perf_counter())

    def complete(self, stored: list[Stored]) -> None:
        for one in stored:
            url = f"{self.stack.api_url}/v1/uploads/{one.upload_id}/complete"
            self.api.post(url, json={}, timeout=60).raise_for_status()

    def job_id(self, file_id: str) -> str | None:
        item = self.dynamodb.get_item(
            TableName=self.stack[names.TABLE_NAME],
            Key={"pk": {"S": f"USER#{USER}"}, "sk": {"S": f"FILE#{file_id}"}},
            ConsistentRead=True,
        ).get("Item", {})
        return item.get("processing_job_id", {}).get("S")

    def wait_ended(self, stored: list[Stored], timeout: float = TIMEOUT_S) -> dict[str, dict[str, Any]]:
        """Each file's ended execution (DescribeExecution), polled until none is left running."""
        pending = {one.file_id for one in stored}
        ended: dict[str, dict[str, Any]] = {}
        arns: dict[str, str] = {}
        deadline = time.monotonic() + timeout
        while pending:
            if time.monotonic() > deadline:
                raise SystemExit(f"{len(pending)} execution(s) still running after {timeout} s")
            for file_id in sorted(pending):
                if file_id not in arns:
                    job = self.job_id(file_id)
                    if job is None:
                        continue
                    arns[file_id] = f"{self.executions}:{job}"
                try:
                    execution = self.sfn.describe_execution(executionArn=arns[file_id])
                except self.sfn.exceptions.ExecutionDoesNotExist:
                    continue
                if execution["status"] != "RUNNING":
                    ended[file_id] = dict(execution)
                    pending.discard(file_id)
            time.sleep(0.25)
        return ended


@dataclass(frozen=True)
class Round:
    after: int  # burst files that ended after the urgent one
    burst: int
    urgent_s: float  # the urgent file's execution: started -> ended
    drain_s: float  # the burst: first stored -> last ended
    failed: int


def one_round(bench: Bench, burst: int) -> Round:
    low = [bench.prepare(LOW, index) for index in range(burst)]
    urgent = bench.prepare(URGENT, 0)
    with ThreadPoolExecutor(max_workers=16) as pool:
        stored = list(pool.map(bench.store, low))
    urgent_stored = bench.store(urgent)
    ended = bench.wait_ended([*stored, urgent_stored])
    bench.complete([*stored, urgent_stored])
    stop: dict[str, datetime] = {file_id: execution["stopDate"] for file_id, execution in ended.items()}
    urgent_stop = stop[urgent_stored.file_id]
    urgent_run = (urgent_stop - ended[urgent_stored.file_id]["startDate"]).total_seconds()
    last_low = max(stop[one.file_id] for one in stored)
    first_low_start = min(ended[one.file_id]["startDate"] for one in stored)
    return Round(
        after=sum(1 for one in stored if stop[one.file_id] > urgent_stop),
        burst=burst,
        urgent_s=urgent_run,
        drain_s=(last_low - first_low_start).total_seconds(),
        failed=sum(1 for execution in ended.values() if execution["status"] != "SUCCEEDED"),
    )


def alone(bench: Bench) -> float:
    """The urgent file on the idle stack: its execution's start to end (also warms the stages)."""
    stored = bench.store(bench.prepare(URGENT, 0))
    execution = bench.wait_ended([stored])[stored.file_id]
    bench.complete([stored])
    return float((execution["stopDate"] - execution["startDate"]).total_seconds())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--burst", type=int, default=50, help="priority-1 files stored at once")
    parser.add_argument("--rounds", type=int, default=1, help="bursts, one after the other")
    args = parser.parse_args(argv)
    console = Console()
    bench = Bench(load_outputs())
    # Warm-up: both lanes once, so cold starts are not counted against the urgent file.
    low_warm = bench.store(bench.prepare(LOW, 0))
    bench.wait_ended([low_warm])
    bench.complete([low_warm])
    idle = statistics.median(alone(bench) for _ in range(3))
    rounds = [one_round(bench, args.burst) for _ in range(args.rounds)]

    target = round(TARGET_AFTER * args.burst / 50)
    table = Table(title=f"Priority lanes: {args.burst} priority-{LOW} files, then one priority-{URGENT} file")
    for column in (
        "round",
        "burst files ended after the urgent one",
        "urgent: start -> end",
        "peer: alone",
        "burst drained in",
        "failed",
        "target",
    ):
        table.add_column(column)
    for number, result in enumerate(rounds, 1):
        table.add_row(
            str(number),
            f"{result.after} of {result.burst}",
            f"{result.urgent_s:.1f} s",
            f"{idle:.1f} s",
            f"{result.drain_s:.1f} s",
            str(result.failed),
            f">= {target}: {'met' if result.after >= target else 'not met'}",
        )
        record(
            f"urgent file behind {result.burst} priority-{LOW} files, round {number}",
            f"start -> end {result.urgent_s:.1f} s; {result.after} burst files ended after it",
            f"alone {idle:.1f} s",
            result.urgent_s / idle,
            target=f">= {target} burst files end after it",
            met=result.after >= target and not result.failed,
        )
    console.print(table)
    # A target not met is a figure (its row says so), not a failure of the benchmark
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
