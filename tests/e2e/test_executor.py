"""The host-process Lambda executor (tools/localstack_host) behaves like AWS's sandbox.

Each test deploys small functions straight through the Lambda API of the local cloud.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import uuid
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from tests.e2e.conftest import AwsClients, _python313
from tests.e2e.deploy import ROOT
from tests.e2e.polling import wait_for
from tools import localcloud
from tools.stack import client_kwargs, endpoint_url

pytestmark = pytest.mark.skipif(endpoint_url() is None, reason="exercises the local cloud's executor")

ROLE = "arn:aws:iam::000000000000:role/executor-test"

HANDLER = """
import json, os, sys, time

def handler(event, context):
    print(f"pid={os.getpid()} token={event.get('token')}")
    if event.get("sleep"):
        time.sleep(event["sleep"])
    import boto3  # shipped by the runtime, not by a layer
    return {
        "echo": event.get("value"),
        "memory": context.memory_limit_in_mb,
        "function": context.function_name,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "sys_path": sys.path,
        "boto3": boto3.__version__,
    }
"""

USES_LAYER = """
import greeting

def handler(event, context):
    return greeting.hello()
"""

# The layer's module needs `requests`, which the layer does not carry. LocalStack's own venv has
# it, so only a real sandbox makes this fail.
LAYER_MODULE = """
import requests

def hello():
    return "hello"
"""


# Touches every page it allocates (bytes * n writes them), as a real handler's data would.
ALLOCATES = """
def handler(event, context):
    data = b"x" * (event["allocate_mb"] * 1024 * 1024)
    return {"held_mb": len(data) // (1024 * 1024)}
"""


def zip_of(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def create_function(
    lambda_: Any,
    *,
    code: dict[str, str],
    timeout: int = 10,
    memory: int = 256,
    layers: list[str] | None = None,
) -> str:
    name = f"exec-test-{uuid.uuid4().hex[:10]}"
    lambda_.create_function(
        FunctionName=name,
        Runtime="python3.13",
        Handler="app.handler",
        Role=ROLE,
        Code={"ZipFile": zip_of(code)},
        Timeout=timeout,
        MemorySize=memory,
        Layers=layers or [],
    )
    lambda_.get_waiter("function_active_v2").wait(FunctionName=name)
    return name


def invoke(lambda_: Any, name: str, payload: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    response = lambda_.invoke(FunctionName=name, Payload=json.dumps(payload).encode())
    return response.get("FunctionError"), json.loads(response["Payload"].read() or b"null")


def log_messages(logs: Any, name: str) -> list[str]:
    """Every message in the function's log group (LocalStack ignores filterPattern: search here)."""
    try:
        events = logs.filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]
    except logs.exceptions.ResourceNotFoundException:
        return []
    return [event["message"] for event in events]


def is_running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


@pytest.fixture(scope="module")
def echo_function(local_cloud: None, aws: AwsClients) -> Iterator[str]:
    name = create_function(aws.lambda_, code={"app.py": HANDLER}, timeout=2, memory=256)
    yield name
    aws.lambda_.delete_function(FunctionName=name)


def test_handler_sees_only_its_code_layers_stdlib_and_the_runtime_packages(
    echo_function: str, aws: AwsClients
):
    # Given a deployed function
    # When it is invoked
    error, result = invoke(aws.lambda_, echo_function, {"value": 42})
    # Then it answers, with the context AWS would give it
    assert error is None, result
    assert result["echo"] == 42
    assert result["memory"] in (256, "256")
    assert result["function"] == echo_function
    assert 0 < result["remaining_ms"] <= 2000
    # and nothing of the project's or LocalStack's virtualenvs is importable
    assert not [
        p for p in result["sys_path"] if ".venv" in p or ("site-packages" in p and "lambda-runtime" not in p)
    ]
    assert result["boto3"]


def test_layer_missing_a_dependency_fails_with_import_error_in_the_log(local_cloud: None, aws: AwsClients):
    # Given a layer whose module imports a package the layer lacks
    layer = aws.lambda_.publish_layer_version(
        LayerName=f"partial-{uuid.uuid4().hex[:8]}",
        Content={"ZipFile": zip_of({"python/greeting.py": LAYER_MODULE})},
        CompatibleRuntimes=["python3.13"],
    )
    name = create_function(aws.lambda_, code={"app.py": USES_LAYER}, layers=[layer["LayerVersionArn"]])
    try:
        # When the function is invoked
        error, result = invoke(aws.lambda_, name, {})
        # Then it fails as on AWS: an import error at init
        assert error == "Unhandled"
        assert result["errorType"] == "Runtime.ImportModuleError"
        assert "No module named 'requests'" in result["errorMessage"]
        # and the ImportError is in its CloudWatch log
        messages = wait_for(
            lambda: "\n".join(log_messages(aws.logs, name)), timeout=20, what="the function's log"
        )
        assert "[ERROR] Runtime.ImportModuleError: Unable to import module 'app'" in messages
        assert "ModuleNotFoundError: No module named 'requests'" in messages  # an ImportError
    finally:
        aws.lambda_.delete_function(FunctionName=name)


