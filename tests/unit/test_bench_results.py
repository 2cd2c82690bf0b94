"""The README's results table (bench/results.py): rows -> markdown, replaced between its markers."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.figures import FIGURES_ENV, read, record
from bench.results import Row, Target, render, replace_section
from bench.run_all import _last_line, rows_of


def test_rows_render_with_their_peer_ratio_and_target_and_a_failure_is_shown() -> None:
    rows = [
        Row(
            "bench-upload",
            "upload MB/s",
            "120.0",
            "boto3 TransferManager 100.0",
            1.2,
            Target(">= 1.0x", True),
        ),
        Row("bench-images", "images/s", "3.5", "naive Pillow 1.0", 3.5),
        Row("bench-pipeline", "p50", error="exit 1: 3 file(s) not processed | timeout"),
        Row("-", "cold start", target=Target("<= 1.5x a bare Powertools handler", None)),
        Row("bench-auth", "p95", "60 ms", "GET /health 50 ms", 1.2, Target("<= 60 ms", False)),
    ]
    text = render(rows, when="2026-12-02 09:30 UTC", machine="ref (2 vCPU)")
    lines = text.splitlines()
    assert lines[0].startswith("`make bench`, 2026-12-02 09:30 UTC, ref (2 vCPU).")
    assert "shared with other work" in lines[0]
    assert lines[2] == "| benchmark | figure | ours | peer | ratio | target (#10) |"
    assert (
        lines[4]
        == "| bench-upload | upload MB/s | 120.0 | boto3 TransferManager 100.0 | 1.20x | >= 1.0x: **met** |"
    )
    assert lines[5] == "| bench-images | images/s | 3.5 | naive Pillow 1.0 | 3.50x |  |"
    # A failed bench keeps its row, with its error (a | in it escaped)
    assert (
        lines[6]
        == "| bench-pipeline | p50 | **failed**: exit 1: 3 file(s) not processed \\| timeout |  |  |  |"
    )
    assert lines[7].endswith("| <= 1.5x a bare Powertools handler: not measured |")
    assert lines[8].endswith("| 1.20x | <= 60 ms: **not met** |")


def test_the_table_replaces_only_what_lies_between_its_markers() -> None:
    readme = "intro\n<!-- bench-results:begin -->\nold table\n<!-- bench-results:end -->\noutro\n"
    assert replace_section(readme, "bench-results", "new") == (
        "intro\n<!-- bench-results:begin -->\nnew\n<!-- bench-results:end -->\noutro\n"
    )


def test_a_missing_marker_is_an_error_not_a_silent_append() -> None:
    with pytest.raises(ValueError, match="bench-results:begin"):
        replace_section("no markers", "bench-results", "new")
    with pytest.raises(ValueError, match="bench-results:end"):
        replace_section("<!-- bench-results:begin -->", "bench-results", "new")


def test_a_benchmarks_recorded_figures_become_its_rows_with_their_targets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    figures_file = tmp_path / "figures.jsonl"
    monkeypatch.setenv(FIGURES_ENV, str(figures_file))
    record("upload MB/s", "90.0 MB/s", "boto3 150.0 MB/s", 0.6, target=">= 1.0x", met=False)
    record("images/s", "3.5/s", "naive Pillow 1.0/s", 3.5)
    rows = rows_of("bench-x", read(figures_file))
    assert rows == [
        Row("bench-x", "upload MB/s", "90.0 MB/s", "boto3 150.0 MB/s", 0.6, Target(">= 1.0x", False)),
        Row("bench-x", "images/s", "3.5/s", "naive Pillow 1.0/s", 3.5, None),
    ]


def test_a_benchmark_run_alone_records_nothing_and_one_that_recorded_nothing_keeps_a_failed_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(FIGURES_ENV, raising=False)
    record("upload MB/s", "90.0 MB/s", "boto3 150.0 MB/s", 0.6)
    assert list(tmp_path.iterdir()) == []
    [row] = rows_of("bench-x", read(tmp_path / "never-written.jsonl"))
    assert row.benchmark == "bench-x"
    assert row.error == "it recorded no figures (bench/figures.py)"


def test_a_failed_benchmark_is_named_by_its_own_last_line_not_makes() -> None:
    output = "Traceback (most recent call last):\n  ...\nTimeoutError: 3 file(s) not processed\n"
    output += "make[1]: *** [Makefile:177: bench-pipeline] Error 1\n"
    assert _last_line(output) == "TimeoutError: 3 file(s) not processed"
