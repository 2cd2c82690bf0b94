"""The e2e suite runs against the deployed stack on the local cloud (or AWS with FILEFLOW_TARGET=aws).

If no LocalStack answers, the suite starts one (and stops it at the end); it then deploys the
stack, which only updates what changed, so the tested stack is always the checked-out code.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator

import boto3
import pytest

from tests.e2e.deploy import CLAUDE_PORT, ROOT, deploy
from tests.e2e.processing import PoisonBatch, send_poison_batch
from tests.support.claude_emulator import ClaudeEmulator
from tools import localcloud
from tools.stack import StackOutputs, client_kwargs, endpoint_url, load_outputs

ANTHROPIC_SECRET_NAME = "fileflow/anthropic-api-key"


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
        deploy()
    if endpoint_url() is not None:
        _anthropic_secret()
    return load_outputs()


@pytest.fixture(scope="session")
def aws() -> AwsClients:
    return AwsClients()


@pytest.fixture(scope="session")
def poison_batch(stack: StackOutputs, aws: AwsClients) -> PoisonBatch:
    """A poison body sent in one batch with two good notifications (tests/e2e/test_processing.py)."""
    return send_poison_batch(stack, aws)


# Session fixtures whose effects take long to arrive: sent when the session starts (if a selected test
# uses them), so the waits run while the other tests do.
STARTED_FIRST = ("poison_batch",)


@pytest.fixture(scope="session", autouse=True)
def _slow_effects_started_first(request: pytest.FixtureRequest) -> None:
    used = {name for item in request.session.items for name in getattr(item, "fixturenames", ())}
    for name in STARTED_FIRST:
        if name in used:
            request.getfixturevalue(name)


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
