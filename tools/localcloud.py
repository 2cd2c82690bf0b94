"""The local cloud: LocalStack on this host (no Docker), or a LocalStack that already answers.

    python tools/localcloud.py start    # install if needed, start in the background, wait for health
    python tools/localcloud.py stop     # stop what start started (never a LocalStack it did not start)
    python tools/localcloud.py status

Standard library only: it runs before any venv exists.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATE = ROOT / ".localstack"
VENV = STATE / "venv"
LAMBDA_RUNTIME_ROOT = STATE / "lambda-runtime"
INSTALL_STAMP = STATE / "install.stamp"
EXTENSION = ROOT / "tools" / "localstack_host"
CONSTRAINTS = EXTENSION / "constraints.txt"

HOST = "127.0.0.1"
PORT = int(os.environ.get("LOCALSTACK_PORT", "4566"))
HEALTH_URL = f"http://{HOST}:{PORT}/_localstack/health"
# what one running instance owns (several can run side by side on different ports)
RUN_DIR = STATE / f"run-{PORT}"
PID_FILE = RUN_DIR / "localstack.pid"
LOG_FILE = RUN_DIR / "localstack.log"
VOLUME = RUN_DIR / "volume"
LOCALSTACK_VERSION = "2026.3.0"
# boto3 as the python3.13 Lambda runtime ships it (functions import it without a layer)
LAMBDA_RUNTIME_PACKAGES = {"python3.13": ["boto3==1.44.5"]}
READY_TIMEOUT_S = 120
SERVICES_NEEDED = ("s3", "sqs", "dynamodb", "lambda", "cloudformation", "apigateway", "logs")


class SetupError(Exception):
    """A broken set-up, explained for the user."""


def python313() -> str:
    """The Python 3.13 LocalStack needs (it uses PEP 695 syntax and warnings.deprecated)."""
    candidates = [os.environ.get("PYTHON313", ""), shutil.which("python3.13") or ""]
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates += sorted((str(p) for p in pyenv_root.glob("versions/3.13.*/bin/python3.13")), reverse=True)
    for candidate in filter(None, candidates):
        try:
            out = subprocess.run(  # noqa: S603
                [candidate, "-c", "import sys; print(sys.version_info[:2] == (3, 13))"],
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
        except OSError:
            continue
        if out.stdout.strip() == "True":
            return candidate
    raise SetupError(
        "Python 3.13 is required (LocalStack 2026.3 and the Lambda runtime python3.13) but none was found.\n"
        "Install it (e.g. `pyenv install 3.13`) or point PYTHON313 at a python3.13 binary."
    )


def health() -> dict[str, object] | None:
    """LocalStack's health document, or None when nothing answers on the port."""
    try:
        with urllib.request.urlopen(HEALTH_URL, timeout=3) as response:
            body = json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError):
        return None
    return body if isinstance(body, dict) and "services" in body else None


def port_taken() -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((HOST, PORT)) == 0


def owned_pid() -> int | None:
    """The pid of the LocalStack this tool started, if it is still running."""
    try:
        pid = int(PID_FILE.read_text())
        os.kill(pid, 0)
    except (FileNotFoundError, ValueError, ProcessLookupError, PermissionError):
        return None
    return pid


def _install_inputs_digest() -> str:
    digest = hashlib.sha256()
    for path in (CONSTRAINTS, EXTENSION / "pyproject.toml"):
        digest.update(path.read_bytes())
    digest.update(json.dumps(LAMBDA_RUNTIME_PACKAGES).encode())
    return digest.hexdigest()


def install() -> None:
    """LocalStack in its own venv (its pins clash with the project's), plus our extension."""
    wanted = _install_inputs_digest()
    if INSTALL_STAMP.exists() and INSTALL_STAMP.read_text() == wanted and (VENV / "bin" / "python").exists():
        return
    interpreter = python313()
    STATE.mkdir(exist_ok=True)
    started = time.monotonic()
    print(
        f"installing LocalStack {LOCALSTACK_VERSION} into {VENV.relative_to(ROOT)} (once, ~1-2 min) ...",
        flush=True,
    )
    if not (VENV / "bin" / "python").exists():
        _run([interpreter, "-m", "venv", str(VENV)])
    pip = [str(VENV / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    _run([*pip, f"localstack-core[runtime]=={LOCALSTACK_VERSION}", "-c", str(CONSTRAINTS)])
    _run([*pip, "--no-deps", "-e", str(EXTENSION)])
    for runtime, packages in LAMBDA_RUNTIME_PACKAGES.items():
        target = LAMBDA_RUNTIME_ROOT / runtime
        shutil.rmtree(target, ignore_errors=True)
        _run(
            [
                interpreter,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--target",
                str(target),
                *packages,
            ]
        )
    INSTALL_STAMP.write_text(wanted)
    print(f"installed in {time.monotonic() - started:.0f} s", flush=True)


def _run(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        noise = ("is ignored: it is neither a file nor a directory",)
        stderr = "\n".join(line for line in result.stderr.splitlines() if not any(n in line for n in noise))
        raise SetupError(f"command failed ({result.returncode}): {' '.join(command)}\n{stderr[-3000:]}")


def localstack_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "GATEWAY_LISTEN": f"{HOST}:{PORT}",
            "LOCALSTACK_HOST": f"{HOST}:{PORT}",
            "SKIP_SSL_CERT_DOWNLOAD": "1",
            "DISABLE_EVENTS": "1",
            "DNS_ADDRESS": "0",
            # queue URLs as http://127.0.0.1:4566/queue/...: sqs.<region>.127.0.0.1 does not resolve
            "SQS_ENDPOINT_STRATEGY": "path",
            # presigned URLs are checked as on AWS: a wrong size or checksum is rejected by S3 itself
            "S3_SKIP_SIGNATURE_VALIDATION": "0",
            "LOCALSTACK_VOLUME_DIR": str(VOLUME),
            # per instance: by default every host-mode LocalStack shares one tmp folder inside its
            # package and wipes it at start and stop, taking a running instance's state with it
            "FILESYSTEM_ROOT": str(RUN_DIR / "filesystem"),
            "TMPDIR": str(RUN_DIR / "tmp"),
            # our extension: Lambda as host processes, DynamoDB from moto
            "LAMBDA_RUNTIME_EXECUTOR": "host-process",
            "PROVIDER_OVERRIDE_DYNAMODB": "moto",
            "FILEFLOW_LAMBDA_RUNTIME_ROOT": str(LAMBDA_RUNTIME_ROOT),
            # retire idle execution environments after 10 min, as AWS roughly does
            "LAMBDA_KEEPALIVE_MS": "600000",
        }
    )
    for key in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "PYTHONPATH", "VIRTUAL_ENV"):
        env.pop(key, None)
    return env


