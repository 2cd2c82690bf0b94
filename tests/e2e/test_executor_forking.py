"""Execution environments forked from a pre-initialised template (the host executor, FILEFLOW_LAMBDA_FORK).

Each test deploys small functions straight through the Lambda API of the local cloud. A forked
environment is visible from outside: its first REPORT line gives a `Restore Duration` (a spawned one
an `Init Duration`), and its process's parent is the function's template (`bootstrap.py --template-fd`).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from tests.e2e.conftest import AwsClients
from tests.e2e.polling import wait_for
from tests.e2e.test_executor import create_function, invoke, log_messages
from tools import localcloud
from tools.stack import client_kwargs, endpoint_url

pytestmark = pytest.mark.skipif(endpoint_url() is None, reason="exercises the local cloud's executor")

# Module state set at init and changed by every invocation.
COUNTS = """
import os, time
SEEN = []

def handler(event, context):
    SEEN.append(event["token"])
    if event.get("sleep"):
        time.sleep(event["sleep"])
    if event.get("allocate_mb"):
        data = b"x" * (event["allocate_mb"] * 1024 * 1024)
    return {"seen": SEEN, "pid": os.getpid(), "parent": os.getppid()}
"""

# Init starts a thread: forking it would be unsafe, so its environments are spawned.
STARTS_A_THREAD = """
import os, threading, time
threading.Thread(target=time.sleep, args=(600,), daemon=True).start()

def handler(event, context):
    return {"pid": os.getpid(), "parent": os.getppid()}
"""


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def forked_from_a_template(result: dict[str, Any]) -> bool:
    """The environment that answered is the child of a template process (not of LocalStack)."""
    return "--template-fd" in command_line(result["parent"])


def reports(aws: AwsClients, name: str, count: int) -> list[str]:
    """The function's REPORT lines, once there are `count` of them."""

    def enough() -> list[str] | None:
        lines = [m for m in log_messages(aws.logs, name) if m.startswith("REPORT")]
        return lines if len(lines) >= count else None

    return wait_for(enough, timeout=30, what=f"{count} REPORT lines of {name}")


@pytest.fixture
def function(local_cloud: None, aws: AwsClients) -> Any:
    # Checked once the session's local cloud is up (the suite may start it): a skip decided at collection
    # would skip on every clean machine, where no LocalStack runs before the suite starts one.
    if localcloud.owned_pid() is None:
        pytest.skip("inspects the Lambda processes of a local cloud on this host (LocalStack runs elsewhere)")
    created: list[str] = []

    def make(code: str, **kwargs: Any) -> str:
        created.append(create_function(aws.lambda_, code={"app.py": code}, **kwargs))
        return created[-1]

    yield make
    for name in created:
        aws.lambda_.delete_function(FunctionName=name)


def concurrently(name: str, events: list[dict[str, Any]]) -> list[tuple[str | None, dict[str, Any]]]:
    client = boto3.client("lambda", config=Config(max_pool_connections=len(events)), **client_kwargs())
    with ThreadPoolExecutor(max_workers=len(events)) as pool:
        return list(pool.map(lambda event: invoke(client, name, event), events))


def test_concurrent_environments_are_forked_from_one_template(function: Any, aws: AwsClients):
    # Given a deployed function
    name = function(COUNTS, timeout=30)
    # When three invocations arrive at once (each busy long enough to need an environment of its own)
    results = concurrently(name, [{"token": f"t{i}", "sleep": 2} for i in range(3)])
    # Then each ran in a process of its own, all children of one template process of the function
    assert [error for error, _ in results] == [None] * 3, results
    pids = {result["pid"] for _, result in results}
    parents = {result["parent"] for _, result in results}
    assert len(pids) == 3
    assert len(parents) == 1
    assert forked_from_a_template(results[0][1])
    assert "bootstrap.py" in command_line(parents.pop())
    # and each environment's first REPORT gives its restore from the template, not an init
    lines = reports(aws, name, 3)
    assert all("\tRestore Duration: " in line for line in lines), lines
    assert not [line for line in lines if "Init Duration" in line]


def test_a_new_environment_starts_from_inits_state_not_from_a_used_environment(
    function: Any, aws: AwsClients
):
    # Given an environment whose invocations changed module state
    name = function(COUNTS, timeout=30)
    assert invoke(aws.lambda_, name, {"token": "first"})[1]["seen"] == ["first"]
    used = invoke(aws.lambda_, name, {"token": "second"})[1]
    assert used["seen"] == ["first", "second"]
    # When two invocations arrive at once (the used environment takes one, a new one the other)
    results = concurrently(name, [{"token": "a", "sleep": 2}, {"token": "b", "sleep": 2}])
    # Then the new environment sees only its own invocation: the state init left, not the used one's
    fresh = [result for _, result in results if result["pid"] != used["pid"]]
    assert len(fresh) == 1, results
    assert fresh[0]["seen"] in (["a"], ["b"])
    assert fresh[0]["parent"] == used["parent"]
    assert forked_from_a_template(fresh[0])


def test_a_forked_environment_past_its_timeout_is_replaced_by_a_new_fork(function: Any, aws: AwsClients):
    # Given a forked environment of a function with a 2 s timeout
    name = function(COUNTS, timeout=2)
    error, first = invoke(aws.lambda_, name, {"token": "warm"})
    assert error is None
    # When an invocation sleeps past the timeout
    error, result = invoke(aws.lambda_, name, {"token": "slow", "sleep": 30})
    # Then it timed out, and the next invocation runs in a new environment forked from the same template
    assert result["errorType"] == "Sandbox.Timedout"
    error, after = invoke(aws.lambda_, name, {"token": "after"})
    assert error is None
    assert after["seen"] == ["after"]
    assert after["pid"] != first["pid"]
    assert after["parent"] == first["parent"]
    assert forked_from_a_template(after)


def test_a_forked_environment_past_its_memory_size_fails_out_of_memory(function: Any, aws: AwsClients):
    # Given a function of 128 MB, warm in a forked environment
    name = function(COUNTS, memory=128, timeout=20)
    assert invoke(aws.lambda_, name, {"token": "warm"})[0] is None
    # When an invocation allocates 400 MB
    error, result = invoke(aws.lambda_, name, {"token": "big", "allocate_mb": 400})
    # Then the environment is killed as out of memory, and the next one (forked again) succeeds
    assert error == "Unhandled"
    assert result["errorType"] == "Runtime.OutOfMemory"
    error, after = invoke(aws.lambda_, name, {"token": "after"})
    assert error is None, after
    assert after["seen"] == ["after"]
    lines = reports(aws, name, 3)
    assert "\tRestore Duration: " in lines[0], lines
    assert "\tRestore Duration: " in lines[2], lines


def test_a_function_whose_init_starts_a_thread_is_spawned_not_forked(function: Any, aws: AwsClients):
    # Given a function whose init starts a thread (a fork could copy a held lock)
    name = function(STARTS_A_THREAD)
    # When it is invoked
    error, result = invoke(aws.lambda_, name, {})
    # Then it answers from a spawned environment: LocalStack's child, with a full init
    assert error is None, result
    assert result["parent"] == localcloud.owned_pid()
    lines = reports(aws, name, 1)
    assert "\tInit Duration: " in lines[0], lines
