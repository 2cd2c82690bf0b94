"""The SDK's local record of an upload in progress."""

import os
from dataclasses import replace
from pathlib import Path

import pytest

from fileflow_client.localfile import FileIdentity
from fileflow_client.state import (
    UploadState,
    default_state_dir,
    default_state_path,
    delete_state,
    load_state,
    save_state,
)


@pytest.fixture
def identity(tmp_path: Path) -> FileIdentity:
    path = tmp_path / "data.bin"
    path.write_bytes(b"x" * 100)
    return FileIdentity.of(path)


def state_for(identity: FileIdentity) -> UploadState:
    return UploadState(
        api_url="https://api.example.com/prod",
        upload_id="up1",
        file_id="f1",
        key="uploads/alice/f1",
        path=str(identity.path),
        size=identity.size,
        mtime_ns=identity.mtime_ns,
        sha256="ab" * 32,
        content_type="application/octet-stream",
        part_size=10,
        part_count=10,
    )


def test_state_round_trips_through_its_file(tmp_path: Path, identity: FileIdentity):
    # Given a state saved / When loaded / Then it is the same
    path = default_state_path(identity, tmp_path / "state")
    save_state(path, state_for(identity))
    assert load_state(path) == state_for(identity)
    # And no temporary file is left beside it
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_state_path_changes_with_the_files_size_or_mtime(tmp_path: Path, identity: FileIdentity):
    same = default_state_path(identity, tmp_path)
    assert default_state_path(FileIdentity.of(identity.path), tmp_path) == same
    assert default_state_path(replace(identity, size=identity.size + 1), tmp_path) != same
    assert default_state_path(replace(identity, mtime_ns=identity.mtime_ns + 1), tmp_path) != same


def test_default_state_dir_honours_xdg_cache_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_state_dir() == tmp_path / "fileflow" / "uploads"


def test_a_record_describes_only_its_own_file_and_api(identity: FileIdentity):
    state = state_for(identity)
    assert state.describes(identity, api_url=state.api_url)
    assert not state.describes(identity, api_url="https://other.example.com/prod")
    assert not state.describes(replace(identity, mtime_ns=identity.mtime_ns + 1), api_url=state.api_url)


@pytest.mark.parametrize("content", ["", "{not json", "[]", '{"upload_id": "only"}'])
def test_an_unreadable_record_is_ignored(tmp_path: Path, content: str):
    path = tmp_path / "state.json"
    path.write_text(content)
    assert load_state(path) is None


def test_missing_record_loads_as_none_and_deletes_quietly(tmp_path: Path):
    assert load_state(tmp_path / "absent.json") is None
    delete_state(tmp_path / "absent.json")


def test_state_directory_is_private(tmp_path: Path, identity: FileIdentity):
    path = tmp_path / "new" / "state.json"
    save_state(path, state_for(identity))
    assert os.stat(path.parent).st_mode & 0o077 == 0
