"""Bad files: each fails with its reason through the failure path, before any content stage where
detection or the size limit already tells."""

from __future__ import annotations

import pytest

from tests import samples
from tests.integration.conftest import Cloud
from tests.integration.processing import (
    derivative_versions,
    events_of,
    file_item,
    jobs_of,
    stage_events,
    upload,
)
from tests.integration.stages.conftest import HANDLED_FAILURE_PATH, STANDARD_ENTRY, process, rejection_code


@pytest.mark.parametrize(
    ("data", "failed_state", "code", "status"),
    [
        (samples.corrupt_image(), "Image", "CorruptFile", "failed"),
        (samples.decompression_bomb(), "Image", "DecompressionBomb", "failed"),
        (samples.zip_bomb(), "Archive", "ZipBomb", "failed"),
        (samples.zip_slip(), "Archive", "UnsafeArchivePath", "failed"),
        (b"\x7fELF\x02\x01\x01" + b"\x00" * 200, "Detect", "UnsupportedType", "rejected"),
    ],
    ids=["corrupt-image", "decompression-bomb", "zip-bomb", "zip-slip", "executable"],
)
def test_a_bad_file_fails_with_its_reason_through_the_failure_path_and_the_workflow_succeeds(
    cloud: Cloud, data: bytes, failed_state: str, code: str, status: str
) -> None:
    # Given a stored file that is bad in itself
    uploaded = upload(cloud, data)
    # When its workflow runs
    execution = process(uploaded)
    # Then its stage rejected it, the Catch took it to the failure path, and the workflow did its job
    assert execution.caught == [(failed_state, "FileRejected")]
    assert execution.status == "SUCCEEDED"
    assert execution.visited[-len(HANDLED_FAILURE_PATH) :] == HANDLED_FAILURE_PATH
    assert failed_state in execution.visited
    assert rejection_code(execution) == code
    assert execution.state["failure"] == {
        "outcome": "rejected",
        "fatal": False,
        "code": code,
        "status": status,
    }
    assert execution.state["notify"] == {"event": "file.failed"}
    # And the job failed with the reason, not retryable
    [job] = jobs_of(cloud, uploaded.file_id)
    assert (job["status"], job["error"]["code"], job["error"]["retryable"]) == ("failed", code, False)
    assert job["error"]["message"]
    # And the file item says why, and nothing was derived
    item = file_item(cloud, uploaded.file_id)
    assert (item["status"], item["processing_error"]) == (status, job["error"])
    assert derivative_versions(cloud, uploaded.file_id) == {}
    # And the events show the stage that failed, the failure recorded once, then the notification
    events = stage_events(cloud, uploaded.file_id)
    assert events[-5:] == [
        (failed_state.lower(), "started"),
        (failed_state.lower(), "failed"),
        ("failed", "succeeded"),
        ("notify", "started"),
        ("notify", "succeeded"),
    ]
    failed_event = events_of(cloud, uploaded.file_id)[-3]
    assert failed_event["detail"]["code"] == code


def test_an_unsupported_type_is_rejected_at_detection_before_any_content_stage(cloud: Cloud) -> None:
    uploaded = upload(cloud, b"Rar!\x1a\x07\x01\x00" + b"\x00" * 64)
    execution = process(uploaded)
    assert execution.visited == [*STANDARD_ENTRY, "Detect", *HANDLED_FAILURE_PATH]
    [job] = jobs_of(cloud, uploaded.file_id)
    assert (job["task"], job["status"], job["error"]["code"]) == ("type_check", "failed", "UnsupportedType")
    item = file_item(cloud, uploaded.file_id)
    assert (item["status"], item["detected_type"]) == ("rejected", "application/vnd.rar")
    assert "rar" in item["processing_error"]["message"]


def test_an_object_over_the_size_limit_is_never_loaded_and_fails_its_job(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a 1000-byte object limit, and a larger JPEG
    monkeypatch.setenv("MAX_OBJECT_BYTES", "1000")
    uploaded = upload(cloud, samples.jpeg(320, 240))
    # When processed / Then it is detected from its first bytes, and the image stage refuses to load it
    execution = process(uploaded)
    assert execution.caught == [("Image", "FileRejected")]
    [job] = jobs_of(cloud, uploaded.file_id)
    assert (job["task"], job["error"]["code"]) == ("image_renditions", "LimitExceeded")
