"""A stage's process killed mid-run on the deployed stack (issue #9): the workflow retries the stage.

The local cloud runs each Lambda environment as a host process (tools/localstack_host: bootstrap.py with
the function's code as `--task-root`), so the test finds the image stage's environment that is busy with
the file (its CPU time grows while the file's stage is `image` / `started`) and sends it SIGKILL by pid.
Lambda reports the invocation as `Runtime.ExitError`, which the definition retries (TRANSIENT_ERRORS):
the execution succeeds, the file ends processed, with one file record, one job and one execution.
"""

from __future__ import annotations

import contextlib
import os
import signal
import uuid
from pathlib import Path
from typing import Any

import pytest

from fileflow_client import FileflowClient
from infra import outputs as names
from tests import samples
from tests.e2e.conftest import AwsClients
from tests.e2e.polling import wait_for
from tests.reliability.report import FAULTS
from tools.stack import StackOutputs, endpoint_url
from tools.token import TokenFactory

pytestmark = [pytest.mark.e2e, pytest.mark.reliability]

# Large enough that the image stage works for seconds (decode, three thumbnails in two formats each).
IMAGE_SIDE = 7000
TIMEOUT = 240


def environment_pids(function_name: str) -> list[int]:
    """The host processes of the function's execution environments (their --task-root names it)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        joined = b" ".join(args)
        if b"bootstrap.py" in joined and f"/{function_name}-".encode() in joined:
            pids.append(int(entry.name))
    return pids


def cpu_ticks(pid: int) -> int | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[11]) + int(fields[12])  # utime + stime


def file_item(stack: StackOutputs, aws: AwsClients, user: str, file_id: str) -> dict[str, Any]:
    item: dict[str, Any] = aws.dynamodb.get_item(
        TableName=stack[names.TABLE_NAME],
        Key={"pk": {"S": f"USER#{user}"}, "sk": {"S": f"FILE#{file_id}"}},
        ConsistentRead=True,
    ).get("Item", {})
    return item


# A kill can land after the stage finished (it takes about a second): then the fault is injected again.
ATTEMPTS = 3


def execution_of(stack: StackOutputs, aws: AwsClients, user: str, file_id: str) -> dict[str, Any]:
    def ended() -> dict[str, Any] | None:
        arn = file_item(stack, aws, user, file_id).get("execution_arn", {}).get("S")
        if arn is None:
            return None
        described = aws.stepfunctions.describe_execution(executionArn=arn)
        return dict(described) if described["status"] != "RUNNING" else None

    return wait_for(ended, timeout=TIMEOUT, interval=1, what="the file's execution to end")


def task_failures(aws: AwsClients, execution_arn: str) -> list[str]:
    history = [
        event
        for page in aws.stepfunctions.get_paginator("get_execution_history").paginate(
            executionArn=execution_arn
        )
        for event in page["events"]
    ]
    failures = [e["taskFailedEventDetails"]["error"] for e in history if "taskFailedEventDetails" in e]
    failures += [
        e["lambdaFunctionFailedEventDetails"]["error"]
        for e in history
        if "lambdaFunctionFailedEventDetails" in e
    ]
    return failures


def test_a_stage_killed_mid_run_is_retried_and_the_file_ends_processed_once(
    stack: StackOutputs, aws: AwsClients, tmp_path: Path
) -> None:
    if endpoint_url() is None:
        pytest.skip("kills a local Lambda environment by pid: the local cloud only")
    function_name = stack[names.stage_function_output("image")]
    path = tmp_path / "large.jpg"
    path.write_bytes(samples.jpeg(IMAGE_SIDE, IMAGE_SIDE))
    for _ in range(ATTEMPTS):
        # Given a large image uploaded through the API, by a user of its own
        user = f"e2e-kill-{uuid.uuid4().hex[:10]}"
        with FileflowClient(
            stack.api_url, TokenFactory.for_stack(stack).valid(user), state_dir=tmp_path / uuid.uuid4().hex
        ) as client:
            file_id = client.upload(path).file_id

        # When the image stage has started on it, its environments are killed with SIGKILL, by pid
        def running_environments(user: str = user, file_id: str = file_id) -> list[int] | None:
            item = file_item(stack, aws, user, file_id)
            if (item.get("stage", {}).get("S"), item.get("stage_state", {}).get("S")) != ("image", "started"):
                return None
            return environment_pids(function_name) or None

        for pid in wait_for(
            running_environments, timeout=TIMEOUT, interval=0.1, what="the image stage's start"
        ):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        execution = execution_of(stack, aws, user, file_id)
        failures = task_failures(aws, execution["executionArn"])
        if "Runtime.ExitError" in failures:
            break
    # Then the Image task failed (Runtime.ExitError), was retried, and the execution succeeded
    assert "Runtime.ExitError" in failures, f"no kill landed mid-run in {ATTEMPTS} attempts: {failures}"
    assert execution["status"] == "SUCCEEDED", (execution.get("error"), execution.get("cause"))
    # And the file is processed, with one file record, one job and one execution
    item = file_item(stack, aws, user, file_id)
    assert item["status"]["S"] == "processed", item.get("processing_error")
    jobs = aws.dynamodb.query(
        TableName=stack[names.TABLE_NAME],
        KeyConditionExpression="pk = :pk AND begins_with(sk, :job)",
        ExpressionAttributeValues={":pk": {"S": f"FILE#{file_id}"}, ":job": {"S": "JOB#"}},
        ConsistentRead=True,
    )["Items"]
    assert len(jobs) == 1
    job_id = jobs[0]["sk"]["S"].removeprefix("JOB#")
    named = [
        e
        for page in aws.stepfunctions.get_paginator("list_executions").paginate(
            stateMachineArn=stack[names.STATE_MACHINE_ARN]
        )
        for e in page["executions"]
        if e["name"] == job_id
    ]
    assert len(named) == 1
    files = aws.dynamodb.query(
        TableName=stack[names.TABLE_NAME],
        KeyConditionExpression="pk = :pk AND begins_with(sk, :file)",
        ExpressionAttributeValues={":pk": {"S": f"USER#{user}"}, ":file": {"S": "FILE#"}},
        ConsistentRead=True,
    )["Items"]
    assert len(files) == 1
    FAULTS.record(
        "sigkill-image-stage",
        {
            "fault": "the image stage's process killed mid-run (SIGKILL by pid)",
            "injected": f"kill -9 of {function_name}'s busy environment ({IMAGE_SIDE}x{IMAGE_SIDE} JPEG)",
            "outcome": f"Image failed {failures.count('Runtime.ExitError')}x Runtime.ExitError, retried: "
            "execution SUCCEEDED, processed, one record, one job, one execution",
            "suite": "e2e",
        },
    )
