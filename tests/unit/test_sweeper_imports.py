"""The sweeper ships the runtime and common layers only (infra/constructs/sweeper.py), not the API's."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# What only the API layer (layers/api/requirements.txt) carries.
API_LAYER_ONLY = ("fastapi", "starlette", "mangum")


def test_the_sweeper_handler_imports_without_the_api_layer():
    # Given an interpreter in which the API layer's packages cannot be imported
    blocked = "; ".join(f"sys.modules[{name!r}] = None" for name in API_LAYER_ONLY)
    code = f"import sys; {blocked}; import fileflow_api.uploads.sweeper_handler"
    # When the sweeper's handler module is imported, as Lambda does at init
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={"PYTHONPATH": "functions/api:functions/common", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    # Then it imports (else the deployed sweeper fails with Runtime.ImportModuleError)
    assert result.returncode == 0, result.stderr[-2000:]
