"""A LocalStack Lambda runtime executor that runs each execution environment as a host process.

LocalStack's default executor starts a Docker container per environment; this one starts
``bootstrap.py`` under the interpreter matching the function's runtime, with only the function's
code, its layers and the runtime-provided packages importable. It enforces the function timeout
(the process group is killed and ``Task timed out`` returned; the next invocation starts a fresh
process, as AWS re-initialises a sandbox after a timeout) and the function's memory size (the group
is killed and ``Runtime.OutOfMemory`` returned, see memory.py), and hands each invocation's output to
LocalStack, which writes it to CloudWatch Logs (``/aws/lambda/<function>``). Environments are forked
from a pre-initialised template of their function when they can be (templates.py), else spawned.
At most a few invocations of one function run at once on the host; the others wait, untimed
(capacity.py).
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
from localstack.services.lambda_.invocation.lambda_models import (
    FunctionVersion,
    HotReloadingCode,
    InvocationResult,
)
from localstack.services.lambda_.invocation.plugins import RuntimeExecutorPlugin
from localstack.services.lambda_.invocation.runtime_executor import LambdaRuntimeException, RuntimeExecutor
from localstack.utils.net import get_free_tcp_port

from fileflow_localstack_host.capacity import capacity
from fileflow_localstack_host.interpreters import (
    UnsupportedRuntimeError,
    find_interpreter,
    python_version_of,
    runtime_packages_dir,
)
from fileflow_localstack_host.memory import MemoryWatch
from fileflow_localstack_host.output import OutputCapture
from fileflow_localstack_host.templates import (
    BOOTSTRAP,
    TEMPLATES,
    ForkedProcess,
    Template,
    fork_enabled,
    template_key,
)

LOG = logging.getLogger(__name__)

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
        self.process: subprocess.Popen[bytes] | ForkedProcess | None = None
        self._template: Template | None = None
        self._started_at = 0.0
        # the first invocation's REPORT says how long the environment took to be ready
        self._startup_report = ""
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
        self._wait_for_startup()

    def _wait_for_startup(self) -> None:
        self.executor_endpoint.wait_for_startup()
        if self.memory is not None:
            self.memory.pause()  # until the first invocation: an idle environment is frozen on Lambda
        took_ms = (time.monotonic() - self._started_at) * 1000
        kind = "Restore" if isinstance(self.process, ForkedProcess) else "Init"
        self._startup_report = f"\t{kind} Duration: {took_ms:.2f} ms"

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
        env = self._environment()
        cwd = command[command.index("--task-root") + 1]
        self.executor_endpoint.startup_future = Future()
        self._started_at = time.monotonic()
        # hot-reloaded code changes on disk under the template: spawn it, reading the code anew
        forkable = fork_enabled() and not isinstance(self.function_version.config.code, HotReloadingCode)
        process = self._fork(command, env, cwd) if forkable else None
        if process is None:
            process = subprocess.Popen(  # noqa: S603 - the interpreter and bootstrap are ours
                [*command, "--port", str(self.port)],
                env=env,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stop() kills handler subprocesses too
            )
            assert process.stdout is not None
            self.capture = OutputCapture(process.stdout, self.workdir / "output.log")
        self.process = process
        self.memory = MemoryWatch(process.pid, self.function_version.config.memory_size).start()
        threading.Thread(
            target=self._watch, args=(process, self.memory), name="lambda-watch", daemon=True
        ).start()
        LOG.debug(
            "started %s for %s (pid %s, %s)",
            self.id,
            self.function_version.qualified_arn,
            process.pid,
            "forked" if isinstance(process, ForkedProcess) else "spawned",
        )

    def _fork(self, command: list[str], env: dict[str, str], cwd: str) -> ForkedProcess | None:
        """An environment forked from the configuration's template, or None when it cannot be."""
        version = self.function_version
        code_sha256 = version.config.code.code_sha256 if version.config.code is not None else ""
        identity = [version.qualified_arn, code_sha256, version.config.internal_revision]
        template = TEMPLATES.acquire(
            template_key(identity, command, env),
            lambda: Template(command, env, cwd),
            ready_timeout=float(config.LAMBDA_RUNTIME_ENVIRONMENT_TIMEOUT),
        )
        if self._template is not None:
            TEMPLATES.release(self._template)
        self._template = template
        forked = template.environment(env, self.port, self.workdir / "output.log") if template else None
        if forked is None:
            return None
        process, self.capture = forked
        return process

    def _watch(self, process: subprocess.Popen[bytes] | ForkedProcess, memory: MemoryWatch) -> None:
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
        if self._template is not None:
            TEMPLATES.release(self._template)
            self._template = None
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
        # the host's capacity first (capacity.py): waiting for it is not part of the invocation
        with capacity().slot(self.function_version.qualified_arn) as waited, self._invoke_lock:
            if waited > 1.0:
                LOG.debug("invocation %s waited %.1f s for the host", payload.get("invoke-id"), waited)
            if self.process is None or self.process.poll() is not None:
                # a timeout or crash ended the previous process: initialise a fresh one
                self._spawn()
                self._wait_for_startup()
            return self._invoke(payload)

    def _invoke(self, payload: dict[str, str]) -> InvocationResult:
        request_id = payload["invoke-id"]
        self._request_id = request_id
        timeout = float(self.function_version.config.timeout)
        endpoint = self.executor_endpoint
        endpoint.invocation_future = Future()
        assert self.memory is not None
        self.memory.resume()
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
        # A spike between two samples passed the limit too: the sandbox would have been killed.
        out_of_memory = self.memory.check()
        self.memory.pause()
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
        startup, self._startup_report = self._startup_report, ""
        status = "\tStatus: timeout" if timed_out else ""
        if out_of_memory:
            status = f"\tStatus: error\tError Type: {OUT_OF_MEMORY}"
        return (
            f"START RequestId: {request_id} Version: {self.function_version.id.qualifier}\n"
            f"{output}"
            f"END RequestId: {request_id}\n"
            f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
            f"Billed Duration: {int(duration_ms) + 1} ms\tMemory Size: {memory} MB\t"
            f"Max Memory Used: {used} MB{startup}{status}\n"
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
