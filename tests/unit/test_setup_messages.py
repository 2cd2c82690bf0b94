"""Broken set-ups get a clear message, not a stack trace or a hang."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tools import deploy, localcloud

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port held by something that is not LocalStack (a plain TCP listener)."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield server.getsockname()[1]


def test_port_taken_by_something_else_is_explained(busy_port: int):
    # Given the LocalStack port is held by another program
    env = {**os.environ, "LOCALSTACK_PORT": str(busy_port)}
    # When the local cloud is started
    result = subprocess.run(
        [sys.executable, "tools/localcloud.py", "start"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    # Then it refuses with a message naming the port and what to do, and starts nothing
    assert result.returncode == 2
    assert f"port {busy_port} is taken by something that is not LocalStack" in result.stderr
    assert "LOCALSTACK_PORT" in result.stderr
    assert not (ROOT / ".localstack" / f"run-{busy_port}" / "localstack.pid").exists()


def tool_dir(tmp_path: Path, tools: list[str]) -> str:
    """A PATH holding only the named programs (so one can be missing)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in tools:
        target = subprocess.run(["which", tool], capture_output=True, text=True, check=True).stdout.strip()
        (bin_dir / tool).symlink_to(target)
    return str(bin_dir)


def test_missing_python_313_is_explained(tmp_path: Path):
    # Given no Python 3.13 anywhere make looks
    env = {
        **os.environ,
        "PATH": tool_dir(tmp_path, ["make", "sh", "bash", "node", "npm", "ls"]),
        "PYENV_ROOT": str(tmp_path / "no-pyenv"),
        "HOME": str(tmp_path),
    }
    env.pop("PYTHON313", None)
    # When the prerequisites are checked
    result = subprocess.run(["make", "-s", "prereqs"], cwd=ROOT, env=env, capture_output=True, text=True)
    # Then make stops with the fix
    assert result.returncode != 0
    assert "Python 3.13 is required" in result.stderr
    assert "PYTHON313=" in result.stderr


def test_missing_node_is_explained(tmp_path: Path):
    # Given Python 3.13 but no node on PATH
    python313 = subprocess.run(
        ["tools/find-python313"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    env = {**os.environ, "PATH": tool_dir(tmp_path, ["make", "sh", "bash", "ls"]), "PYTHON313": python313}
    # When the prerequisites are checked
    result = subprocess.run(["make", "-s", "prereqs"], cwd=ROOT, env=env, capture_output=True, text=True)
    # Then make stops and says Node 20+ is needed
    assert result.returncode != 0
    assert "Node.js 20+ is required" in result.stderr


def test_cdk_cli_too_old_for_the_library_is_explained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    # Given a CDK CLI that, like aws-cdk 2.1000 or older, cannot read the synthesized assembly
    old_cli = tmp_path / "cdklocal"
    old_cli.write_text(
        "#!/bin/sh\n"
        "echo 'This CDK CLI is not compatible with the CDK library used by your application.'\n"
        "echo '(Cloud assembly schema version mismatch: Maximum schema version supported is 43.x.x, "
        "but found 48.0.0)' >&2\n"
        "exit 1\n"
    )
    old_cli.chmod(0o755)
    version = tmp_path / "cdk"
    version.write_text("#!/bin/sh\necho '2.1000.0 (build 1234567)'\n")
    version.chmod(0o755)
    monkeypatch.setattr(deploy, "CDKLOCAL", old_cli)
    monkeypatch.setattr(deploy, "CDK", version)
    # When a deploy runs it
    with pytest.raises(deploy.DeployError) as error:
        deploy.run_cdk(["deploy"])
    # Then the message names the installed CLI and the fix
    message = str(error.value)
    assert "the CDK CLI (2.1000.0 (build 1234567)) is too old for this aws-cdk-lib" in message
    assert "npm ci" in message


def test_missing_cdklocal_is_explained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(deploy, "CDKLOCAL", tmp_path / "absent")
    with pytest.raises(deploy.DeployError, match="make deps"):
        deploy.run_cdk(["deploy"])


SKIPPING_LOG = (
    "2026-12-01T22:40:01 WARN --- [...] l.s.c.resource_provider : Unable to update resource type "
    '"AWS::Logs::SubscriptionFilter", id "ApiLogsFilter", the update operation is not implemented\n'
    "2026-12-01T22:40:02 INFO --- [...] deployed\n"
    'Unable to update resource type "AWS::Logs::SubscriptionFilter", id "ApiLogsFilter", again\n'
)


def test_updates_the_local_cloud_skipped_are_named_with_what_to_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    # Given a LocalStack log in which a deploy's update was skipped, after what an earlier deploy logged
    log = tmp_path / "localstack.log"
    earlier = 'Unable to update resource type "AWS::S3::Bucket", id "OldNews", long ago\n'
    log.write_text(earlier + SKIPPING_LOG)
    monkeypatch.setattr(localcloud, "LOG_FILE", log)
    # When the deploy looks at what it logged
    deploy.warn_about_skipped_updates(len(earlier))
    # Then it names each skipped resource once, and says what to run
    err = capsys.readouterr().err
    assert "AWS::Logs::SubscriptionFilter  ApiLogsFilter" in err
    assert err.count("ApiLogsFilter") == 1
    assert "OldNews" not in err
    assert "make down && make up" in err


def test_a_deploy_that_skipped_nothing_says_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    log = tmp_path / "localstack.log"
    log.write_text("2026-12-01T22:40:02 INFO --- [...] deployed\n")
    monkeypatch.setattr(localcloud, "LOG_FILE", log)
    deploy.warn_about_skipped_updates(0)
    assert capsys.readouterr().err == ""