def test_timeout_is_reported_and_the_process_is_gone(echo_function: str, aws: AwsClients):
    # Given a function with a 2 s timeout
    token = uuid.uuid4().hex
    # When it sleeps past it
    error, result = invoke(aws.lambda_, echo_function, {"sleep": 30, "token": token})
    # Then the invocation is reported as timed out
    assert error == "Unhandled"
    assert result["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 2.00 seconds" in result["errorMessage"]
    # and the log says so, after what the handler printed
    log = wait_for(
        lambda: next((m for m in log_messages(aws.logs, echo_function) if "Task timed out" in m), None),
        timeout=20,
        what="the timeout line in the log",
    )
    assert "Task timed out after 2.00 seconds" in log
    pid_line = wait_for(
        lambda: next((m for m in log_messages(aws.logs, echo_function) if f"token={token}" in m), None),
        timeout=20,
        what="the handler's own line",
    )
    pid = int(re.search(r"pid=(\d+)", pid_line).group(1))  # type: ignore[union-attr]
    # and the process that ran it is gone (its environment was on this host)
    if localcloud.owned_pid() is not None:
        wait_for(lambda: not is_running(pid), timeout=10, what=f"process {pid} to end")
    # and the next invocation gets a fresh environment
    error, result = invoke(aws.lambda_, echo_function, {"value": "after"})
    assert error is None
    assert result["echo"] == "after"


def test_a_function_past_its_memory_size_fails_out_of_memory_and_the_next_call_succeeds(
    local_cloud: None, aws: AwsClients
):
    # Given a function of 128 MB
    name = create_function(aws.lambda_, code={"app.py": ALLOCATES}, memory=128, timeout=20)
    try:
        # When an invocation allocates 400 MB
        error, result = invoke(aws.lambda_, name, {"allocate_mb": 400})
        # Then it fails as on AWS: the sandbox is killed and the error says out of memory
        assert error == "Unhandled"
        assert result["errorType"] == "Runtime.OutOfMemory"
        assert "Runtime exited with error: signal: killed" in result["errorMessage"]
        report = wait_for(
            lambda: next(
                (m for m in log_messages(aws.logs, name) if "Error Type: Runtime.OutOfMemory" in m), None
            ),
            timeout=20,
            what="the out-of-memory REPORT line",
        )
        assert "Memory Size: 128 MB\tMax Memory Used: 128 MB" in report
        # and the next invocation gets a fresh environment and succeeds
        error, result = invoke(aws.lambda_, name, {"allocate_mb": 16})
        assert error is None, result
        assert result == {"held_mb": 16}
    finally:
        aws.lambda_.delete_function(FunctionName=name)


def test_twenty_concurrent_invocations_all_succeed(local_cloud: None, aws: AwsClients):
    # Given a function with room for 20 cold starts at once on a 2-core machine
    name = create_function(aws.lambda_, code={"app.py": HANDLER}, timeout=60)
    # When it gets 20 invocations at once, each busy for half a second
    client = boto3.client("lambda", config=Config(max_pool_connections=20), **client_kwargs())
    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(lambda i: invoke(client, name, {"value": i, "sleep": 0.5}), range(20)))
    aws.lambda_.delete_function(FunctionName=name)
    # Then every one succeeds with its own answer
    assert [error for error, _ in results] == [None] * 20
    assert sorted(result["echo"] for _, result in results) == list(range(20))


def test_output_reaches_cloudwatch_logs(echo_function: str, aws: AwsClients):
    # Given an invocation that prints a unique token
    token = uuid.uuid4().hex
    error, _ = invoke(aws.lambda_, echo_function, {"token": token})
    assert error is None
    # Then the line is in /aws/lambda/<function>, framed by START / END / REPORT
    text = wait_for(
        lambda: next((t for t in ["\n".join(log_messages(aws.logs, echo_function))] if token in t), None),
        timeout=20,
        what="the token in CloudWatch Logs",
    )
    assert f"token={token}" in text
    assert "START RequestId:" in text
    assert "REPORT RequestId:" in text


def test_localstack_stop_leaves_no_process_behind(local_cloud: None):
    # Given a second LocalStack of ours on another port, running a function
    port = "4599"
    env = {**os.environ, "LOCALSTACK_PORT": port}
    command = [_python313(), "tools/localcloud.py"]

    def processes() -> list[str]:
        out = subprocess.run(
            [*command, "processes"], cwd=ROOT, env=env, capture_output=True, text=True, check=True
        )
        return out.stdout.split()

    subprocess.run([*command, "start"], cwd=ROOT, env=env, check=True)
    try:
        lambda_ = boto3.client(
            "lambda",
            endpoint_url=f"http://127.0.0.1:{port}",
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )
        name = create_function(lambda_, code={"app.py": HANDLER})
        error, _ = invoke(lambda_, name, {"value": 1})
        assert error is None
        assert len(processes()) >= 2  # LocalStack itself and the function's environment
    finally:
        # When it is stopped the way `make localstack-stop` does
        stopped = subprocess.run(
            [*command, "stop"], cwd=ROOT, env=env, capture_output=True, text=True, check=True
        )
    # Then no process of that instance is left, and none had to be killed as a straggler
    assert processes() == []
    assert "stray" not in stopped.stderr, stopped.stderr
