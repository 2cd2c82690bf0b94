"""The forge's CI workflow runs what a developer runs: the cdk-nag synth and the whole suite."""

from __future__ import annotations

from pathlib import Path

import yaml

WORKFLOW = Path(__file__).resolve().parents[2] / ".github" / "workflows" / "ci.yml"


def test_ci_runs_the_nag_synth_then_make_test_within_the_time_limit():
    workflow = yaml.safe_load(WORKFLOW.read_text())
    (job,) = workflow["jobs"].values()
    commands = [step["run"] for step in job["steps"] if "run" in step]
    assert commands.index("make synth") < commands.index("make test")
    assert job["timeout-minutes"] <= 90
    # Debian, as the project's machines: its chromium is the one the browser tests drive
    assert job["container"].endswith("-trixie")
    assert any("chromium" in command for command in commands)
