"""The SDK (sync and async) and the CLI beyond uploads, against the real API function in-process and
moto: files processed by the in-process workflow, then listed, searched, waited for, downloaded,
tagged and deleted; webhook endpoints managed. The transports are those of test_client_sdk.py.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest

from fileflow_client import (
    AsyncFileflowClient,
    FileflowClient,
    IntegrityError,
    NotFoundError,
    PreconditionFailedError,
    RetryPolicy,
    UploadOptions,
    cli,
)
from tests import samples
from tests.integration.api_requests import signing_secret
from tests.integration.conftest import BUCKET_NAME, Cloud, FakeLambdaContext
from tests.integration.test_client_sdk import API_URL, InProcessFileflow
from tests.integration.test_files_api import process

__all__ = ["signing_secret"]  # the fixture, imported for this module's tests
TOKEN = "a token the authorizer checked"
PUBLIC_URL = "https://93.184.215.14/fileflow"  # a public address: registered without a DNS lookup


class AsyncInProcess(httpx.AsyncBaseTransport):
    """The async client's requests through the same in-process API (one at a time)."""

    def __init__(self, inner: InProcessFileflow) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        # Mangum runs its own event loop: not inside this one
        answer = await asyncio.to_thread(self._inner.handle_request, request)
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.read())


@pytest.fixture
def versioned(cloud: Cloud) -> Cloud:
    cloud.s3.put_bucket_versioning(Bucket=BUCKET_NAME, VersioningConfiguration={"Status": "Enabled"})
    return cloud


@pytest.fixture
def transport(versioned: Cloud, lambda_context: FakeLambdaContext, signing_secret: str) -> InProcessFileflow:
    return InProcessFileflow(lambda_context)


@pytest.fixture
def client(transport: InProcessFileflow, tmp_path: Path) -> Iterator[FileflowClient]:
    with FileflowClient(
        API_URL, TOKEN, transport=transport, state_dir=tmp_path / "state", retry=RetryPolicy(max_attempts=2)
    ) as made:
        yield made


@pytest.fixture
def processed(
    client: FileflowClient, versioned: Cloud, lambda_context: FakeLambdaContext, tmp_path: Path
) -> Callable[[str, bytes], str]:
    """Uploads a file through the SDK and runs its workflow in-process; returns its file id."""

    def make(name: str, data: bytes) -> str:
        path = tmp_path / "originals" / name
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(data)
        uploaded = client.upload(path)
        process(versioned, lambda_context, uploaded.key)
        return uploaded.file_id

    return make


def test_files_are_listed_searched_and_read_with_their_derivatives(client, processed):
    # Given two processed files
    photo = processed("holiday-photo.png", samples.png())
    note = processed("notes.txt", b"plain words\n" * 20)
    # When the SDK lists and searches them
    listed = {summary.file_id: summary for summary in client.files.list(limit=1)}  # one per page: cursors
    found = [summary.file_id for summary in client.files.search(q="holiday")]
    # Then every page was followed, and search found the one named so
    assert set(listed) == {photo, note}
    assert listed[photo].status == "processed"
    assert found == [photo]
    # And a file's record carries its derivatives, each with a signed download
    detail = client.files.get(photo)
    assert detail.done
    assert detail.summary.filename == "holiday-photo.png"
    assert {"thumb-128.webp", "thumb-1024.webp"} <= {d.name for d in detail.derivatives}
    assert all(d.download is not None for d in detail.derivatives)


def test_wait_returns_at_once_for_a_processed_file_and_events_end_with_notify(client, processed):
    file_id = processed("a.txt", b"some text\n")
    assert client.files.wait(file_id, timeout=10).status == "processed"
    stages = [(event.stage, event.state) for event in client.files.events(file_id)]
    assert ("detect", "succeeded") in stages
    assert stages[-1] == ("notify", "succeeded")


def test_download_streams_the_original_verified_and_resumes_a_partial_one(client, processed, tmp_path):
    data = samples.jpeg(1200, 900)
    file_id = processed("big.jpg", data)
    target = tmp_path / "out" / "big.jpg"
    # Given a download interrupted after its first 1,000 bytes (what a killed run leaves)
    first = client.files.download(file_id, target)
    assert first.verified
    assert first.sha256 == hashlib.sha256(data).hexdigest()
    partial_file = target.with_name("big.jpg.part")
    partial_file.write_bytes(data[:1000])
    target.with_name("big.jpg.part.json").write_text(json.dumps({"etag": _etag_of(client, file_id)}))
    target.unlink()
    # When it runs again
    resumed = client.files.download(file_id, target)
    # Then only the rest was asked for, and the whole is the original's bytes
    assert resumed.resumed_from == 1000
    assert target.read_bytes() == data
    assert not partial_file.exists()


