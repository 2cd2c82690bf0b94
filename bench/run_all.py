"""`make bench`: every benchmark, one after the other, and the README's results table (bench/results.py).

Each benchmark runs as its own make target (the same environment as when run alone); its output is
shown, and the figures it records (bench/figures.py) make its rows. A benchmark that fails keeps its row,
with its error. Targets of issue #10 that no benchmark measures yet are listed as not measured.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import tempfile
import time
from pathlib import Path

from bench.figures import FIGURES_ENV, Figure, read
from bench.results import MARKER, Row, Target, render, replace_section

README = Path(__file__).resolve().parent.parent / "README.md"


def _last_line(output: str) -> str:
    """The output's last line that is the benchmark's own (not make's `*** [...] Error 1`)."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    own = [line for line in lines if not line.startswith(("make:", "make["))]
    return (own or lines or [""])[-1][:160]


BENCHES = (
    "bench-upload",
    "bench-auth",
    "bench-api",
    "bench-cold-start",
    "bench-images",
    "bench-analysis",
    "bench-ai",
    "bench-pipeline",
    "bench-priority",
    "bench-cost",
)
NOT_MEASURED: tuple[Row, ...] = ()


def rows_of(target: str, figures: list[Figure]) -> list[Row]:
    """A benchmark's recorded figures as the table's rows; one that recorded none keeps a row saying so."""
    if not figures:
        return [Row(target, "-", error="it recorded no figures (bench/figures.py)")]
    return [
        Row(
            target,
            figure.figure,
            figure.ours,
            figure.peer,
            figure.ratio,
            None if figure.target is None else Target(figure.target, figure.met),
        )
        for figure in figures
    ]


def run(target: str) -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="fileflow-bench-") as scratch:
        figures_file = Path(scratch) / "figures.jsonl"
        done = subprocess.run(
            ["make", "--no-print-directory", target],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, FIGURES_ENV: str(figures_file)},
        )
        print(done.stdout, end="")
        figures = read(figures_file)
    if done.returncode != 0:
        failed = Row(target, "-", error=f"exit {done.returncode}: {_last_line(done.stderr or done.stdout)}")
        return [*rows_of(target, figures), failed] if figures else [failed]
    return rows_of(target, figures)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", nargs="*", help="these make targets only (the others' rows say so)")
    args = parser.parse_args(argv)
    rows: list[Row] = []
    for target in BENCHES:
        if args.only and target not in args.only:
            rows.append(Row(target, "-", "not run in this `make bench`"))
            continue
        rows.extend(run(target))
    rows.extend(NOT_MEASURED)
    machine = f"{platform.node()} ({os.cpu_count()} vCPU)"
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    table = render(rows, when=when, machine=machine)
    README.write_text(replace_section(README.read_text(), MARKER, table))
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
