"""Execution environments forked from a pre-initialised template process (as SnapStart restores one).

Per function version and configuration (command line: interpreter, code, layers; every environment
variable but the per-environment ones) one *template* runs bootstrap's init once (sys.path, the
handler's import) and then waits on a control socket, single-threaded. A new environment is a child
the template forks: it takes its own runtime id, endpoint, port, credentials, HOME/TMPDIR and its own
stdout/stderr (a pipe passed with ``send_fds``), becomes the leader of a session of its own and dies
with the template (PR_SET_PDEATHSIG), then serves invocations as a spawned environment does.

The child is the template's child, not LocalStack's: ``ForkedProcess`` sees it end through a pidfd
and learns its exit status from the template, which reaps it and reports ``waitpid``'s result.
A template that fails its init, refuses to fork (it runs threads) or dies answers ``None``: the
executor then spawns the environment as before, which reports an init error the way it always has.

Stdlib only: this runs inside LocalStack's process.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from fileflow_localstack_host.output import OutputCapture

BOOTSTRAP = Path(__file__).with_name("bootstrap.py")
FORK_SWITCH = "FILEFLOW_LAMBDA_FORK"
# What differs between two environments of one function configuration (LocalStack assumes the role
# once per environment, so the credentials differ too); everything else must match to share a template.
PER_ENVIRONMENT_KEYS = frozenset(
    {
        "LOCALSTACK_RUNTIME_ID",
        "LOCALSTACK_RUNTIME_ENDPOINT",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "HOME",
        "TMPDIR",
    }
)
# bootstrap.py writes this request id's end marker once its init is done (its output so far is init's)
INIT_MARKER_ID = "template-init"
MESSAGE_BYTES = 1 << 20
FORK_REPLY_SECONDS = 10.0
# between the child's end (seen on its pidfd) and the template's report of its exit status
EXIT_REPORT_SECONDS = 2.0
STOP_GRACE_SECONDS = 1.0
# PR_SET_PDEATHSIG fires when the *thread* that started a process ends: start templates from one
# thread that lives as long as LocalStack, never from a short-lived request thread.
_SPAWNER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lambda-template-spawner")


def fork_enabled() -> bool:
    return os.environ.get(FORK_SWITCH, "1") != "0"


def template_key(identity: list[str], command: list[str], env: dict[str, str]) -> str:
    """Two environments share a template when everything but their per-environment values matches."""
    shared = sorted((key, value) for key, value in env.items() if key not in PER_ENVIRONMENT_KEYS)
    return hashlib.sha256(json.dumps([identity, command, shared]).encode()).hexdigest()


def per_environment(env: dict[str, str]) -> dict[str, str]:
    return {key: value for key, value in env.items() if key in PER_ENVIRONMENT_KEYS}


class Template:
    """One pre-initialised process of a function configuration, and the environments it forked."""

    def __init__(self, command: list[str], env: dict[str, str], cwd: str) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix="lambda-template-"))
        (self.workdir / "tmp").mkdir()
        env = {**env, "HOME": str(self.workdir), "TMPDIR": str(self.workdir / "tmp")}
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._control = ours
        try:
            self.process: subprocess.Popen[bytes] = _SPAWNER.submit(
                subprocess.Popen,
                [*command, "--template-fd", str(theirs.fileno())],
                pass_fds=(theirs.fileno(),),
                env=env,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            ).result()
        finally:
            theirs.close()
        assert self.process.stdout is not None
        self.capture = OutputCapture(self.process.stdout, self.workdir / "output.log")
        self.init_output = b""
        self._init_output_lock = threading.Lock()
        self._init_output_taken = False
        self.users = 0
        self._send_lock = threading.Lock()
        self._state = threading.Condition()
        self._status = "starting"  # -> ready | failed | gone
        self._replies: dict[str, dict[str, object]] = {}
        self._exits: dict[int, int] = {}
        self._next_tag = 0
        threading.Thread(target=self._read_control, name="lambda-template", daemon=True).start()

    # --- state -----------------------------------------------------------------------------------
    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def alive(self) -> bool:
        with self._state:
            return self._status in ("starting", "ready")

    @property
    def init_failed(self) -> bool:
        with self._state:
            return self._status == "failed"

    def wait_ready(self, timeout: float) -> bool:
        with self._state:
            self._state.wait_for(lambda: self._status != "starting", timeout)
            ready = self._status == "ready"
        if ready:
            with self._init_output_lock:
                if not self._init_output_taken:
                    self.init_output = self.capture.take(INIT_MARKER_ID, 5.0).encode()
                    self._init_output_taken = True
        return ready

    def _read_control(self) -> None:
        while True:
            try:
                data, fds, _, _ = socket.recv_fds(self._control, MESSAGE_BYTES, 1)
            except OSError:
                data, fds = b"", []
            for fd in fds:
                os.close(fd)
            if not data:
                with self._state:
                    # killed during init is not an init failure: a later environment tries again
                    self._status = "failed" if self._status == "failed" else "gone"
                    self._state.notify_all()
                return
            message = json.loads(data)
            with self._state:
                match message["op"]:
                    case "ready":
                        self._status = "ready"
                    case "init_failed":
                        self._status = "failed"
                    case "exited":
                        self._exits[int(message["pid"])] = int(message["status"])
                    case _:
                        self._replies[str(message["tag"])] = message
                self._state.notify_all()

    # --- environments ----------------------------------------------------------------------------
    def fork(self, env: dict[str, str], port: int, output_fd: int) -> int | None:
        """The pid of a new environment with these per-environment values, or None (then spawn one)."""
        with self._state:
            if self._status != "ready":
                return None
            self._next_tag += 1
            tag = str(self._next_tag)
        request = json.dumps({"op": "fork", "tag": tag, "env": env, "port": port}).encode()
        try:
            with self._send_lock:
                socket.send_fds(self._control, [request], [output_fd])
        except OSError:
            return None
        with self._state:
            self._state.wait_for(lambda: tag in self._replies or self._status != "ready", FORK_REPLY_SECONDS)
            reply = self._replies.pop(tag, None)
        if reply is None or reply["op"] != "forked":
            return None
        return int(str(reply["pid"]))

    def environment(
        self, env: dict[str, str], port: int, echo_to: Path
    ) -> tuple[ForkedProcess, OutputCapture] | None:
        """A forked environment of `env`'s per-environment values and its output, or None."""
        read_fd, write_fd = os.pipe()
        try:
            pid = self.fork(per_environment(env), port, write_fd)
        finally:
            os.close(write_fd)
        if pid is None:
            os.close(read_fd)
            return None
        stream = open(read_fd, "rb")  # noqa: SIM115 - the capture's reader thread owns and closes it
        return ForkedProcess(pid, self), OutputCapture(stream, echo_to, preamble=self.init_output)

    def exit_status(self, pid: int, timeout: float) -> int | None:
        """The child's exit status as Popen gives it (negative: killed by that signal), once reported."""
        with self._state:
            self._state.wait_for(lambda: pid in self._exits or self._status == "gone", timeout)
            return self._exits.pop(pid, None)

    def stop(self) -> None:
        """Closing the control socket ends the template; then its group is killed, to be sure."""
        with contextlib.suppress(OSError):
            self._control.shutdown(socket.SHUT_RDWR)
        for sig, wait in ((None, STOP_GRACE_SECONDS), (signal.SIGKILL, 5.0)):
            if sig is not None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(self.pid, sig)
            try:
                self.process.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
        self._control.close()
        shutil.rmtree(self.workdir, ignore_errors=True)


