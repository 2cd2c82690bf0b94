"""`python -m tools.ops invoke | logs | metrics | executions | trace`: the `make` targets of those names."""

from __future__ import annotations

import argparse
import base64
import json
import sys
import time
from pathlib import Path
from typing import Any

import boto3
from rich.console import Console
from rich.table import Table

from infra import outputs as names
from tools.ops import aim, functions, logs
from tools.ops.metrics import latest_metrics
from tools.ops.trace import trace_file
from tools.stack import client_kwargs, load_outputs

# Wide when piped (rich falls back to 80 columns), so tables and trace lines stay whole.
out = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 200)
err = Console(stderr=True, highlight=False)


def _client(service: str) -> Any:
    return boto3.client(service, **client_kwargs())  # type: ignore[call-overload]


def invoke(args: argparse.Namespace) -> int:
    """Invokes the deployed function with each event file (aimed at `--file`'s file if given); prints
    each result, then its log lines (`--json`: one JSON line per event instead). Exit 1 if any failed."""
    lambda_client, logs_client = _client("lambda"), _client("logs")
    name = functions.resolve(lambda_client, args.function)
    # Every file is read and checked before anything is invoked: a clear error for one that is not JSON.
    events = {path: json.loads(Path(path).read_bytes()) for path in args.events}
    target = aim.target_for(args.file) if args.file else None
    failures = 0
    for path, event in events.items():
        payload_event = aim.aim(event, target) if target else event
        started_ms = int(time.time() * 1000) - 1000
        answer = lambda_client.invoke(FunctionName=name, Payload=aim.dumps(payload_event), LogType="Tail")
        payload = answer["Payload"].read().decode()
        failed = answer.get("FunctionError") or _server_error(payload)
        failures += bool(failed)
        if args.json:
            result = {"event": path, "function": name, "error": failed, "payload": _parsed(payload)}
            out.print(json.dumps(result), markup=False)
            continue
        out.print(f"[bold]{name}[/] answered {path}{' with ' + failed if failed else ''}:", highlight=False)
        out.print(_pretty(payload), markup=False)
        out.print("[bold]log lines:[/]")
        tail = base64.b64decode(answer.get("LogResult") or b"").decode(errors="replace")
        lines = tail.splitlines() or _request_lines(logs_client, name, started_ms)
        for line in lines:
            out.print(line, markup=False)
    return 1 if failures else 0


def _parsed(payload: str) -> Any:
    try:
        return json.loads(payload)
    except ValueError:
        return payload


def _server_error(payload: str) -> str | None:
    """An API answer of 5xx is a failed invocation too, though the function returned normally."""
    answer = _parsed(payload)
    status = answer.get("statusCode") if isinstance(answer, dict) else None
    return f"status {status}" if isinstance(status, int) and status >= 500 else None


def _request_lines(logs_client: Any, name: str, start_ms: int) -> list[str]:
    """The invocation's lines from CloudWatch Logs, when the answer carries no log tail: read until the
    runtime's closing REPORT line has arrived (they reach the log group shortly after the answer)."""
    group = functions.log_group(name)
    lines: list[str] = []
    for _ in range(40):
        lines = [line.message.rstrip() for line in logs.read(logs_client, group, start_ms=start_ms)]
        if any(line.startswith("REPORT") for line in lines):
            break
        time.sleep(0.25)
    return lines


def _pretty(payload: str) -> str:
    try:
        return json.dumps(json.loads(payload), indent=2)
    except ValueError:
        return payload


def show_logs(args: argparse.Namespace) -> int:
    lambda_client, logs_client = _client("lambda"), _client("logs")
    group = functions.log_group(functions.resolve(lambda_client, args.function))
    start = logs.since_ms(args.since)
    lines = (
        logs.follow(logs_client, group, start_ms=start)
        if args.follow
        else logs.read(logs_client, group, start_ms=start)
    )
    for line in lines:
        out.print(line.message.rstrip(), markup=False)
    return 0


def metrics(args: argparse.Namespace) -> int:
    """The latest value of each Fileflow metric, read from the EMF records of every function's log group."""
    lambda_client, logs_client = _client("lambda"), _client("logs")
    groups = [functions.log_group(name) for name in functions.function_names(lambda_client).values()]
    found = latest_metrics(logs_client, groups, start_ms=logs.since_ms(args.since))
    if args.json:
        out.print(json.dumps([row.as_json() for row in found]), markup=False)
        return 0
    table = Table("metric", "dimensions", "latest", "unit", "samples", "at", box=None, header_style="bold")
    for row in found:
        table.add_row(row.name, row.dimension_text, f"{row.latest:g}", row.unit, str(row.samples), row.at)
    out.print(table)
    return 0


def executions(args: argparse.Namespace) -> int:
    stepfunctions = _client("stepfunctions")
    machine = load_outputs()[names.STATE_MACHINE_ARN]
    listed = stepfunctions.list_executions(stateMachineArn=machine, maxResults=args.limit)["executions"]
    table = Table("execution", "status", "started", "duration", box=None, header_style="bold")
    for execution in listed:
        stopped = execution.get("stopDate")
        duration = f"{(stopped - execution['startDate']).total_seconds():.1f} s" if stopped else "running"
        table.add_row(execution["name"], execution["status"], execution["startDate"].isoformat(), duration)
    out.print(table)
    return 0


def trace(args: argparse.Namespace) -> int:
    entries = trace_file(args.file, since_ms=logs.since_ms(args.since))
    if args.json:
        out.print(json.dumps([entry.as_json() for entry in entries]), markup=False)
        return 0
    for entry in entries:
        out.print(f"{entry.at}  [bold]{entry.source:<22}[/] {entry.text}", highlight=False)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.ops")
    commands = parser.add_subparsers(required=True, dest="command")
    invoking = commands.add_parser("invoke", help="invoke a deployed function with an event file")
    invoking.add_argument(
        "function", help="its short name: api, starter, detect (stage-detect), webhooks, ..."
    )
    invoking.add_argument("events", nargs="+", help="JSON files, e.g. events/stage-detect/standard_lane.json")
    invoking.add_argument(
        "--file", help="aim the samples at this file id of the deployed stack (tools/ops/aim.py)"
    )
    invoking.add_argument("--json", action="store_true", help="one JSON line per event: its answer, no logs")
    invoking.set_defaults(run=invoke)
    logging = commands.add_parser("logs", help="a function's log lines")
    logging.add_argument("function")
    logging.add_argument("--since", default="10m")
    logging.add_argument("--follow", action="store_true")
    logging.set_defaults(run=show_logs)
    metering = commands.add_parser("metrics", help="the latest value of each Fileflow metric (EMF records)")
    metering.add_argument("--since", default="1d")
    metering.add_argument("--json", action="store_true")
    metering.set_defaults(run=metrics)
    runs = commands.add_parser("executions", help="recent workflow runs")
    runs.add_argument("--limit", type=int, default=20)
    runs.set_defaults(run=executions)
    tracing = commands.add_parser("trace", help="one file's whole path, in time order")
    tracing.add_argument("file", help="the file id")
    tracing.add_argument("--since", default="1d")
    tracing.add_argument("--json", action="store_true")
    tracing.set_defaults(run=trace)
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except (functions.UnknownFunctionError, ValueError, FileNotFoundError, LookupError) as error:
        err.print(f"[red]error:[/] {error}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
