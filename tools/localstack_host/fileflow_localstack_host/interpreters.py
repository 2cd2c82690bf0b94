"""Which host interpreter and which runtime-provided packages serve a Lambda runtime."""

import glob
import os
import shutil
from pathlib import Path

PYTHON_RUNTIME_PREFIX = "python"


class UnsupportedRuntimeError(Exception):
    """The function's runtime cannot run as a host process here."""


def python_version_of(runtime: str) -> str:
    """``python3.13`` -> ``3.13``; any other runtime family is unsupported."""
    if not runtime or not runtime.startswith(PYTHON_RUNTIME_PREFIX):
        raise UnsupportedRuntimeError(
            f"runtime {runtime!r} is not supported by the host-process executor: only python3.x "
            "runtimes run without Docker"
        )
    return runtime.removeprefix(PYTHON_RUNTIME_PREFIX)


def find_interpreter(runtime: str) -> str:
    """The interpreter for ``runtime``.

    Looked up, in order: ``FILEFLOW_LAMBDA_PYTHON_<major>_<minor>`` (an explicit path), pyenv's
    versions, then ``python<major>.<minor>`` on PATH.
    """
    version = python_version_of(runtime)
    override = os.environ.get(f"FILEFLOW_LAMBDA_PYTHON_{version.replace('.', '_')}")
    if override:
        if not os.access(override, os.X_OK):
            raise UnsupportedRuntimeError(f"{override} (set for {runtime}) is not an executable")
        return override
    pyenv_root = os.environ.get("PYENV_ROOT", str(Path.home() / ".pyenv"))
    candidates = sorted(glob.glob(f"{pyenv_root}/versions/{version}.*/bin/python{version}"), reverse=True)
    if candidates:
        return candidates[0]
    on_path = shutil.which(f"python{version}")
    # a pyenv shim needs pyenv's own environment, which a sandboxed function does not have
    if on_path and "/shims/" not in on_path:
        return on_path
    raise UnsupportedRuntimeError(
        f"no Python {version} interpreter for runtime {runtime}: install Python {version} "
        f"(for example with pyenv) or set FILEFLOW_LAMBDA_PYTHON_{version.replace('.', '_')}"
    )


def runtime_packages_dir(runtime: str) -> Path | None:
    """Where the packages that AWS's runtime ships (boto3, botocore) are installed for ``runtime``.

    ``FILEFLOW_LAMBDA_RUNTIME_ROOT/<runtime>``; None when not provided.
    """
    root = os.environ.get("FILEFLOW_LAMBDA_RUNTIME_ROOT")
    if not root:
        return None
    path = Path(root) / runtime
    return path if path.is_dir() else None
