"""`make trace FILE=<file id>`: one file's whole path, in time order, from every place it left a mark.

- the API requests that touched it: the audit trail (every state-changing request, with its request id)
  and the API's log lines carrying the upload's correlation id;
- the S3 event and the workflow's start: the starter's log lines;
- the execution: its history (each state entered and left) and each stage's log lines, found by the
  correlation id every function logs;
- the job records and the stage events in the file's partition;
- webhook deliveries (the file's delivery pointers) and the sender's log lines about them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
from boto3.dynamodb.conditions import Key

from infra import outputs as names
from tools.ops import functions, logs
from tools.stack import client_kwargs, load_outputs


class FileNotTracedError(LookupError):
    """No item of the file is left (never uploaded, or deleted)."""


@dataclass(frozen=True, slots=True)
class Entry:
    at: str  # ISO 8601, UTC, milliseconds
    source: str  # "audit", "dynamodb job", "execution", "log stage-detect", ...
    text: str
    correlation_id: str | None = None  # a log line's own

    def as_json(self) -> dict[str, str | None]:
        return {
            "at": self.at,
            "source": self.source,
            "text": self.text,
            "correlation_id": self.correlation_id,
        }


def _iso(value: Any) -> str:
    if isinstance(value, datetime):
        moment = value.astimezone(UTC)
    elif isinstance(value, int | float):
        moment = datetime.fromtimestamp(value / 1000, UTC)
    else:
        text = str(value)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _partition(table: Any, partition: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    arguments: dict[str, Any] = {"KeyConditionExpression": Key("pk").eq(partition)}
    while True:
        page = table.query(**arguments)
        items.extend(page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return items
        arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _table_entries(history: list[dict[str, Any]]) -> list[Entry]:
    entries: list[Entry] = []
    for item in history:
        sk = str(item["sk"])
        if sk.startswith("JOB#"):
            for moment in ("queued_at", "started_at", "ended_at"):
                if item.get(moment):
                    entries.append(
                        Entry(
                            _iso(item[moment]),
                            "dynamodb job",
                            f"{sk[4:]} {moment[:-3]} ({item.get('status')})",
                        )
                    )
        elif sk.startswith("EVENT#") and item.get("at"):
            entries.append(
                Entry(_iso(item["at"]), "dynamodb event", f"{item.get('stage')} {item.get('state')}")
            )
        elif sk.startswith("DELIVERY#") and (item.get("created_at") or item.get("updated_at")):
            text = f"webhook {item.get('event_type')} -> {item.get('endpoint_id')}: {item.get('status')}"
            entries.append(
                Entry(_iso(item.get("updated_at") or item["created_at"]), "dynamodb delivery", text)
            )
    return entries


def _execution_entries(stepfunctions: Any, execution_arn: str) -> list[Entry]:
    entries: list[Entry] = []
    try:
        pages = stepfunctions.get_paginator("get_execution_history").paginate(executionArn=execution_arn)
        for page in pages:
            for event in page["events"]:
                kind = event["type"]
                details = next(
                    (v for k, v in event.items() if k.endswith("EventDetails") and isinstance(v, dict)), {}
                )
                what = details.get("name") or details.get("error") or ""
                if kind.endswith(
                    ("StateEntered", "StateExited", "Failed", "Succeeded", "Started", "TimedOut")
                ):
                    entries.append(Entry(_iso(event["timestamp"]), "execution", f"{kind} {what}".strip()))
    except stepfunctions.exceptions.ExecutionDoesNotExist:
        return entries
    return entries


def _log_entries(
    logs_client: Any, lambda_client: Any, *, file_id: str, correlation_id: str | None, since_ms: int
) -> list[Entry]:
    entries: list[Entry] = []
    for short, name in sorted(functions.function_names(lambda_client).items()):
        for line in logs.read(logs_client, functions.log_group(name), start_ms=since_ms):
            record = line.record
            if record is not None and "_aws" in record:
                continue  # an EMF record: numbers, not what happened
            mentions = file_id in line.message or (
                correlation_id is not None and correlation_id in line.message
            )
            if not mentions:
                continue
            text = str(record.get("message")) if record else line.message.strip()
            if record:
                facts = {
                    k: record[k] for k in ("stage", "status", "duration_ms", "event", "error") if k in record
                }
                text += "".join(f" {key}={value}" for key, value in facts.items())
            logged = str(record["correlation_id"]) if record and record.get("correlation_id") else None
            entries.append(Entry(_iso(line.timestamp_ms), f"log {short}", text, logged))
    return entries


def trace_file(file_id: str, *, since_ms: int) -> list[Entry]:
    outputs = load_outputs()
    dynamodb = boto3.resource("dynamodb", **client_kwargs())
    table = dynamodb.Table(outputs[names.TABLE_NAME])
    history = _partition(table, f"FILE#{file_id}")
    owners = {str(item["user_id"]) for item in history if item.get("user_id")}
    if not owners:
        raise FileNotTracedError(f"no job, event or delivery of file {file_id} is left (unknown or deleted)")
    (user_id,) = owners
    item = table.get_item(Key={"pk": f"USER#{user_id}", "sk": f"FILE#{file_id}"}).get("Item") or {}
    correlation_id = item.get("correlation_id")
    entries = _table_entries(history)
    if item.get("created_at"):
        text = f"created by {user_id} ({item.get('filename')!s})"
        entries.append(Entry(_iso(item["created_at"]), "dynamodb file", text))
    audit = dynamodb.Table(outputs[names.AUDIT_TABLE_NAME])
    for event in _partition(audit, f"USER#{user_id}"):
        if event.get("resource_id") == file_id or file_id in str(event.get("details", "")):
            text = f"{event.get('action')} {event.get('resource_type')} (request {event.get('request_id')})"
            entries.append(Entry(_iso(event["at"]), "audit", text))
    if item.get("execution_arn"):
        entries += _execution_entries(
            boto3.client("stepfunctions", **client_kwargs()), str(item["execution_arn"])
        )
    entries += _log_entries(
        boto3.client("logs", **client_kwargs()),
        boto3.client("lambda", **client_kwargs()),
        file_id=file_id,
        correlation_id=str(correlation_id) if correlation_id else None,
        since_ms=since_ms,
    )
    entries.sort(key=lambda entry: entry.at)
    header = Entry(
        entries[0].at if entries else _iso(datetime.now(UTC)),
        "file",
        f"{file_id} of {user_id}: status {item.get('status')!s}, correlation id {correlation_id!s}",
    )
    return [header, *entries]