def install_command() -> int:
    install()
    return 0


def start() -> int:
    if health() is not None:
        whose = "ours" if owned_pid() else "already running (not started by us: it will be left alone)"
        print(f"LocalStack answers on {HOST}:{PORT}: {whose}")
        return 0
    if port_taken():
        raise SetupError(
            f"port {PORT} is taken by something that is not LocalStack (no answer at {HEALTH_URL}).\n"
            f"Stop it (`ss -ltnp 'sport = :{PORT}'` shows which process) "
            "or use another port: LOCALSTACK_PORT=4567."
        )
    install()
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    (RUN_DIR / "tmp").mkdir(exist_ok=True)
    VOLUME.mkdir(parents=True, exist_ok=True)
    with LOG_FILE.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603
            [str(VENV / "bin" / "python"), "-m", "localstack.runtime.main"],
            env=localstack_env(),
            cwd=STATE,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    PID_FILE.write_text(str(process.pid))
    started = time.monotonic()
    deadline = started + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            PID_FILE.unlink(missing_ok=True)
            tail = LOG_FILE.read_text(errors="replace")[-3000:]
            raise SetupError(
                f"LocalStack exited with {process.returncode} during start-up. Log tail:\n{tail}"
            )
        state = health()
        if state is not None and _services_ready(state):
            print(
                f"LocalStack is up on http://{HOST}:{PORT} (pid {process.pid}, "
                f"{time.monotonic() - started:.0f} s); log: {LOG_FILE.relative_to(ROOT)}"
            )
            return 0
        time.sleep(0.5)
    raise SetupError(f"LocalStack did not become healthy within {READY_TIMEOUT_S} s; see {LOG_FILE}")


def _services_ready(state: dict[str, object]) -> bool:
    services = state.get("services")
    return isinstance(services, dict) and all(
        services.get(name) in ("available", "running") for name in SERVICES_NEEDED
    )


def stop() -> int:
    pid = owned_pid()
    if pid is None:
        PID_FILE.unlink(missing_ok=True)
        print("no LocalStack started by this project is running")
        return 0
    for sig, wait in ((signal.SIGTERM, 30.0), (signal.SIGKILL, 10.0)):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not _alive(pid):
                break
            time.sleep(0.2)
        else:
            continue
        break
    _kill_strays()
    PID_FILE.unlink(missing_ok=True)
    print(f"LocalStack (pid {pid}) stopped")
    return 0


def _alive(pid: int) -> bool:
    try:
        waited, _ = os.waitpid(pid, os.WNOHANG)
        if waited == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie whose parent is gone counts as dead
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def our_processes() -> list[int]:
    """Processes of the instance on PORT: LocalStack from our venv and the Lambda environments it runs."""
    markers = (str(VENV), str(EXTENSION / "fileflow_localstack_host" / "bootstrap.py"))
    port_marks = (
        f"GATEWAY_LISTEN={HOST}:{PORT}\0".encode(),
        f"LOCALSTACK_RUNTIME_ENDPOINT=http://{HOST}:{PORT}/".encode(),
    )
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if not any(marker in cmdline for marker in markers):
                continue
            environ = (proc / "environ").read_bytes()
        except OSError:
            continue
        if any(mark in environ for mark in port_marks):
            found.append(int(proc.name))
    return found


def _kill_strays() -> None:
    """A clean shutdown leaves nothing; say so loudly when something had to be killed."""
    strays = our_processes()
    for pid in strays:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    if strays:
        print(
            f"warning: killed {len(strays)} stray process(es) left after shutdown: {strays}", file=sys.stderr
        )


def status() -> int:
    state = health()
    if state is None:
        print(
            f"nothing answers on {HOST}:{PORT}" + (" (port taken by something else)" if port_taken() else "")
        )
        return 1
    owner = f"started by this project (pid {owned_pid()})" if owned_pid() else "not started by this project"
    print(f"LocalStack {state.get('version', '?')} on {HOST}:{PORT}, {owner}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=["start", "stop", "status", "install", "processes"])
    args = parser.parse_args()
    try:
        if args.command == "processes":
            print("\n".join(map(str, our_processes())))
            return 0
        return {"start": start, "stop": stop, "status": status, "install": install_command}[args.command]()
    except SetupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