def test_a_corrupted_partial_download_fails_the_checksum_and_is_dropped(client, processed, tmp_path):
    data = samples.jpeg(800, 600)
    file_id = processed("photo.jpg", data)
    target = tmp_path / "photo.jpg"
    target.with_name("photo.jpg.part").write_bytes(b"\0" * 1000)  # not the original's first bytes
    target.with_name("photo.jpg.part.json").write_text(json.dumps({"etag": _etag_of(client, file_id)}))
    with pytest.raises(IntegrityError, match="SHA-256"):
        client.files.download(file_id, target)
    assert not target.exists()
    assert not target.with_name("photo.jpg.part").exists()


def test_a_derivative_downloads_by_name(client, processed, tmp_path):
    file_id = processed("pic.png", samples.png())
    result = client.files.download(file_id, tmp_path / "thumb.webp", derivative="thumb-128.webp")
    assert (tmp_path / "thumb.webp").read_bytes()[:4] == b"RIFF"
    assert result.verified is False  # derivatives carry no declared SHA-256


def test_tags_are_replaced_with_a_version_check_and_delete_is_final(client, processed):
    file_id = processed("t.txt", b"tagged\n")
    tags = client.files.set_tags(file_id, ["finance", "q3"])
    assert tags.tags == ("finance", "q3")
    with pytest.raises(PreconditionFailedError, match="TagsVersionMismatch"):
        client.files.set_tags(file_id, ["late"], if_version=tags.tags_version - 1)
    assert [s.file_id for s in client.files.search(tag="finance")] == [file_id]
    client.files.delete(file_id)
    with pytest.raises(NotFoundError):
        client.files.get(file_id)


def test_upload_options_reach_the_file(client, processed, tmp_path):
    path = tmp_path / "urgent.txt"
    path.write_text("now\n")
    uploaded = client.upload(path, options=UploadOptions(priority=8, tags=("ops",)))
    detail = client.files.get(uploaded.file_id)
    assert detail.priority == 8
    assert detail.summary.tags == ("ops",)


def test_upload_many_takes_directories_by_glob_and_reports_each_file(client, tmp_path):
    folder = tmp_path / "batch"
    (folder / "sub").mkdir(parents=True)
    for name in ("a.txt", "b.txt", "sub/c.txt", "skip.bin", ".hidden.txt"):
        (folder / name).write_text(f"content of {name}\n")
    result = client.upload_many([folder], pattern="*.txt", files_at_once=2)
    assert result.ok
    assert [path.relative_to(folder).as_posix() for path, _ in result.succeeded] == [
        "a.txt",
        "b.txt",
        "sub/c.txt",
    ]
    assert len({uploaded.file_id for _, uploaded in result.succeeded}) == 3


def test_webhook_endpoints_are_managed_through_the_sdk(client):
    created = client.webhooks.create(PUBLIC_URL, ["file.processed"], "ops")
    assert created.secret is not None
    assert created.secret.startswith("whsec_")
    assert [endpoint.endpoint_id for endpoint in client.webhooks.list()] == [created.endpoint_id]
    disabled = client.webhooks.update(created.endpoint_id, enabled=False)
    assert disabled.status == "disabled"
    assert list(client.webhooks.deliveries(created.endpoint_id)) == []
    rotated = client.webhooks.rotate_secret(created.endpoint_id, overlap_seconds=60)
    assert rotated.secret not in (None, created.secret)
    client.webhooks.delete(created.endpoint_id)
    with pytest.raises(NotFoundError):
        client.webhooks.get(created.endpoint_id)


def test_the_async_client_reads_the_same_files(client, processed, transport, tmp_path):
    file_id = processed("async.txt", b"async words\n")

    async def scenario() -> tuple[list[str], str, bytes]:
        async with AsyncFileflowClient(API_URL, TOKEN, transport=AsyncInProcess(transport)) as aclient:
            listed = [summary.file_id async for summary in aclient.files.list()]
            detail = await aclient.files.wait(file_id, timeout=10)
            await aclient.files.download(file_id, tmp_path / "async.txt")
            return listed, detail.status, (tmp_path / "async.txt").read_bytes()

    listed, status, data = asyncio.run(scenario())
    assert listed == [file_id]
    assert status == "processed"
    assert data == b"async words\n"