class ForkedProcess:
    """A forked environment, with the part of Popen's interface the executor uses."""

    def __init__(self, pid: int, template: Template) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self._template = template
        self._lock = threading.Lock()
        try:
            self._pidfd: int | None = os.pidfd_open(pid)
        except ProcessLookupError:  # already ended: the template has its status
            self._pidfd = None

    def poll(self) -> int | None:
        return self.returncode if self.returncode is not None or not self._ended(0) else self._collect()

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None and not self._ended(timeout):
            raise subprocess.TimeoutExpired(f"environment {self.pid}", timeout or 0)
        return self._collect()

    def _ended(self, timeout: float | None) -> bool:
        pidfd = self._pidfd
        if pidfd is None:
            return True
        poller = select.poll()
        poller.register(pidfd, select.POLLIN)
        return bool(poller.poll(None if timeout is None else int(timeout * 1000)))

    def _collect(self) -> int:
        with self._lock:
            if self.returncode is None:
                status = self._template.exit_status(self.pid, EXIT_REPORT_SECONDS)
                # no report: the template died, and PR_SET_PDEATHSIG killed the environment
                self.returncode = status if status is not None else -signal.SIGKILL
                if self._pidfd is not None:
                    os.close(self._pidfd)
                    self._pidfd = None
            return self.returncode


class TemplateRegistry:
    """The live template of each function configuration, shared by the environments forked from it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._templates: dict[str, Template] = {}
        self._init_failed: set[str] = set()

    def acquire(self, key: str, start: Callable[[], Template], ready_timeout: float) -> Template | None:
        """The configuration's ready template (started if none is alive), or None: spawn instead."""
        with self._lock:
            if key in self._init_failed:
                return None
            template = self._templates.get(key)
            if template is None or not template.alive:
                template = self._templates[key] = start()
            template.users += 1
        if template.wait_ready(ready_timeout):
            return template
        with self._lock:
            if template.init_failed:
                # the spawn reports the init error; the same code would fail the same way again
                self._init_failed.add(key)
        self.release(template)
        return None

    def release(self, template: Template) -> None:
        """Stops the template once no environment of it is left."""
        with self._lock:
            template.users -= 1
            if template.users > 0:
                return
            for key, known in list(self._templates.items()):
                if known is template:
                    del self._templates[key]
        template.stop()


TEMPLATES = TemplateRegistry()
