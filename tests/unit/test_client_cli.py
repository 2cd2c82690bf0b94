"""The `fileflow` CLI against the in-memory Fileflow."""

from __future__ import annotations

import json
import random
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from fileflow_client import FileflowClient, RetryPolicy, cli
from tests.unit.fileflow_fake import API_URL, TOKEN, FakeFileflow

PART = 64 * 1024


class ExitedError(Exception):
    def __init__(self, code: int) -> None:
        self.code = code


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> FakeFileflow:
    """The CLI's clients reach the fake; the environment configures them as a user would."""
    service = FakeFileflow(part_size=PART, single_limit=PART)
    monkeypatch.setattr(
        cli,
        "FileflowClient",
        partial(
            FileflowClient,
            transport=service.transport(),
            state_dir=tmp_path / "state",
            retry=RetryPolicy(max_attempts=2),
            sleep=lambda _: None,
        ),
    )
    monkeypatch.setenv("FILEFLOW_API_URL", API_URL)
    monkeypatch.setenv("FILEFLOW_TOKEN", TOKEN)
    return service


@pytest.fixture
def no_exit(monkeypatch: pytest.MonkeyPatch) -> None:
    """--stop-after-parts ends the process with os._exit: here it raises instead."""

    def fake_exit(code: int) -> None:
        raise ExitedError(code)

    monkeypatch.setattr("os._exit", fake_exit)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def data_file(tmp_path: Path, size: int) -> Path:
    path = tmp_path / "data.bin"
    path.write_bytes(random.Random(3).randbytes(size))
    return path


def test_upload_prints_a_json_report_of_the_parts_it_sent(tmp_path, fake, capsys):
    path = data_file(tmp_path, 3 * PART)
    code, out, _ = run(capsys, "upload", str(path), "--json", "--concurrency", "2")
    assert code == 0
    report: dict[str, Any] = json.loads(out)
    assert report["parts_sent"] == [1, 2, 3]
    assert report["parts_reused"] == []
    assert fake.objects[report["key"]] == path.read_bytes()


def test_upload_prints_a_readable_summary(tmp_path, fake, capsys):
    path = data_file(tmp_path, 3 * PART)
    code, out, _ = run(capsys, "upload", str(path))
    assert code == 0
    assert "uploaded 192.0 KiB" in out
    assert "3 sent, 0 kept from before, 3 in all" in out


def test_stop_after_parts_ends_the_process_and_a_new_run_resumes(tmp_path, fake, capsys, no_exit):
    # Given the hidden test flag, with the process exit replaced by an exception
    path = data_file(tmp_path, 6 * PART)
    state = tmp_path / "upload.json"
    with pytest.raises(ExitedError) as exited:
        cli.main(
            ["upload", str(path), "--concurrency", "1", "--state-file", str(state), "--stop-after-parts", "2"]
        )
    assert exited.value.code == cli.EXIT_STOPPED
    assert "stopping after 2 parts" in capsys.readouterr().err
    held = sorted(fake.only_upload().parts)
    # When run again
    code, out, _ = run(capsys, "upload", str(path), "--json", "--state-file", str(state))
    # Then it sent only what the storage lacked
    report = json.loads(out)
    assert code == 0
    assert report["resumed"] is True
    assert report["parts_reused"] == held
    assert report["parts_sent"] == [n for n in range(1, 7) if n not in held]


def test_status_parts_and_abort_commands(tmp_path, fake, capsys, no_exit):
    path = data_file(tmp_path, 4 * PART)
    with pytest.raises(ExitedError):
        cli.main(["upload", str(path), "--concurrency", "1", "--stop-after-parts", "1"])
    upload_id = fake.only_upload().upload_id

    code, out, _ = run(capsys, "status", upload_id, "--json")
    assert code == 0
    assert json.loads(out)["status"] == "initiated"

    code, out, _ = run(capsys, "parts", upload_id, "--json")
    assert code == 0
    assert [part["part_number"] for part in json.loads(out)] == [1]

    code, out, _ = run(capsys, "abort", upload_id)
    assert code == 0
    assert f"upload {upload_id}: aborted" in out


def test_a_refused_token_is_explained(tmp_path, fake, capsys, monkeypatch):
    monkeypatch.setenv("FILEFLOW_TOKEN", "expired-token")
    code, _, err = run(capsys, "upload", str(data_file(tmp_path, 10)))
    assert code == cli.EXIT_AUTH
    assert "authentication failed (401)" in err
    assert "FILEFLOW_TOKEN" in err


def test_a_file_too_large_is_explained(tmp_path, fake, capsys):
    fake.max_size = 5
    code, _, err = run(capsys, "upload", str(data_file(tmp_path, 10)))
    assert code == cli.EXIT_FAILED
    assert "too large" in err
    assert "413" in err


def test_a_refused_content_type_is_explained(tmp_path, fake, capsys):
    fake.accepted_types = ("image/png",)
    code, _, err = run(capsys, "upload", str(data_file(tmp_path, 10)), "--content-type", "text/x-shellscript")
    assert code == cli.EXIT_FAILED
    assert "not accepted (415)" in err
    assert "--content-type" in err


def test_an_unknown_upload_is_explained(fake, capsys):
    code, _, err = run(capsys, "status", "nope")
    assert code == cli.EXIT_NOT_FOUND
    assert "upload nope was not found (404)" in err


def test_a_missing_file_is_explained(tmp_path, fake, capsys):
    code, _, err = run(capsys, "upload", str(tmp_path / "absent.bin"))
    assert code == cli.EXIT_FAILED
    assert "absent.bin" in err


@pytest.mark.parametrize("missing", ["FILEFLOW_API_URL", "FILEFLOW_TOKEN"])
def test_missing_configuration_is_a_usage_error(fake, capsys, monkeypatch, missing):
    monkeypatch.delenv(missing)
    code, _, err = run(capsys, "status", "up1")
    assert code == cli.EXIT_USAGE
    assert missing in err


@pytest.mark.parametrize("flags_first", [True, False])
def test_flags_override_the_environment_before_or_after_the_command(fake, capsys, monkeypatch, flags_first):
    monkeypatch.setenv("FILEFLOW_TOKEN", "wrong")
    monkeypatch.setenv("FILEFLOW_API_URL", "https://wrong.example.com")
    flags = ["--api-url", API_URL, "--token", TOKEN, "--json"]
    code, _, err = run(capsys, *([*flags, "status", "nope"] if flags_first else ["status", "nope", *flags]))
    assert "404" in err  # authenticated with the flag's token at the flag's URL
    assert code == cli.EXIT_NOT_FOUND
