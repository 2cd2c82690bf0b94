"""The workflow's stages in-process on moto, run the way the state machine runs them (workflow.py).

What every stage test shares: a versioned bucket, a clock that always ticks, one upload run to its end.
"""

from __future__ import annotations

import functools
import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from fileflow_common.clock import utc_now
from fileflow_stages._runtime import stage as stage_runtime
from tests.integration.conftest import BUCKET_NAME, Cloud
from tests.integration.processing import Uploaded
from tests.integration.workflow import Execution, deliver

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
THUMBNAILS = {f"thumb-{size}.{extension}" for size in (1024, 512, 128) for extension in ("webp", "jpg")}
# A file of the default priority takes a standard-lane slot first, and gives it back at each end.
STANDARD_ENTRY = ["ChooseLane", "StandardLane", "AcquireStandardSlot"]
SUCCESS_PATH = [
    "Analysis",
    "AI",
    "NeedsReview",
    "Finalize",
    "Notify",
    "HeldSlotDone",
    "ReleaseSlotDone",
    "Done",
]
_FAILURE_PATH = ["RecordFailure", "NotifyFailure", "HeldSlotFailure", "ReleaseSlotFailure", "FailureIsFatal"]
HANDLED_FAILURE_PATH = [*_FAILURE_PATH, "FileRejected"]
FATAL_FAILURE_PATH = [*_FAILURE_PATH, "ProcessingFailed"]


@pytest.fixture(autouse=True)
def versioned_bucket(cloud: Cloud) -> None:
    # Like the deployed bucket: every overwrite is a new version, so a rewrite of a derivative shows
    cloud.s3.put_bucket_versioning(Bucket=BUCKET_NAME, VersioningConfiguration={"Status": "Enabled"})


@pytest.fixture(autouse=True)
def ticking_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each clock read at least 1 ms after the last: events of one fast stage never share a millisecond
    (their cursors would then sort by digest, not by time; real invocations are slower than that)."""
    last = [datetime.min.replace(tzinfo=utc_now().tzinfo)]

    def tick() -> datetime:
        last[0] = max(utc_now(), last[0] + timedelta(milliseconds=1))
        return last[0]

    monkeypatch.setattr(
        stage_runtime, "StageContext", functools.partial(stage_runtime.StageContext, clock=tick)
    )


def process(uploaded: Uploaded, **options: Any) -> Execution:
    """Its notification to the starter, then the one execution that started, run to its end."""
    delivery = deliver([uploaded.record()], **options)
    assert delivery.response == {"batchItemFailures": []}
    [execution] = delivery.executions
    return execution


def rejection_code(execution: Execution) -> str:
    """The code in `$.error` of a FileRejected: the Lambda error's message is the stage's JSON."""
    cause = json.loads(execution.state["error"]["Cause"])
    return str(json.loads(cause["errorMessage"])["code"])


def service_unavailable(*args: object, **kwargs: object) -> None:
    raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "S3 is down"}}, "PutObject")
