"""Reading the functions' log lines: Powertools JSON lines, EMF records and the runtime's own lines."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

_DURATION = re.compile(r"^(\d+)([smhd])$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True, slots=True)
class LogLine:
    group: str
    timestamp_ms: int
    message: str

    @property
    def record(self) -> dict[str, Any] | None:
        """The line as JSON (a Powertools log line or an EMF record), or None for plain text."""
        text = self.message.strip()
        if not text.startswith("{"):
            return None
        try:
            value = json.loads(text)
        except ValueError:
            return None
        return value if isinstance(value, dict) else None


def since_ms(value: str, *, now: float | None = None) -> int:
    """`10m`, `2h`, `1d`: that long ago, in epoch milliseconds."""
    match = _DURATION.match(value.strip())
    if match is None:
        raise ValueError(f"SINCE must be a number and a unit (s, m, h, d), e.g. 10m: not {value!r}")
    seconds = int(match.group(1)) * _SECONDS[match.group(2)]
    return int(((now if now is not None else time.time()) - seconds) * 1000)


def read(logs_client: Any, group: str, *, start_ms: int, end_ms: int | None = None) -> Iterator[LogLine]:
    """Every line of the group since `start_ms`, oldest first (a missing group has none)."""
    arguments: dict[str, Any] = {"logGroupName": group, "startTime": start_ms}
    if end_ms is not None:
        arguments["endTime"] = end_ms
    try:
        for page in logs_client.get_paginator("filter_log_events").paginate(**arguments):
            for event in page.get("events", []):
                yield LogLine(group, int(event["timestamp"]), event["message"])
    except logs_client.exceptions.ResourceNotFoundException:
        return


def follow(logs_client: Any, group: str, *, start_ms: int, interval: float = 2.0) -> Iterator[LogLine]:
    """Lines as they arrive (until interrupted); each line once."""
    seen: set[tuple[int, str]] = set()
    while True:
        newest = start_ms
        for line in read(logs_client, group, start_ms=start_ms):
            key = (line.timestamp_ms, line.message)
            if key not in seen:
                seen.add(key)
                yield line
            newest = max(newest, line.timestamp_ms)
        start_ms = newest
        time.sleep(interval)
