"""The README's benchmark results table: rows -> markdown, written between markers (`make bench`).

Pure: bench/run_all.py runs the benchmarks and builds the rows; this module only renders and replaces.
"""

from __future__ import annotations

from dataclasses import dataclass

MARKER = "bench-results"


@dataclass(frozen=True)
class Target:
    """A #10 target: its bound, and whether the figure met it (None: not measured)."""

    text: str
    met: bool | None


@dataclass(frozen=True)
class Row:
    benchmark: str  # the make target
    figure: str
    ours: str = ""
    peer: str = ""  # the named peer and its figure
    ratio: float | None = None
    target: Target | None = None
    error: str | None = None  # the bench failed (or did not run): shown, never dropped


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _target(row: Row) -> str:
    if row.target is None:
        return ""
    verdict = {True: "**met**", False: "**not met**", None: "not measured"}[row.target.met]
    return f"{row.target.text}: {verdict}"


def render(rows: list[Row], *, when: str, machine: str) -> str:
    lines = [
        f"`make bench`, {when}, {machine}. The machine was shared with other work: absolute figures are "
        "pessimistic; the ratios compare peers measured in the same run.",
        "",
        "| benchmark | figure | ours | peer | ratio | target (#10) |",
        "|---|---|---:|---|---:|---|",
    ]
    for row in rows:
        if row.error is not None:
            ours, peer, ratio = f"**failed**: {row.error}", "", ""
        else:
            ours, peer = row.ours, row.peer
            ratio = "" if row.ratio is None else f"{row.ratio:.2f}x"
        cells = (row.benchmark, row.figure, ours, peer, ratio, _target(row))
        lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    return "\n".join(lines)


def replace_section(text: str, name: str, body: str) -> str:
    """`text` with what lies between `<!-- name:begin -->` and `<!-- name:end -->` replaced by `body`."""
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    head, found, rest = text.partition(begin)
    if not found:
        raise ValueError(f"no {begin} marker")
    _, found, tail = rest.partition(end)
    if not found:
        raise ValueError(f"no {end} marker after {begin}")
    return f"{head}{begin}\n{body}\n{end}{tail}"
