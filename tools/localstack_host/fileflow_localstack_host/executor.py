"""A LocalStack Lambda runtime executor that runs each execution environment as a host process.

LocalStack's default executor starts a Docker container per environment; this one starts
``bootstrap.py`` under the interpreter matching the function's runtime, with only the function's
code, its layers and the runtime-provided packages importable. It enforces the function timeout
(the process group is killed and ``Task timed out`` returned; the next invocation starts a fresh
process, as AWS re-initialises a sandbox after a timeout) and the function's memory size (the group
is killed and ``Runtime.OutOfMemory`` returned, see memory.py), and hands each invocation's output to
LocalStack, which writes it to CloudWatch Logs (``/aws/lambda/<function>``).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path

import requests
from localstack import config
from localstack.http import Request, Response
from localstack.services.lambda_.invocation.executor_endpoint import ExecutorEndpoint, StatusErrorException
from localstack.services.lambda_.invocation.lambda_models import FunctionVersion, InvocationResult
from localstack.services.lambda_.invocation.plugins import RuntimeExecutorPlugin
from localstack.services.lambda_.invocation.runtime_executor import LambdaRuntimeException, RuntimeExecutor
from localstack.utils.net import get_free_tcp_port

from fileflow_localstack_host.interpreters import (
    UnsupportedRuntimeError,
    find_interpreter,
    python_version_of,
    runtime_packages_dir,
)
from fileflow_localstack_host.memory import MemoryWatch

LOG = logging.getLogger(__name__)

BOOTSTRAP = Path(__file__).with_name("bootstrap.py")
END_MARKER_PREFIX = b"\x1efileflow-invocation-end:"
# How long to wait for the end-of-invocation marker once the result has arrived.
LOG_DRAIN_SECONDS = 5.0
# Grace between SIGTERM and SIGKILL when an environment is stopped.
STOP_GRACE_SECONDS = 1.0
NO_PROXY = {"http": "", "https": ""}
OUT_OF_MEMORY = "Runtime.OutOfMemory"
KILLED = "Runtime exited with error: signal: killed"


def out_of_memory_error(request_id: str) -> bytes:
    return json.dumps(
        {"errorType": OUT_OF_MEMORY, "errorMessage": f"RequestId: {request_id} Error: {KILLED}"}
    ).encode()


class OutputCapture:
    """Reads a process's merged stdout/stderr and splits it into per-invocation chunks."""

    def __init__(self, stream, echo_to: Path) -> None:
        self._stream = stream
        self._lock = threading.Lock()
        self._pending = bytearray()
        self._completed: dict[str, bytes] = {}
        self._arrived = threading.Condition(self._lock)
        self._echo = echo_to.open("ab")
        self._thread = threading.Thread(target=self._read, name="lambda-output", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        buffer = b""
        try:
            for chunk in iter(lambda: self._stream.read1(65536), b""):
                self._echo.write(chunk)
                self._echo.flush()
                buffer += chunk
                buffer = self._split(buffer)
        finally:
            with self._arrived:
                self._pending += buffer
                self._arrived.notify_all()
            self._echo.close()

    def _split(self, buffer: bytes) -> bytes:
        """Moves everything up to each end marker into a completed chunk; returns the rest."""
        while (start := buffer.find(END_MARKER_PREFIX)) != -1:
            end = buffer.find(b"\x1e\n", start + len(END_MARKER_PREFIX))
            if end == -1:
                break
            request_id = buffer[start + len(END_MARKER_PREFIX) : end].decode()
            with self._arrived:
                self._completed[request_id] = bytes(self._pending + buffer[:start])
                self._pending.clear()
                self._arrived.notify_all()
            buffer = buffer[end + 2 :]
        # keep a possible partial marker in the buffer; the rest is pending output
        keep_from = buffer.rfind(b"\x1e")
        if keep_from == -1:
            with self._lock:
                self._pending += buffer
            return b""
        with self._lock:
            self._pending += buffer[:keep_from]
        return buffer[keep_from:]

    def take(self, request_id: str, timeout: float) -> str:
        """The output of a finished invocation (waits for its end marker)."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while request_id not in self._completed and time.monotonic() < deadline:
                self._arrived.wait(deadline - time.monotonic())
            output = self._completed.pop(request_id, None)
            if output is None:
                output = bytes(self._pending)
                self._pending.clear()
        return output.decode(errors="replace")

    def take_pending(self, settle: float = 0.2) -> str:
        """Whatever was written since the last finished invocation (for a killed process)."""
        time.sleep(settle)  # let the reader thread drain what the process wrote just before dying
        with self._lock:
            output = bytes(self._pending)
            self._pending.clear()
        return output.decode(errors="replace")


class HostProcessEndpoint(ExecutorEndpoint):
    """Ignores a result that arrives after the invocation already ended (timed out, process killed)."""

    def invocation_response(self, request: Request, req_id: str) -> Response:
        if self.invocation_future is None or self.invocation_future.done():
            return Response(status=HTTPStatus.GONE)
        return super().invocation_response(request, req_id)

    def invocation_error(self, request: Request, req_id: str) -> Response:
        if self.invocation_future is None or self.invocation_future.done():
            return Response(status=HTTPStatus.GONE)
        return super().invocation_error(request, req_id)


class HostProcessExecutor(RuntimeExecutor):
    """One execution environment = one process group of the runtime's interpreter."""

    def __init__(self, id: str, function_version: FunctionVersion) -> None:
        super().__init__(id=id, function_version=function_version)
        self.port = get_free_tcp_port()
        self.executor_endpoint = HostProcessEndpoint(
            id, container_address="127.0.0.1", container_port=self.port
        )
        self.process: subprocess.Popen[bytes] | None = None
        self.capture: OutputCapture | None = None
        self.memory: MemoryWatch | None = None
        self._request_id = ""
        self.env_vars: dict[str, str] = {}
        self.workdir = Path(tempfile.mkdtemp(prefix=f"lambda-{function_version.id.function_name}-{id}-"))
        self._invoke_lock = threading.Lock()
        self._stopping = False

    # --- lifecycle -------------------------------------------------------------------------------
    def start(self, env_vars: dict[str, str]) -> None:
        self.env_vars = {key: str(value) for key, value in env_vars.items()}
        self.executor_endpoint.start()
        self._spawn()
        self.executor_endpoint.wait_for_startup()

    def _command(self) -> list[str]:
        runtime = str(self.function_version.config.runtime)
        interpreter = find_interpreter(runtime)
        code = self.function_version.config.code
        if code is None:
            raise LambdaRuntimeException("container image functions are not supported without Docker")
        command = [
            interpreter,
            "-I",
            "-S",
            "-B",
            "-u",
            "-X",
            "utf8",
            str(BOOTSTRAP),
            "--port",
            str(self.port),
        ]
        command += ["--task-root", str(code.get_unzipped_code_location())]
        for layer in self.function_version.config.layers:
            if layer.code is not None:
                command += ["--layer", str(layer.code.get_unzipped_code_location())]
        packages = runtime_packages_dir(runtime)
        if packages is not None:
            command += ["--runtime-dir", str(packages)]
        return command

    def _environment(self) -> dict[str, str]:
        code = self.function_version.config.code
        task_root = str(code.get_unzipped_code_location()) if code is not None else ""
        tmp = self.workdir / "tmp"
        tmp.mkdir(exist_ok=True)
        env = dict(self.env_vars)
        env.update(
            {
                "LAMBDA_TASK_ROOT": task_root,
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "HOME": str(self.workdir),
                "TMPDIR": str(tmp),
                "LANG": "C.UTF-8",
            }
        )
        return env

    def _spawn(self) -> None:
        try:
            command = self._command()
        except UnsupportedRuntimeError as exc:
            raise LambdaRuntimeException(str(exc)) from exc
        self.executor_endpoint.startup_future = Future()
        self.process = subprocess.Popen(  # noqa: S603 - the interpreter and bootstrap are ours
            command,
            env=self._environment(),
            cwd=command[command.index("--task-root") + 1],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stop() kills handler subprocesses too
        )
        assert self.process.stdout is not None
        self.capture = OutputCapture(self.process.stdout, self.workdir / "output.log")
        self.memory = MemoryWatch(self.process.pid, self.function_version.config.memory_size).start()
        threading.Thread(
            target=self._watch, args=(self.process, self.memory), name="lambda-watch", daemon=True
        ).start()
        LOG.debug(
            "started %s for %s (pid %s)", self.id, self.function_version.qualified_arn, self.process.pid
        )

    def _watch(self, process: subprocess.Popen[bytes], memory: MemoryWatch) -> None:
        """Turns an unexpected exit into a startup or invocation error instead of a hang."""
        code = process.wait()
        memory.stop()
        if self._stopping or process is not self.process:
            return
        message = (
            f"Runtime exited with error: exit status {code}"
            if code >= 0
            else f"Runtime exited with error: signal: {signal.Signals(-code).name.lower()}"
        )
        payload = (
            out_of_memory_error(self._request_id)
            if memory.exceeded
            else json.dumps({"errorType": "Runtime.ExitError", "errorMessage": message}).encode()
        )
        startup = self.executor_endpoint.startup_future
        if startup is not None and not startup.done():
            output = self.capture.take_pending() if self.capture is not None else ""
            LOG.warning(
                "environment %s of %s failed to start: %s\n%s",
                self.id,
                self.function_version.qualified_arn,
                message,
                output,
            )
            startup.set_exception(StatusErrorException("Environment startup failed", payload=payload))
            return
        pending = self.executor_endpoint.invocation_future
        if pending is not None and not pending.done():
            pending.set_result(InvocationResult("", payload, is_error=True, logs=None))

    def stop(self) -> None:
        self._stopping = True
        if self.memory is not None:
            self.memory.stop()
        self._kill()
        shutil.rmtree(self.workdir, ignore_errors=True)
        try:
            self.executor_endpoint.shutdown()
        except Exception as exc:  # already unregistered
            LOG.debug("executor endpoint %s already shut down: %s", self.id, exc)

    def _kill(self) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        for sig, wait in ((signal.SIGTERM, STOP_GRACE_SECONDS), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(process.pid, sig)
            except ProcessLookupError:
                return
            try:
                process.wait(timeout=wait)
                return
            except subprocess.TimeoutExpired:
                continue

    # --- invocation ------------------------------------------------------------------------------
    def invoke(self, payload: dict[str, str]) -> InvocationResult:
        with self._invoke_lock:
            if self.process is None or self.process.poll() is not None:
                # a timeout or crash ended the previous process: initialise a fresh one
                self._spawn()
                self.executor_endpoint.wait_for_startup()
            return self._invoke(payload)

    def _invoke(self, payload: dict[str, str]) -> InvocationResult:
        request_id = payload["invoke-id"]
        self._request_id = request_id
        timeout = float(self.function_version.config.timeout)
        endpoint = self.executor_endpoint
        endpoint.invocation_future = Future()
        started = time.monotonic()
        response = requests.post(
            f"http://127.0.0.1:{self.port}/invoke", json=payload, proxies=NO_PROXY, timeout=10
        )
        if not response.ok:
            raise LambdaRuntimeException(
                f"environment {self.id} refused the invocation: {response.status_code}"
            )
        try:
            result = endpoint.invocation_future.result(timeout=timeout)
            timed_out = False
        except FutureTimeout:
            timed_out = True
        duration_ms = (time.monotonic() - started) * 1000
        assert self.capture is not None
        assert self.memory is not None
        # A spike between two samples passed the limit too: the sandbox would have been killed.
        out_of_memory = self.memory.check()
        if out_of_memory and not timed_out:
            self._kill()
            output = self.capture.take_pending()
            output += f"{datetime.now(UTC).isoformat(timespec='milliseconds')} {request_id} Error: {KILLED}\n"
            result = InvocationResult(request_id, out_of_memory_error(request_id), is_error=True, logs=None)
        elif timed_out:
            self._kill()
            output = self.capture.take_pending()
            message = f"Task timed out after {timeout:.2f} seconds"
            output += f"{datetime.now(UTC).isoformat(timespec='milliseconds')} {request_id} {message}\n"
            error = {
                "errorType": "Sandbox.Timedout",
                "errorMessage": f"RequestId: {request_id} Error: {message}",
            }
            result = InvocationResult(request_id, json.dumps(error).encode(), is_error=True, logs=None)
        elif self.process is not None and self.process.poll() is not None:
            output = self.capture.take_pending()
        else:
            output = self.capture.take(request_id, LOG_DRAIN_SECONDS)
        logs = self._frame(request_id, output, duration_ms, timed_out, out_of_memory)
        return InvocationResult(request_id or result.request_id, result.payload, result.is_error, logs)

    def _frame(
        self, request_id: str, output: str, duration_ms: float, timed_out: bool, out_of_memory: bool
    ) -> str:
        """START / END / REPORT lines around the invocation's output, as Lambda writes them."""
        if output and not output.endswith("\n"):
            output += "\n"
        memory = self.function_version.config.memory_size
        # Lambda reports at most the memory size: the sandbox is killed as it passes it.
        used = min(self.memory.peak_mb(), memory) if self.memory is not None else 0
        status = "\tStatus: timeout" if timed_out else ""
        if out_of_memory:
            status = f"\tStatus: error\tError Type: {OUT_OF_MEMORY}"
        return (
            f"START RequestId: {request_id} Version: {self.function_version.id.qualifier}\n"
            f"{output}"
            f"END RequestId: {request_id}\n"
            f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
            f"Billed Duration: {int(duration_ms) + 1} ms\tMemory Size: {memory} MB\t"
            f"Max Memory Used: {used} MB{status}\n"
        )

    # --- addressing ------------------------------------------------------------------------------
    def get_address(self) -> str:
        return "127.0.0.1"

    def get_endpoint_from_executor(self) -> str:
        return "127.0.0.1"

    def get_runtime_endpoint(self) -> str:
        return (
            f"http://127.0.0.1:{config.GATEWAY_LISTEN[0].port}{self.executor_endpoint.get_endpoint_prefix()}"
        )

    def get_logs(self) -> str:
        path = self.workdir / "output.log"
        return path.read_text(errors="replace") if path.exists() else ""

    # --- versions --------------------------------------------------------------------------------
    @classmethod
    def prepare_version(cls, function_version: FunctionVersion) -> None:
        try:
            python_version_of(str(function_version.config.runtime))
        except UnsupportedRuntimeError as exc:
            raise LambdaRuntimeException(str(exc)) from exc
        if function_version.config.code is not None:
            function_version.config.code.prepare_for_execution()
        for layer in function_version.config.layers:
            if layer.code is not None:
                layer.code.prepare_for_execution()

    @classmethod
    def cleanup_version(cls, function_version: FunctionVersion) -> None:
        """Nothing to clean: the unzipped code belongs to LocalStack."""

    @classmethod
    def validate_environment(cls) -> bool:
        if not os.environ.get("FILEFLOW_LAMBDA_RUNTIME_ROOT"):
            LOG.warning(
                "FILEFLOW_LAMBDA_RUNTIME_ROOT is not set: functions cannot import boto3 without a layer"
            )
        return True


class HostProcessExecutorPlugin(RuntimeExecutorPlugin):
    name = "host-process"

    def load(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return HostProcessExecutor
