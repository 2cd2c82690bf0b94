"""What the CLI prints: results on stdout (JSON with --json), progress and errors on stderr."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, is_dataclass
from typing import Any

from rich.console import Console
from rich.table import Table

# Exit codes (docs/client.md, "Exit codes").
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_NOT_FOUND = 3
EXIT_AUTH = 4
EXIT_PARTIAL = 5
# --stop-after-parts: the process ends as if it had crashed (tests of resume in a new process)
EXIT_STOPPED = 75
EXIT_INTERRUPTED = 130


class Output:
    def __init__(self, *, as_json: bool, out: Console | None = None, err: Console | None = None) -> None:
        self.as_json = as_json
        self.out = out or Console(highlight=False)
        self.err = err or Console(stderr=True, highlight=False)

    def json(self, value: Any) -> None:
        """One JSON document on one line (so a stream of them is JSON lines)."""
        self.out.print(json.dumps(plain(value), separators=(",", ":")), soft_wrap=True, markup=False)

    def json_lines(self, values: Iterable[Any]) -> None:
        for value in values:
            self.json(value)

    def fields(self, values: Mapping[str, Any]) -> None:
        table = Table(show_header=False, box=None, pad_edge=False)
        for name, value in values.items():
            table.add_row(name.replace("_", " "), _cell(value))
        self.out.print(table)

    def table(self, headers: Iterable[str], rows: Iterable[Iterable[Any]]) -> None:
        table = Table(*headers, box=None, pad_edge=False, header_style="bold")
        for row in rows:
            table.add_row(*(_cell(value) for value in row))
        self.out.print(table)

    def error(self, message: str) -> None:
        self.err.print(f"[red]error:[/] {message}", soft_wrap=True, highlight=False, markup=True)


def plain(value: Any) -> Any:
    """Dataclasses, tuples and mappings as JSON-ready values."""
    if is_dataclass(value) and not isinstance(value, type):
        return plain(asdict(value))
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if hasattr(value, "__fspath__"):
        return str(value)
    return value


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value)
    if isinstance(value, Mapping):
        return json.dumps(plain(value))
    return str(value)


def size(count: int | None) -> str:
    if count is None:
        return ""
    if count < 1024:
        return f"{count} B"
    value = count / 1024
    for unit in ("KiB", "MiB"):
        if value < 1024:
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"
