"""Environments forked from a pre-initialised template (tools/localstack_host templates.py, bootstrap.py).

Real processes: bootstrap.py in template mode under this interpreter, a fake LocalStack runtime endpoint
(an HTTP server recording what the environments post), no LocalStack.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import sys
import threading
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from fileflow_localstack_host.memory import supported
from fileflow_localstack_host.output import OutputCapture
from fileflow_localstack_host.templates import (
    BOOTSTRAP,
    ForkedProcess,
    Template,
    TemplateRegistry,
    per_environment,
    template_key,
)

pytestmark = pytest.mark.skipif(not supported() or not hasattr(os, "pidfd_open"), reason="Linux only")

# Module state set at init and mutated per invocation: each environment must start from init's.
HANDLER = """
import os, signal, time
print("init ran in", os.getpid(), flush=True)
SEEN = []

def handler(event, context):
    SEEN.append(event["token"])
    print("runtime", os.environ["LOCALSTACK_RUNTIME_ID"], flush=True)
    if event.get("exit") is not None:
        os._exit(event["exit"])
    return {"seen": SEEN, "pid": os.getpid(), "tmp": os.environ["TMPDIR"]}
"""

STARTS_A_THREAD = """
import threading, time
threading.Thread(target=time.sleep, args=(60,), daemon=True).start()

def handler(event, context):
    return {}
"""

FAILS_TO_IMPORT = "import not_a_module_anywhere\n"

# Init opens a connection (as a boto3 client's pool would); the handler reports whether it can use it.
CONNECTS_AT_INIT = """
import os, socket
CONNECTION = socket.create_connection(("127.0.0.1", int(os.environ["PEER_PORT"])))

def handler(event, context):
    try:
        CONNECTION.sendall(b"from the environment")
    except OSError as exc:
        return {"usable": False, "error": type(exc).__name__}
    return {"usable": True}
"""


class RuntimeEndpoint:
    """Stands in for LocalStack's executor endpoint: records every POST by path."""

    def __init__(self) -> None:
        posts: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.posts = posts

        class Recorder(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                posts.put((self.path, json.loads(body or b"null")))
                self.send_response(202)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def wait_for(self, path: str, timeout: float = 20) -> Any:
        while True:
            seen, body = self.posts.get(timeout=timeout)
            if seen == path:
                return body


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Environment:
    process: ForkedProcess
    port: int
    output: OutputCapture
    runtime_id: str


class Harness:
    def __init__(self, task_root: Path, endpoint: RuntimeEndpoint, extra_env: dict[str, str]) -> None:
        self.endpoint = endpoint
        self.template = Template(
            [sys.executable, "-I", "-S", "-B", "-u", str(BOOTSTRAP), "--task-root", str(task_root)],
            {"PATH": os.environ["PATH"], "_HANDLER": "app.handler", "AWS_LAMBDA_FUNCTION_TIMEOUT": "10"}
            | extra_env,
            str(task_root),
        )
        self.environments: list[Environment] = []

    def fork(self, tmp_path: Path) -> Environment:
        environment = self.try_fork(tmp_path)
        assert environment is not None, "the template forked no environment"
        return environment

    def try_fork(self, tmp_path: Path) -> Environment | None:
        runtime_id = uuid.uuid4().hex
        port = free_port()
        env = {
            "LOCALSTACK_RUNTIME_ID": runtime_id,
            "LOCALSTACK_RUNTIME_ENDPOINT": self.endpoint.url,
            "TMPDIR": str(tmp_path / runtime_id),
        }
        forked = self.template.environment(env, port, tmp_path / f"{runtime_id}.log")
        if forked is None:
            return None
        process, output = forked
        environment = Environment(process, port, output, runtime_id)
        self.environments.append(environment)
        self.endpoint.wait_for(f"/status/{runtime_id}/ready")
        return environment

    def invoke(self, environment: Environment, event: dict[str, Any]) -> Any:
        request_id = self.send(environment, event)
        return self.endpoint.wait_for(f"/invocations/{request_id}/response")

    def send(self, environment: Environment, event: dict[str, Any]) -> str:
        request_id = uuid.uuid4().hex
        body = {"invoke-id": request_id, "invoked-function-arn": "arn", "payload": json.dumps(event)}
        request = urllib.request.Request(  # the environment's own HTTP server, as LocalStack posts to it
            f"http://127.0.0.1:{environment.port}/invoke", data=json.dumps(body).encode(), method="POST"
        )
        urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request, timeout=10).close()
        return request_id

    def close(self) -> None:
        for environment in self.environments:
            if environment.process.poll() is None:
                os.killpg(environment.process.pid, signal.SIGKILL)
                environment.process.wait(timeout=10)
        self.template.stop()


@pytest.fixture
def endpoint() -> Iterator[RuntimeEndpoint]:
    recorder = RuntimeEndpoint()
    yield recorder
    recorder.server.shutdown()


@pytest.fixture
def make_harness(tmp_path: Path, endpoint: RuntimeEndpoint) -> Iterator[Callable[..., Harness]]:
    made: list[Harness] = []

    def make(code: str, **extra_env: str) -> Harness:
        task_root = tmp_path / f"task-{len(made)}"
        task_root.mkdir()
        (task_root / "app.py").write_text(code)
        made.append(Harness(task_root, endpoint, extra_env))
        return made[-1]

    yield make
    for harness in made:
        harness.close()


def parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def test_an_environment_is_forked_from_the_initialised_template_into_a_session_of_its_own(
    make_harness: Callable[..., Harness], tmp_path: Path
):
    # Given a ready template of a handler that prints at init
    harness = make_harness(HANDLER)
    assert harness.template.wait_ready(20)
    # When an environment is forked from it
    environment = harness.fork(tmp_path)
    # Then it is the template's child, leads a session (and process group) of its own, and posted ready
    assert parent_of(environment.process.pid) == harness.template.pid
    assert os.getsid(environment.process.pid) == environment.process.pid
    request_id = harness.send(environment, {"token": "a"})
    result = harness.endpoint.wait_for(f"/invocations/{request_id}/response")
    assert result["pid"] == environment.process.pid
    # and it runs with its own per-environment values, writing to its own stdout
    assert result["tmp"] == str(tmp_path / environment.runtime_id)
    output = environment.output.take(request_id, timeout=10)
    assert f"runtime {environment.runtime_id}" in output
    # and its first log opens with what the template's init printed (once, not run again)
    assert output.startswith(f"init ran in {harness.template.pid}\n")
    assert output.count("init ran in") == 1


def test_each_environment_starts_from_inits_state_not_from_another_environments(
    make_harness: Callable[..., Harness], tmp_path: Path
):
    # Given an environment whose invocations changed module state
    harness = make_harness(HANDLER)
    assert harness.template.wait_ready(20)
    first = harness.fork(tmp_path)
    harness.invoke(first, {"token": "first-1"})
    assert harness.invoke(first, {"token": "first-2"})["seen"] == ["first-1", "first-2"]
    # When a second environment is forked
    second = harness.fork(tmp_path)
    # Then it sees the state init left, and the first keeps its own
    assert harness.invoke(second, {"token": "second-1"})["seen"] == ["second-1"]
    assert harness.invoke(first, {"token": "first-3"})["seen"] == ["first-1", "first-2", "first-3"]


def test_the_exit_status_of_an_environment_is_the_one_the_template_reaped(
    make_harness: Callable[..., Harness], tmp_path: Path
):
    # Given a forked environment
    harness = make_harness(HANDLER)
    assert harness.template.wait_ready(20)
    environment = harness.fork(tmp_path)
    # When its handler ends the process with status 3
    harness.send(environment, {"token": "x", "exit": 3})
    # Then its end is seen, with that status
    assert environment.process.wait(timeout=10) == 3
    assert environment.process.poll() == 3


def test_an_environment_dies_with_its_template(make_harness: Callable[..., Harness], tmp_path: Path):
    # Given a forked environment
    harness = make_harness(HANDLER)
    assert harness.template.wait_ready(20)
    environment = harness.fork(tmp_path)
    # When its template is killed
    os.kill(harness.template.pid, signal.SIGKILL)
    # Then the environment is killed too (no orphan), and reads as killed
    assert environment.process.wait(timeout=10) == -signal.SIGKILL
    # and the template forks no more
    assert harness.try_fork(tmp_path) is None


def test_a_template_running_threads_refuses_to_fork(make_harness: Callable[..., Harness], tmp_path: Path):
    # Given a handler whose init starts a thread
    harness = make_harness(STARTS_A_THREAD)
    assert harness.template.wait_ready(20)
    # When an environment is asked for, then none is forked (the executor spawns one instead)
    assert harness.try_fork(tmp_path) is None


def test_a_template_whose_init_fails_is_not_used_again(make_harness: Callable[..., Harness]):
    # Given a handler that cannot be imported
    harness = make_harness(FAILS_TO_IMPORT)
    registry = TemplateRegistry()
    started: list[Template] = []

    def start() -> Template:
        started.append(harness.template)
        return harness.template

    # When environments are asked of the registry, twice
    # Then there is no template (the executor spawns, which reports the init error) and it is not retried
    assert registry.acquire("key", start, ready_timeout=20) is None
    assert harness.template.init_failed
    assert registry.acquire("key", start, ready_timeout=20) is None
    assert len(started) == 1


def test_a_connection_opened_at_init_is_not_shared_with_environments(
    make_harness: Callable[..., Harness], tmp_path: Path
):
    # Given a handler whose init connects to a peer
    with socket.create_server(("127.0.0.1", 0)) as peer:
        harness = make_harness(CONNECTS_AT_INIT, PEER_PORT=str(peer.getsockname()[1]))
        assert harness.template.wait_ready(20)
        accepted, _ = peer.accept()
        environment = harness.fork(tmp_path)
        # When the environment's handler uses the connection
        result = harness.invoke(environment, {"token": "x"})
        # Then it finds it dead (its pool would reconnect), and nothing reached the template's peer
        assert result["usable"] is False, result
        accepted.settimeout(0.5)
        with pytest.raises(TimeoutError):
            accepted.recv(100)
        accepted.close()


def test_environments_share_a_template_only_when_all_but_their_own_values_match():
    base = {
        "_HANDLER": "app.handler",
        "STAGE": "prod",
        "LOCALSTACK_RUNTIME_ID": "a",
        "AWS_ACCESS_KEY_ID": "k1",
    }
    command = ["python3.13", "bootstrap.py", "--task-root", "/code"]
    same_but_own_values = base | {"LOCALSTACK_RUNTIME_ID": "b", "AWS_ACCESS_KEY_ID": "k2", "TMPDIR": "/t"}
    assert template_key(["arn"], command, base) == template_key(["arn"], command, same_but_own_values)
    assert template_key(["arn"], command, base) != template_key(["arn"], command, base | {"STAGE": "dev"})
    assert template_key(["arn"], command, base) != template_key(["arn:2"], command, base)
    assert per_environment(same_but_own_values) == {
        "LOCALSTACK_RUNTIME_ID": "b",
        "AWS_ACCESS_KEY_ID": "k2",
        "TMPDIR": "/t",
    }