# --- the CLI, in-process ----------------------------------------------------------------------------
@pytest.fixture
def run_cli(
    transport: InProcessFileflow,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Callable[..., tuple[int, str, str]]:
    monkeypatch.setattr(
        cli,
        "FileflowClient",
        partial(
            FileflowClient,
            transport=transport,
            state_dir=tmp_path / "cli-state",
            retry=RetryPolicy(max_attempts=2),
        ),
    )
    monkeypatch.setenv("FILEFLOW_API_URL", API_URL)
    monkeypatch.setenv("FILEFLOW_TOKEN", TOKEN)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))

    def run(*args: str) -> tuple[int, str, str]:
        code = cli.main(list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def cli_lines(out: str) -> list[dict[str, Any]]:
    """The CLI's JSON lines; the in-process API's and stages' EMF records share its stdout here."""
    records = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return [record for record in records if "_aws" not in record]


def test_cli_uploads_a_directory_as_json_lines_then_lists_and_removes(run_cli, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    for name in ("one.txt", "two.txt"):
        (folder / name).write_text(name)
    code, out, _ = run_cli("upload", str(folder), "--json", "--tag", "batch")
    assert code == cli.EXIT_OK
    reports = cli_lines(out)
    assert [Path(r["path"]).name for r in reports] == ["one.txt", "two.txt"]
    assert {r["status"] for r in reports} == {"uploaded"}
    code, out, _ = run_cli("search", "--tag", "batch", "--json")
    assert sorted(item["filename"] for item in cli_lines(out)) == ["one.txt", "two.txt"]
    first = reports[0]["file_id"]
    code, out, _ = run_cli("rm", first, "nope-no-such-file")
    assert code == cli.EXIT_PARTIAL  # one deleted, one not found
    assert f"deleted {first}" in out
    code, _, err = run_cli("info", first)
    assert code == cli.EXIT_NOT_FOUND
    assert f"file {first} was not found (404)" in err


def test_cli_download_writes_the_original_bytes(run_cli, processed, tmp_path):
    data = b"downloaded through the cli\n" * 100
    file_id = processed("d.txt", data)
    target = tmp_path / "d-copy.txt"
    code, out, _ = run_cli("download", file_id, "-o", str(target), "--json")
    assert code == cli.EXIT_OK
    (report,) = cli_lines(out)
    assert report["sha256"] == hashlib.sha256(data).hexdigest()
    assert target.read_bytes() == data


def test_cli_login_stores_the_settings_privately_and_the_environment_overrides_them(
    run_cli, tmp_path, monkeypatch
):
    monkeypatch.delenv("FILEFLOW_API_URL")
    monkeypatch.delenv("FILEFLOW_TOKEN")
    code, _, err = run_cli("ls")
    assert code == cli.EXIT_USAGE
    assert "fileflow login" in err
    code, _, _ = run_cli("login", "--api-url", API_URL, "--token", TOKEN)
    assert code == cli.EXIT_OK
    config = tmp_path / "config" / "fileflow" / "config.toml"
    assert (config.stat().st_mode & 0o777) == 0o600
    assert "token = " in config.read_text()
    assert run_cli("ls", "--json")[0] == cli.EXIT_OK  # from the file
    monkeypatch.setenv("FILEFLOW_API_URL", "https://elsewhere.invalid")
    code, _, err = run_cli("ls")
    assert code == cli.EXIT_FAILED
    assert "elsewhere.invalid" in err  # the environment won


def test_cli_completion_script_names_the_commands(run_cli):
    code, out, _ = run_cli("completion", "bash")
    assert code == cli.EXIT_OK
    assert "complete -" in out  # a bash completion script
    for name in ("download", "webhooks", "review", "--derivative"):
        assert name in out


def _etag_of(client: FileflowClient, file_id: str) -> str:
    detail = client.files.get(file_id)
    assert detail.original is not None
    etag = detail.raw["original"].get("etag")
    assert isinstance(etag, str)
    return etag if etag.startswith('"') else f'"{etag}"'
