"""What Fileflow costs on AWS per million files of each kind and per million API requests (docs/cost.md).

    make bench-cost                      # 2 files of each kind after a warm-up each, then the API requests
    .venv/bin/python -m bench.cost --files 5

Measured on the deployed stack (bench/pipeline.py's upload path: API initiate, presigned PUT, complete):
- each stage's handler time and AWS calls by operation (its `succeeded` event), at the stage's configured
  memory (infra/constructs/pipeline/stages.py); the state transitions (the execution's history);
- the starter's calls (its "batch handled" line) and time (its REPORT lines); the API's time and calls
  per request (its "request" lines); the log bytes all of them wrote; the bytes the file keeps in S3;
- Claude's cost per file with and without the result cache (bench/ai_cost.py's emulator run, per kind).
Then priced with bench/prices.toml (bench/cost_model.py). A video is 10 s long: its video stage's time,
calls and stored bytes are scaled to one minute (x6), the other stages' are per file.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer
from rich.console import Console
from rich.table import Table

from bench.cost_model import AWS_LINES, Cost, Invocation, Prices, Usage, add_usage, cost_per_million
from bench.figures import record
from bench.pipeline import USER, Pipeline, five_mb_jpeg
from bench.results import replace_section
from infra import outputs as names
from infra.constructs.pipeline.stages import STAGES, stage_event_name
from tests import samples
from tools.ops.functions import log_group
from tools.ops.logs import read as read_logs
from tools.stack import client_kwargs, load_outputs

DOC = Path(__file__).resolve().parent.parent / "docs" / "cost.md"
REPORT = re.compile(r"REPORT RequestId: \S+\tDuration: ([\d.]+) ms")
MEMORY = {stage_event_name(spec.name): spec.memory_mb for spec in STAGES}
EPHEMERAL = {stage_event_name(spec.name): spec.ephemeral_storage_mib or 512 for spec in STAGES}
STARTER_MB = API_MB = 256, 512
VIDEO_SECONDS = 10
KINDS: dict[str, Callable[[], bytes]] = {
    "image (5.2 MB JPEG)": five_mb_jpeg,
    "document (2-page PDF)": lambda: samples.pdf(2),
    "archive (ZIP)": samples.zip_file,
    "video minute (720p)": lambda: samples.mp4(seconds=VIDEO_SECONDS, width=1280, height=720),
}
# S3 -> SQS -> the starter: the notification's send, the poller's receive and delete (batches of one).
QUEUE_CALLS = {"sqs:SendMessage": 1.0, "sqs:ReceiveMessage": 1.0, "sqs:DeleteMessage": 1.0}


@dataclass
class Logs:
    """The log lines of the stack's functions since `since` (ms), from the local cloud's CloudWatch Logs."""

    client: Any
    since: int

    def events(self, function: str) -> list[str]:
        return [line.message for line in read_logs(self.client, log_group(function), start_ms=self.since)]


def json_lines(lines: list[str], message: str) -> list[dict[str, Any]]:
    parsed = []
    for line in lines:
        if line.lstrip().startswith("{") and f'"{message}"' in line:
            record = json.loads(line)
            if record.get("message") == message:
                parsed.append(record)
    return parsed


def mean_operations(records: list[dict[str, Any]], key: str, per: float) -> dict[str, float]:
    total: dict[str, float] = {}
    for line in records:
        for name, count in line.get(key, {}).items():
            total[name] = total.get(name, 0.0) + count / per
    return total


def stage_events(pipeline: Pipeline, file_id: str) -> list[dict[str, Any]]:
    items = pipeline.dynamodb.query(
        TableName=pipeline.stack[names.TABLE_NAME],
        KeyConditionExpression="pk = :pk AND begins_with(sk, :event)",
        ExpressionAttributeValues={":pk": {"S": f"FILE#{file_id}"}, ":event": {"S": "EVENT#"}},
    )["Items"]
    plain = [{k: TypeDeserializer().deserialize(v) for k, v in item.items()} for item in items]
    return [e for e in plain if e["state"] == "succeeded" and "duration_ms" in e["detail"]]


def stored_bytes(pipeline: Pipeline, file_id: str, original: int) -> int:
    listed = pipeline.s3.list_objects_v2(
        Bucket=pipeline.stack[names.BUCKET_NAME], Prefix=f"derived/{USER}/{file_id}/"
    )
    return original + sum(int(obj["Size"]) for obj in listed.get("Contents", []))


def measure_kind(
    pipeline: Pipeline, logs: Any, data: bytes, files: int, scale_video: bool
) -> tuple[Usage, list[dict[str, Any]]]:
    warm = pipeline.store(pipeline.prepare(data))
    pipeline.wait_processed([warm], timeout=600)
    pipeline.complete([warm])
    pipeline.wait_ended(warm.file_id)
    since = int(time.time() * 1000)
    parts: list[Usage] = []
    for _ in range(files):
        stored = pipeline.store(pipeline.prepare(data))
        pipeline.wait_processed([stored], timeout=600)
        pipeline.complete([stored])
        pipeline.wait_ended(stored.file_id)
        invocations: list[Invocation] = []
        operations: dict[str, float] = {}
        items: dict[str, float] = {}
        for event in stage_events(pipeline, stored.file_id):
            stage, detail = event["stage"], event["detail"]
            factor = 60 / VIDEO_SECONDS if scale_video and stage == "video" else 1.0
            invocations.append(
                Invocation(
                    stage,
                    MEMORY.get(stage, 256),
                    float(detail["duration_ms"]) * factor,
                    1,
                    EPHEMERAL.get(stage, 512),
                )
            )
            for name, count in detail.get("aws_operations", {}).items():
                operations[name] = operations.get(name, 0.0) + float(count) * factor
            for name, count in detail.get("aws_items", {}).items():
                items[name] = items.get(name, 0.0) + float(count) * factor
        factor = 60 / VIDEO_SECONDS if scale_video else 1.0
        parts.append(
            Usage(
                invocations=tuple(invocations),
                operations=operations | {"s3:PutObject": operations.get("s3:PutObject", 0.0) + factor},
                items=items,
                transitions=float(pipeline.transitions(stored.file_id)),
                traces=1.0,
                stored_bytes=float(stored_bytes(pipeline, stored.file_id, len(data))) * factor,
            )
        )
    time.sleep(2)  # the last REPORT and log lines reach the log groups
    reader = Logs(logs, since)
    starter_lines = reader.events(pipeline.stack["StarterFunctionName"])
    api_lines = reader.events(pipeline.stack["ApiFunctionName"])
    batches = json_lines(starter_lines, "batch handled")
    requests = json_lines(api_lines, "request")
    starter_ms = [float(m.group(1)) for line in starter_lines if (m := REPORT.search(line))]
    shared = Usage(
        invocations=(
            Invocation(
                "starter", STARTER_MB[0], statistics.mean(starter_ms or [0.0]), len(starter_ms) / files
            ),
            *(Invocation("api", API_MB[1], float(r["duration_ms"]), 1 / files) for r in requests),
        ),
        operations=add_usage(
            Usage(operations=mean_operations(batches, "aws_operations", files)),
            Usage(operations=mean_operations(requests, "aws_operations", files)),
            Usage(operations=QUEUE_CALLS),
        ).operations,
        items=add_usage(
            Usage(items=mean_operations(batches, "aws_items", files)),
            Usage(items=mean_operations(requests, "aws_items", files)),
        ).items,
        api_requests=len(requests) / files,
        traces=(len(starter_ms) + len(requests)) / files,
        log_bytes=sum(len(line) for line in starter_lines + api_lines) / files,
    )
    stage_log_bytes = sum(
        len(line) for spec in STAGES for line in reader.events(f"Fileflow-stage-{spec.name}")
    )
    per_file = add_usage(*parts)
    count = float(files)
    return add_usage(
        Usage(
            invocations=tuple(
                Invocation(i.function, i.memory_mb, i.duration_ms, i.count / count, i.ephemeral_mb)
                for i in per_file.invocations
            ),
            operations={k: v / count for k, v in per_file.operations.items()},
            items={k: v / count for k, v in per_file.items.items()},
            transitions=per_file.transitions / count,
            traces=per_file.traces / count,
            stored_bytes=per_file.stored_bytes / count,
            log_bytes=stage_log_bytes / count,
        ),
        shared,
    ), requests


def api_request_usage(requests: list[dict[str, Any]]) -> Usage:
    """One API request, the mean of those measured: the gateway, the function, its calls, its log line."""
    count = float(len(requests))
    return Usage(
        invocations=(
            Invocation("api", API_MB[1], statistics.mean(float(r["duration_ms"]) for r in requests)),
        ),
        operations=mean_operations(requests, "aws_operations", count),
        items=mean_operations(requests, "aws_items", count),
        api_requests=1.0,
        traces=1.0,
        log_bytes=sum(len(json.dumps(r)) for r in requests) / count,
    )


def markdown(costs: dict[str, Cost], prices: Prices, when: str, machine: str) -> str:
    columns = list(costs)
    lines = [
        f"Measured {when} on {machine} by `make bench-cost`; prices of {prices.as_of} (bench/prices.toml,"
        f" {'checked online' if prices.verified_online else 'not re-read online'}). USD per million units.",
        "",
        "| line | " + " | ".join(columns) + " |",
        "|---|" + "---:|" * len(columns),
    ]
    for line in AWS_LINES:
        lines.append(f"| {line} | " + " | ".join(f"{costs[c].lines[line]:,.2f}" for c in columns) + " |")
    lines.append("| **AWS total** | " + " | ".join(f"**{costs[c].total:,.2f}**" for c in columns) + " |")
    lines.append(
        "| S3 storage, per month kept | "
        + " | ".join(f"{costs[c].storage_month:,.2f}" for c in columns)
        + " |"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=2, help="measured files of each kind (after a warm-up)")
    parser.add_argument("--no-doc", action="store_true", help="print only; leave docs/cost.md alone")
    args = parser.parse_args(argv)
    prices = Prices.load()
    pipeline = Pipeline(load_outputs())
    logs = boto3.client("logs", **client_kwargs())
    costs: dict[str, Cost] = {}
    requests: list[dict[str, Any]] = []
    for kind, make in KINDS.items():
        usage, seen = measure_kind(pipeline, logs, make(), args.files, kind.startswith("video"))
        costs[kind] = cost_per_million(usage, prices)
        requests.extend(seen)
    costs["API request"] = cost_per_million(api_request_usage(requests), prices)
    table = Table(title=f"AWS cost, USD per million (prices of {prices.as_of})")
    table.add_column("line")
    for column in costs:
        table.add_column(column, justify="right")
    for line in AWS_LINES:
        table.add_row(line, *(f"{cost.lines[line]:,.2f}" for cost in costs.values()))
    table.add_row("AWS total", *(f"{cost.total:,.2f}" for cost in costs.values()), style="bold")
    table.add_row("S3 storage / month kept", *(f"{cost.storage_month:,.2f}" for cost in costs.values()))
    Console().print(table)
    for column, cost in costs.items():
        record(f"AWS cost per million: {column}", f"{cost.total:,.2f} USD", "", None)
    if not args.no_doc:
        import os
        import platform

        machine = f"{platform.node()} ({os.cpu_count()} vCPU, shared with other work)"
        when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        DOC.write_text(replace_section(DOC.read_text(), "cost", markdown(costs, prices, when, machine)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
