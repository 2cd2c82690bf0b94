"""Code run in a new interpreter, as a Lambda execution environment imports a handler: only the named
function folders importable, a minimal environment."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_python(code: str, pythonpath: str, **environment: str) -> subprocess.CompletedProcess[str]:
    """`python -c code` from the repository root, with PYTHONPATH and PATH only, plus `environment`."""
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={"PYTHONPATH": pythonpath, "PATH": "/usr/bin:/bin", **environment},
        capture_output=True,
        text=True,
        check=False,
    )


def json_answer(result: subprocess.CompletedProcess[str]) -> dict[str, object]:
    """The JSON object the code printed last; the code must have exited 0."""
    assert result.returncode == 0, result.stderr[-2000:]
    answer: dict[str, object] = json.loads(result.stdout.splitlines()[-1])
    return answer
