"""A benchmark's figures, machine-readable: what `make bench` (bench/run_all.py) puts in the README.

A benchmark prints its own tables for people and, beside them, records each headline figure with
`record()`. When `FILEFLOW_BENCH_FIGURES` names a file (bench/run_all.py sets it for each benchmark it runs),
each figure is appended to it as one JSON line; otherwise `record()` does nothing, so a benchmark run alone
behaves as before.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

FIGURES_ENV = "FILEFLOW_BENCH_FIGURES"


@dataclass(frozen=True)
class Figure:
    figure: str  # what is measured, e.g. "upload MB/s (median)"
    ours: str  # our figure, with its unit
    peer: str  # the named peer and its figure, measured in the same run
    ratio: float | None  # ours / peer, in the figure's own sense (see the benchmark's docstring)
    target: str | None = None  # the #10 target this figure answers, if any
    met: bool | None = None  # whether it is met (None: no target, or not decidable)


def record(
    figure: str,
    ours: str,
    peer: str,
    ratio: float | None,
    *,
    target: str | None = None,
    met: bool | None = None,
) -> None:
    path = os.environ.get(FIGURES_ENV)
    if not path:
        return
    line = json.dumps(asdict(Figure(figure, ours, peer, ratio, target, met)), ensure_ascii=False)
    with Path(path).open("a", encoding="utf-8") as out:
        out.write(line + "\n")


def read(path: Path) -> list[Figure]:
    """The figures a benchmark recorded, in order; none if it recorded none (or never started)."""
    if not path.exists():
        return []
    return [Figure(**json.loads(line)) for line in path.read_text(encoding="utf-8").splitlines() if line]
