"""The reliability figures of issue #9: each test records its rows, `make test-reliability` prints them.

The suite spans several pytest sessions (integration, e2e) and xdist workers, so every row is a JSON file
of its own, `.fileflow/reliability/<table>/<row>.json`, holding its table's title and columns as well:
a test defines its `Table` and records rows, and `python -m tests.reliability.report` renders every table
found as Markdown (the README's "Reliability" section carries that output). Figures are reported, never
asserted.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
# Where the rows go; `make test-reliability` empties it first, so the table is of one run.
REPORT_DIR = Path(os.environ.get("FILEFLOW_RELIABILITY_DIR", ROOT / ".fileflow" / "reliability"))
# Tables render in this order (by `Table.name`); any other table follows, by name.
ORDER = ("load", "latency", "faults", "corpus")


@dataclass(frozen=True, slots=True)
class Table:
    name: str  # the folder of its rows; letters, digits and dashes
    title: str
    columns: tuple[str, ...]

    def record(self, row_id: str, values: Mapping[str, object]) -> Path:
        """Writes (or replaces) one row; `values` holds every column (a missing one renders as `-`)."""
        unknown = set(values) - set(self.columns)
        if unknown:
            raise ValueError(f"{self.name}: no column {sorted(unknown)}")
        folder = REPORT_DIR / self.name
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', row_id)}.json"
        row = {"title": self.title, "columns": list(self.columns), "id": row_id, "values": dict(values)}
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(row, default=str, indent=1), encoding="utf-8")
        temporary.replace(path)
        return path


# Every suite's faults go in one table: its rows are written by the integration and e2e tests alike.
FAULTS = Table(
    "faults",
    "Faults: injected, and what came of them (nothing lost, nothing doubled)",
    ("fault", "injected", "outcome", "suite"),
)


def percentiles(samples: Sequence[float], points: Sequence[int] = (50, 95, 99)) -> dict[int, float]:
    """Percentiles of the samples (inclusive method: p100 is the largest); one sample is every percentile."""
    if not samples:
        return {}
    if len(samples) == 1:
        return dict.fromkeys(points, float(samples[0]))
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return {point: cuts[point - 1] if point < 100 else max(samples) for point in points}


def _rows(folder: Path) -> list[dict[str, Any]]:
    rows = []
    for path in sorted(folder.glob("*.json")):
        try:
            rows.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue  # a row being written right now
    return rows


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.0f}" if value >= 100 else f"{value:.1f}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def render(report_dir: Path | None = None) -> str:
    """Every recorded table, as Markdown; an empty string when nothing was recorded."""
    base = report_dir or REPORT_DIR
    if not base.is_dir():
        return ""
    folders = sorted(
        (folder for folder in base.iterdir() if folder.is_dir()),
        key=lambda folder: (ORDER.index(folder.name) if folder.name in ORDER else len(ORDER), folder.name),
    )
    blocks = []
    for folder in folders:
        rows = _rows(folder)
        if not rows:
            continue
        columns: list[str] = rows[-1]["columns"]
        lines = [f"**{rows[-1]['title']}**", "", "| " + " | ".join(columns) + " |"]
        lines.append("| " + " | ".join("---" for _ in columns) + " |")
        for row in rows:
            lines.append("| " + " | ".join(_cell(row["values"].get(column)) for column in columns) + " |")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def main() -> int:
    text = render()
    print(text or f"no reliability figures recorded under {REPORT_DIR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
