"""The notify stage on moto queues the file's outcome to the webhook queue, once per execution."""

from __future__ import annotations

import pytest

from fileflow_common.webhooks.events import EventData, EventMessage, EventType, event_id
from tests import samples
from tests.integration.conftest import Cloud
from tests.integration.processing import USER, declare, new_file_id, upload, upload_id_of
from tests.integration.stages.conftest import process
from tests.integration.webhook_queue import create_webhook_queue, queued_events
from tests.integration.workflow import run_execution

CALLBACK = "https://hooks.example.com/fileflow/once"


@pytest.fixture
def webhook_queue(cloud: Cloud, monkeypatch: pytest.MonkeyPatch) -> str:
    return create_webhook_queue(cloud, monkeypatch)


def test_a_processed_file_queues_one_file_processed_event_with_its_callback(
    cloud: Cloud, webhook_queue: str
) -> None:
    # Given a file declared with a callback_url and the upload's correlation id, then uploaded
    file_id = new_file_id()
    declare(
        cloud,
        file_id,
        filename="a.png",
        content_type="image/png",
        correlation_id="corr-9",
        callback_url=CALLBACK,
    )
    # When its workflow runs to its end
    execution = process(upload(cloud, samples.png(), file_id=file_id))
    # Then exactly one event is on the webhook queue, naming the file, its upload and its outcome
    [message] = queued_events(cloud, webhook_queue)
    assert message == EventMessage(
        event_id=event_id(USER, "file.processed", execution.execution_arn),
        user_id=USER,
        type=EventType.FILE_PROCESSED,
        occurred_at=message.occurred_at,
        data=EventData(
            file_id=file_id, upload_id=upload_id_of(file_id), status="processed", correlation_id="corr-9"
        ),
        callback_url=CALLBACK,
    )


def test_a_rejected_file_queues_file_failed_with_its_code(cloud: Cloud, webhook_queue: str) -> None:
    process(upload(cloud, b"\x7fELF\x02\x01\x01" + b"\x00" * 200))
    [message] = queued_events(cloud, webhook_queue)
    assert (message.type, message.data.status, message.data.reason, message.callback_url) == (
        EventType.FILE_FAILED,
        "rejected",
        "UnsupportedType",
        None,
    )


def test_a_replayed_execution_queues_the_same_event_id(cloud: Cloud, webhook_queue: str) -> None:
    # Given a file processed once
    execution = process(upload(cloud, samples.png()))
    # When the same execution runs again (a redrive, a duplicate start)
    run_execution(execution.execution_arn)
    # Then the sender gets the one event twice: the same id, which its fan-out delivers once
    first, second = queued_events(cloud, webhook_queue)
    assert first.event_id == second.event_id == event_id(USER, "file.processed", execution.execution_arn)


def test_without_a_webhook_queue_the_workflow_still_succeeds(cloud: Cloud) -> None:
    # Given a deployment from before webhooks (no WEBHOOK_QUEUE_URL)
    execution = process(upload(cloud, samples.png()))
    # Then the file is processed and notify says which event it would have sent
    assert (execution.status, execution.state["notify"]) == ("SUCCEEDED", {"event": "file.processed"})
