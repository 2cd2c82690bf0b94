"""`make bench`: every benchmark, one after the other, and the README's results table (bench/results.py).

Each benchmark runs as its own make target (the same environment as when run alone); its output is kept
and read for its figures. A benchmark that fails keeps its row, with its error. Targets of issue #10 that no
benchmark measures yet are listed as not measured.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from bench.results import MARKER, Row, Target, render, replace_section

README = Path(__file__).resolve().parent.parent / "README.md"
type Parser = Callable[[str], list[Row]]


def _last_line(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    return lines[-1][:160] if lines else ""


def upload(output: str) -> list[Row]:
    match = re.search(r"ratio fileflow / boto3: ([\d.]+)", output)
    if not match:
        return [Row("bench-upload", "upload MB/s", error=f"no ratio in its output: {_last_line(output)}")]
    ratio = float(match.group(1))
    return [
        Row(
            "bench-upload",
            "upload MB/s (median)",
            "SDK path",
            "boto3 TransferManager",
            ratio,
            Target(">= 1.0x boto3 TransferManager", ratio >= 1.0),
        )
    ]


def auth(output: str) -> list[Row]:
    pattern = (
        r"(?P<name>[^\n:]+): ours median (?P<ours>[\d.]+) (?P<unit>\S+) \(p95 (?P<p95>[\d.]+)\), "
        r"peer median (?P<peer>[\d.]+) \S+ \(p95 (?P<peer95>[\d.]+)\), ratio ours / peer (?P<ratio>[\d.]+)"
    )
    rows = []
    for match in re.finditer(pattern, output):
        deployed = "upload-tokens" in match["name"]
        target = None
        if deployed:
            met = float(match["p95"]) <= 60
            target = Target("warm single-client p95 <= 60 ms (an authenticated route, not initiate)", met)
        unit = match["unit"]
        rows.append(
            Row(
                "bench-auth",
                match["name"].strip(),
                f"{match['ours']} {unit} (p95 {match['p95']})",
                f"{match['peer']} {unit} (p95 {match['peer95']})",
                float(match["ratio"]),
                target,
            )
        )
    return rows or [
        Row("bench-auth", "auth overhead", error=f"no figures in its output: {_last_line(output)}")
    ]


def summary(target: str) -> Parser:
    """Benchmarks whose figures are not read yet: the run's last line (their peer and ratio are in it)."""

    def parse(output: str) -> list[Row]:
        return [Row(target, "see its output", _last_line(output))]

    return parse


BENCHES: tuple[tuple[str, Parser], ...] = (
    ("bench-upload", upload),
    ("bench-auth", auth),
    ("bench-images", summary("bench-images")),
    ("bench-analysis", summary("bench-analysis")),
    ("bench-ai", summary("bench-ai")),
    ("bench-pipeline", summary("bench-pipeline")),
    ("bench-priority", summary("bench-priority")),
    ("bench-cost", summary("bench-cost")),
)
NOT_MEASURED = (
    Row("-", "API p95, 100 concurrent uploads", target=Target("<= 1.0 s (initiate, sign, complete)", None)),
    Row("-", "API cold start", target=Target("<= 1.5x a bare Powertools handler", None)),
)


def run(target: str, parse: Parser) -> list[Row]:
    done = subprocess.run(
        ["make", "--no-print-directory", target], capture_output=True, text=True, check=False
    )
    print(done.stdout, end="")
    if done.returncode != 0:
        return [Row(target, "-", error=f"exit {done.returncode}: {_last_line(done.stderr or done.stdout)}")]
    return parse(done.stdout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", nargs="*", help="these make targets only (the others' rows say so)")
    args = parser.parse_args(argv)
    rows: list[Row] = []
    for target, parse in BENCHES:
        if args.only and target not in args.only:
            rows.append(Row(target, "-", "not run in this `make bench`"))
            continue
        rows.extend(run(target, parse))
    rows.extend(NOT_MEASURED)
    machine = f"{platform.node()} ({os.cpu_count()} vCPU)"
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    table = render(rows, when=when, machine=machine)
    README.write_text(replace_section(README.read_text(), MARKER, table))
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
