"""Files deleted while their workflow runs: it ends quietly and nothing comes back."""

from __future__ import annotations

from typing import Any

import pytest

from fileflow_stages._runtime.object_store import S3ObjectStore
from tests import samples
from tests.integration.conftest import Cloud
from tests.integration.processing import (
    delete_file,
    derivative_versions,
    events_of,
    file_item,
    jobs_of,
    upload,
)
from tests.integration.stages.conftest import process


@pytest.mark.parametrize("deleted_before", ["Image", "Analysis", "Finalize", "Notify"])
def test_a_file_deleted_mid_workflow_ends_it_quietly_and_nothing_comes_back(
    cloud: Cloud, deleted_before: str
) -> None:
    # Given a PNG whose workflow runs, and its owner deletes it just before one of the stages
    uploaded = upload(cloud, samples.png())
    tombstone: list[dict[str, Any]] = []

    def delete_now(state_id: str, state: dict[str, Any]) -> None:
        if state_id == deleted_before:
            delete_file(cloud, uploaded.file_id)
            tombstone.append(file_item(cloud, uploaded.file_id))

    # When the workflow goes on
    execution = process(uploaded, before=delete_now)
    # Then it ends quietly: the stage found the file gone, and nobody is notified
    assert execution.status == "SUCCEEDED"
    if deleted_before != "Notify":
        assert execution.caught == [(deleted_before, "FileDeleted")]
        assert execution.state["failure"] == {"outcome": "deleted", "fatal": False}
    assert execution.state["notify"] == {"event": None}
    # And no job, event or derivative was written back, and the tombstone is as the delete left it
    assert (jobs_of(cloud, uploaded.file_id), events_of(cloud, uploaded.file_id)) == ([], [])
    assert derivative_versions(cloud, uploaded.file_id) == {}
    assert file_item(cloud, uploaded.file_id) == tombstone[0]


def test_renditions_written_while_the_file_was_being_deleted_are_removed(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the delete runs while the image stage writes its renditions (after the first one)
    uploaded = upload(cloud, samples.png())
    write = S3ObjectStore.write_derivative
    written: list[str] = []

    def write_then_delete(self: S3ObjectStore, key: str, *args: Any, **kwargs: Any) -> None:
        write(self, key, *args, **kwargs)
        written.append(key)
        if len(written) == 1:
            delete_file(cloud, uploaded.file_id)  # its clean-up listed derived/ before the next writes

    monkeypatch.setattr(S3ObjectStore, "write_derivative", write_then_delete)
    # When the workflow goes on
    execution = process(uploaded)
    # Then it ends quietly, and the renditions written after the clean-up are gone too
    assert execution.caught == [("Image", "FileDeleted")]
    assert execution.status == "SUCCEEDED"
    assert len(written) == 6
    assert derivative_versions(cloud, uploaded.file_id) == {}
    assert jobs_of(cloud, uploaded.file_id) == []
