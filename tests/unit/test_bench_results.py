"""The README's results table (bench/results.py): rows -> markdown, replaced between its markers."""

from __future__ import annotations

import pytest

from bench.results import Row, Target, render, replace_section


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
