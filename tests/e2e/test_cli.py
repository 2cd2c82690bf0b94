"""The `fileflow` CLI against the deployed stack, run as a user runs it: a process of its own, configured
by the environment, its JSON read from stdout; and under tmux, where its bars are looked at.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import uuid
import zipfile
from pathlib import Path
from typing import Any

import pytest

from fileflow_client.cli import EXIT_INTERRUPTED, EXIT_NOT_FOUND, EXIT_OK
from infra import outputs as names
from tests import samples
from tests.e2e.conftest import AwsClients
from tests.e2e.polling import wait_for
from tests.e2e.test_client_uploads import GIB, ROOT, s3_held_parts, write_random_file
from tools.stack import StackOutputs
from tools.token import TokenFactory

CLI_TIMEOUT = 600
ARTIFACTS = Path(os.environ.get("FILEFLOW_ARTIFACT_DIR", "/tmp/fileflow-artifacts"))


@pytest.fixture(scope="module")
def tokens(stack: StackOutputs) -> TokenFactory:
    return TokenFactory.for_stack(stack)


@pytest.fixture
def cli_env(stack: StackOutputs, tokens: TokenFactory, tmp_path: Path) -> dict[str, str]:
    """A user of its own, and a home of its own (its upload records, no config file)."""
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT / "client"),
        "FILEFLOW_API_URL": stack.api_url,
        "FILEFLOW_TOKEN": tokens.valid(f"e2e-cli-{uuid.uuid4().hex[:12]}"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }


def fileflow(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fileflow_client", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT,
        check=False,
    )


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_upload_a_directory_and_wait_prints_each_files_final_status(cli_env: dict[str, str], tmp_path: Path):
    # Given a directory of an image, a text and a CSV file
    folder = tmp_path / "inbox"
    folder.mkdir()
    (folder / "photo.png").write_bytes(samples.png())
    (folder / "notes.txt").write_text("Meeting notes.\nShip it on Friday.\n")
    (folder / "table.csv").write_text("name,amount\nalpha,1\nbeta,2\n")
    # When the CLI uploads it and waits
    done = fileflow(cli_env, "upload", str(folder), "--wait", "--json", "--tag", "inbox")
    # Then stdout holds one JSON object per file, each with its final status (progress went to stderr)
    assert done.returncode == EXIT_OK, done.stderr
    reports = {Path(report["path"]).name: report for report in json_lines(done.stdout)}
    assert set(reports) == {"photo.png", "notes.txt", "table.csv"}
    assert {report["status"] for report in reports.values()} == {"processed"}
    assert {report["stage"] for report in reports.values()} == {"notify"}
    # And the files are there, tagged
    listed = json_lines(fileflow(cli_env, "search", "--tag", "inbox", "--json").stdout)
    assert sorted(item["file_id"] for item in listed) == sorted(r["file_id"] for r in reports.values())


def test_download_writes_the_original_bytes_then_rm_makes_info_not_found(
    cli_env: dict[str, str], tmp_path: Path
):
    # Given an uploaded file
    original = tmp_path / "report.bin"
    sha256 = write_random_file(original, 3 * 1024 * 1024 + 7, seed=11)
    uploaded = json_lines(fileflow(cli_env, "upload", str(original), "--json").stdout)[0]
    file_id = uploaded["file_id"]
    # When the CLI downloads it
    copy = tmp_path / "copy.bin"
    done = fileflow(cli_env, "download", file_id, "-o", str(copy), "--json")
    # Then the bytes written hash to the original's SHA-256, which the CLI checked itself
    assert done.returncode == EXIT_OK, done.stderr
    assert hashlib.sha256(copy.read_bytes()).hexdigest() == sha256
    assert json.loads(done.stdout) | {"path": None} == {
        "path": None,
        "size": original.stat().st_size,
        "sha256": sha256,
        "resumed_from": 0,
        "verified": True,
    }
    # When it is removed, `info` says it is not found, with exit code 3
    assert fileflow(cli_env, "rm", file_id).returncode == EXIT_OK
    info = fileflow(cli_env, "info", file_id)
    assert info.returncode == EXIT_NOT_FOUND
    assert f"file {file_id} was not found (404)" in info.stderr


def test_ctrl_c_during_a_one_gib_upload_then_the_same_command_resumes(
    cli_env: dict[str, str], stack: StackOutputs, aws: AwsClients, tmp_path: Path
):
    # Given a 1 GiB file whose upload is under way in a CLI process
    path = tmp_path / "big.bin"
    sha256 = write_random_file(path, GIB, seed=21)
    command = [sys.executable, "-m", "fileflow_client", "upload", str(path), "--json"]
    running = subprocess.Popen(
        command, env=cli_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    records = Path(cli_env["XDG_CACHE_HOME"]) / "fileflow" / "uploads"
    bucket = stack[names.BUCKET_NAME]

    def recorded() -> dict[str, Any] | None:
        found = list(records.glob("*.json")) if records.exists() else []
        return json.loads(found[0].read_text()) if found else None

    state = wait_for(recorded, timeout=120, what="the upload's record")
    wait_for(
        lambda: len(s3_held_parts(aws, bucket, state["key"])) >= 3, timeout=300, interval=0.2, what="3 parts"
    )
    # When the user presses Ctrl-C
    running.send_signal(signal.SIGINT)
    _, err = running.communicate(timeout=60)
    assert running.returncode == EXIT_INTERRUPTED, err
    assert "run the same command again to resume" in err
    held = s3_held_parts(aws, bucket, state["key"])
    assert 3 <= len(held) < state["part_count"]
    # Then the same command continues that upload, sending only what S3 lacks
    again = subprocess.run(
        command, env=cli_env, capture_output=True, text=True, timeout=CLI_TIMEOUT, check=False
    )
    assert again.returncode == EXIT_OK, again.stderr
    report = json.loads(again.stdout)
    assert report["upload_id"] == state["upload_id"]
    assert report["resumed"] is True
    assert set(held) <= set(report["parts_reused"])
    assert report["sha256"] == sha256


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_progress_bars_render_and_move_in_a_terminal(cli_env: dict[str, str], tmp_path: Path):
    # Given a terminal (tmux, 120 x 30) running an upload of a few files with --wait
    folder = tmp_path / "screens"
    folder.mkdir()
    for index in range(3):  # archives (listed, never extracted): large enough for the bars to move
        with zipfile.ZipFile(folder / f"bundle-{index}.zip", "w", zipfile.ZIP_STORED) as bundle:
            bundle.writestr("data.bin", random.Random(30 + index).randbytes(40 * 1024 * 1024))
    session = f"fileflow-{uuid.uuid4().hex[:8]}"
    names_passed = ("PYTHONPATH", "FILEFLOW_API_URL", "FILEFLOW_TOKEN", "XDG_CACHE_HOME", "XDG_CONFIG_HOME")
    env_flags = [flag for name in names_passed for flag in ("-e", f"{name}={cli_env[name]}")]
    upload = f"{sys.executable} -m fileflow_client upload {folder} --wait --files-at-once 3"
    shell = f"{upload}; echo EXITED $?; sleep 600"
    subprocess.run(
        ["tmux", "new-session", "-d", "-s", session, "-x", "120", "-y", "30", *env_flags, shell], check=True
    )
    captures: list[str] = []

    def screen() -> str:
        text = subprocess.run(
            ["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True, check=True
        ).stdout
        if not captures or captures[-1] != text:
            captures.append(text)
        return text

    try:
        # Then bars with sizes appear, one per file and a total, and they move
        wait_for(lambda: "total (3 files)" in screen() and "uploading" in captures[-1], timeout=120,
                   what="the upload bars")  # fmt: skip
        first = captures[-1]
        wait_for(lambda: screen() != first and "MiB" in captures[-1], timeout=120, what="bars moving")
        wait_for(lambda: "EXITED" in screen(), timeout=300, what="the command's end")
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], check=False)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / "cli-upload-tmux.txt").write_text("\n\n----- next capture -----\n\n".join(captures))
    final = captures[-1]
    assert "EXITED 0" in final
    assert final.count("processed") >= 3  # the table's status column after --wait
    assert any("━" in capture for capture in captures)  # rich's bar characters
