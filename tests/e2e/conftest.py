"""The e2e suite runs against the deployed stack on the local cloud (or AWS with FILEFLOW_TARGET=aws).

If no LocalStack answers, the suite starts one (and stops it at the end); it then deploys the
stack, which only updates what changed, so the tested stack is always the checked-out code.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from tests.support.claude_emulator import ClaudeEmulator
from tools import localcloud
from tools.stack import StackOutputs, client_kwargs, endpoint_url, load_outputs

ROOT = Path(__file__).resolve().parents[2]
# The Claude emulator the suite starts (tests/support/claude_emulator.py): the AI stage calls it there.
CLAUDE_PORT = int(os.environ.get("FILEFLOW_CLAUDE_PORT", "5002"))
ANTHROPIC_SECRET_NAME = "fileflow/anthropic-api-key"
# Webhooks to a receiver on 127.0.0.1 (the stack refuses this on AWS), retried after 1 s, and an endpoint
# disabled after 3 failed deliveries: what tests/e2e/test_webhooks.py exercises in seconds.
E2E_CONTEXT = (
    *("--context", "webhooks_allow_local_http=true"),
    *("--context", "webhook_retry_schedule=1,1,1,1"),
    *("--context", "webhook_disable_after=3"),
    # The AI stage against the emulator: a 2 s timeout, waits of at most 0.5 s, a circuit that opens after
    # 3 failures and half-opens after 30 s (tests/e2e/test_ai_analysis.py resets it when done).
    *("--context", f"anthropic_base_url=http://127.0.0.1:{CLAUDE_PORT}"),
    *("--context", "ai_timeout_seconds=2"),
    *("--context", "ai_max_retry_wait_seconds=0.5"),
    *("--context", "ai_circuit_failures=3"),
    *("--context", "ai_circuit_cooldown_seconds=30"),
)


def _python313() -> str:
    return os.environ.get("PYTHON313") or localcloud.python313()


@pytest.fixture(scope="session")
def local_cloud() -> Iterator[None]:
    """A local cloud for the session: the running one, or one this session starts and stops."""
    if endpoint_url() is None:
        yield  # real AWS
        return
    started_here = localcloud.health() is None
    if started_here:
        subprocess.run([_python313(), "tools/localcloud.py", "start"], cwd=ROOT, check=True)
    try:
        yield
    finally:
        if started_here:
            subprocess.run([_python313(), "tools/localcloud.py", "stop"], cwd=ROOT, check=True)


@pytest.fixture(scope="session")
def claude_emulator() -> Iterator[ClaudeEmulator]:
    """The Claude emulator on FILEFLOW_CLAUDE_PORT, up before the stack is deployed against it."""
    emulator = ClaudeEmulator(port=CLAUDE_PORT).start()
    try:
        yield emulator
    finally:
        emulator.stop()


def _anthropic_secret() -> None:
    """The key's secret, as an operator makes it (value `test`: the emulator takes any key)."""
    secrets = boto3.client("secretsmanager", **client_kwargs())
    with contextlib.suppress(secrets.exceptions.ResourceExistsException):
        secrets.create_secret(Name=ANTHROPIC_SECRET_NAME, SecretString="test")


@pytest.fixture(scope="session")
def stack(local_cloud: None, claude_emulator: ClaudeEmulator) -> StackOutputs:
    """The deployed stack's outputs (deployed or updated first on the local cloud)."""
    if endpoint_url() is not None and os.environ.get("FILEFLOW_E2E_SKIP_DEPLOY") != "1":
        subprocess.run([sys.executable, "-m", "tools.deploy", "up", *E2E_CONTEXT], cwd=ROOT, check=True)
    if endpoint_url() is not None:
        _anthropic_secret()
    return load_outputs()


@pytest.fixture(scope="session")
def aws() -> AwsClients:
    return AwsClients()


class AwsClients:
    """boto3 clients pointed at the target cloud."""

    def __init__(self) -> None:
        kwargs = client_kwargs()
        self.s3 = boto3.client("s3", **kwargs)
        self.sqs = boto3.client("sqs", **kwargs)
        self.dynamodb = boto3.client("dynamodb", **kwargs)
        self.logs = boto3.client("logs", **kwargs)
        self.lambda_ = boto3.client("lambda", **kwargs)
        self.stepfunctions = boto3.client("stepfunctions", **kwargs)
        self.iam = boto3.client("iam", **kwargs)
