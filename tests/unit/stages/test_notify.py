"""The notify stage queues the file's outcome for the webhook sender: one EventMessage, stable across
retries, nothing for a deleted file. Fakes only (stage_fakes)."""

from __future__ import annotations

import logging

import pytest
from botocore.exceptions import ClientError

from fileflow_common.pipeline import Stage
from fileflow_common.webhooks.events import EventData, EventMessage, EventType, event_id, new_event
from fileflow_common.webhooks.queue import SqsWebhookEvents, UnconfiguredWebhookEvents, webhook_events
from fileflow_stages._runtime.stage import TransientStageError, run_stage
from fileflow_stages._runtime.state import DeclaredFile
from fileflow_stages.notify.handler import lambda_handler as notify_handler
from fileflow_stages.notify.handler import notify
from tests.unit.stage_fakes import (
    EXECUTION_ARN,
    NOW,
    UPLOAD,
    FakeRecords,
    FakeStore,
    FakeWebhookEvents,
    detected,
    install,
    payload,
)
from tests.unit.test_processing_deleted_files import Context

CALLBACK = "https://hooks.example.com/fileflow/once"


@pytest.fixture
def records() -> FakeRecords:
    records = FakeRecords(declared_file=DeclaredFile(upload_id="up-0001", callback_url=CALLBACK))
    records.queue()
    return records


@pytest.fixture
def webhooks(monkeypatch: pytest.MonkeyPatch, records: FakeRecords) -> FakeWebhookEvents:
    webhooks = FakeWebhookEvents()
    install(monkeypatch, FakeStore(b""), records, webhooks)
    return webhooks


def notified(**state: object) -> dict[str, object]:
    return run_stage(Stage.NOTIFY, payload(detect=detected(), **state), notify)


def test_a_processed_file_queues_exactly_its_event_with_the_callback_url(webhooks: FakeWebhookEvents) -> None:
    # When the notify stage runs after finalize
    output = notified(finalize={"status": "processed"})
    # Then one message is queued: the event, with the ids, the correlation id and the upload's callback
    [body] = webhooks.bodies
    message = EventMessage.model_validate_json(body)
    assert message == EventMessage(
        event_id=event_id(UPLOAD.user_id, "file.processed", EXECUTION_ARN),
        user_id=UPLOAD.user_id,
        type=EventType.FILE_PROCESSED,
        occurred_at=message.occurred_at,
        data=EventData(
            file_id=UPLOAD.file_id, upload_id="up-0001", status="processed", correlation_id="corr-1"
        ),
        callback_url=CALLBACK,
    )
    assert output == {"event": "file.processed"}


@pytest.mark.parametrize(
    ("state", "event_type", "status", "reason"),
    [
        ({"finalize": {"status": "needs_review"}}, EventType.FILE_NEEDS_REVIEW, "needs_review", None),
        (
            {"failure": {"outcome": "rejected", "fatal": False, "code": "CorruptFile", "status": "failed"}},
            EventType.FILE_FAILED,
            "failed",
            "CorruptFile",
        ),
        (
            {
                "failure": {
                    "outcome": "rejected",
                    "fatal": False,
                    "code": "UnsupportedType",
                    "status": "rejected",
                }
            },
            EventType.FILE_FAILED,
            "rejected",
            "UnsupportedType",
        ),
    ],
    ids=["needs-review", "failed", "rejected"],
)
def test_each_outcome_maps_to_its_event_type_and_a_failure_carries_its_code(
    webhooks: FakeWebhookEvents,
    state: dict[str, object],
    event_type: EventType,
    status: str,
    reason: str | None,
) -> None:
    notified(**state)
    [message] = webhooks.sent
    assert (message.type, message.data.status, message.data.reason) == (event_type, status, reason)
    assert message.event_id == event_id(UPLOAD.user_id, event_type.value, EXECUTION_ARN)


def test_a_file_without_a_callback_url_sends_none(webhooks: FakeWebhookEvents, records: FakeRecords) -> None:
    records.declared_file = DeclaredFile(upload_id="up-0001")
    notified(finalize={"status": "processed"})
    assert [message.callback_url for message in webhooks.sent] == [None]


def test_a_retried_notify_queues_the_same_event_id(webhooks: FakeWebhookEvents) -> None:
    # Given a first run whose send failed (the workflow retries the stage)
    webhooks.fail = ClientError({"Error": {"Code": "ServiceUnavailable"}}, "SendMessage")
    with pytest.raises(TransientStageError):
        notified(finalize={"status": "processed"})
    # When the retry sends, and a duplicate run sends again / Then both carry one event id
    webhooks.fail = None
    retried = payload(detect=detected(), finalize={"status": "processed"}) | {"retry_count": 1}
    run_stage(Stage.NOTIFY, retried, notify)
    run_stage(Stage.NOTIFY, retried | {"retry_count": 2}, notify)
    first, second = webhooks.sent
    assert first.event_id == second.event_id == event_id(UPLOAD.user_id, "file.processed", EXECUTION_ARN)


def test_a_failed_send_fails_the_stage_without_recording_it_succeeded(
    webhooks: FakeWebhookEvents, records: FakeRecords
) -> None:
    webhooks.fail = ClientError({"Error": {"Code": "ServiceUnavailable"}}, "SendMessage")
    with pytest.raises(TransientStageError):
        notified(finalize={"status": "processed"})
    assert records.stage_events() == [("notify", "started")]
    assert webhooks.bodies == []


def test_a_file_deleted_while_notify_runs_sends_nothing(
    webhooks: FakeWebhookEvents, records: FakeRecords
) -> None:
    # Given the file deleted after the stage's `started` event, before it reads the file item
    original = records.declared

    def deleted_meanwhile(upload: object) -> DeclaredFile:
        records.deleted = True
        return original(UPLOAD)

    records.declared = deleted_meanwhile  # type: ignore[method-assign]
    # When it runs / Then the workflow ends quietly, nothing was queued, no `succeeded` recorded
    output = notify_handler(payload(detect=detected(), finalize={"status": "processed"}), Context())
    assert (output, webhooks.bodies) == ({"event": None}, [])
    assert records.stage_events() == [("notify", "started")]


def test_no_outcome_in_the_state_sends_nothing(webhooks: FakeWebhookEvents) -> None:
    assert notified() == {"event": None}
    assert webhooks.bodies == []


# --- the queue adapters ------------------------------------------------------------------------------


class RecordingSqs:
    def __init__(self) -> None:
        self.sent: list[dict[str, str]] = []

    def send_message(self, **request: str) -> None:
        self.sent.append(request)


def message() -> EventMessage:
    return new_event(
        user_id="u", type=EventType.UPLOAD_EXPIRED, data=EventData(status="expired"), identity=("up",),
        occurred_at=NOW,
    )  # fmt: skip


def test_the_sqs_adapter_sends_the_messages_json_to_the_queue() -> None:
    sqs = RecordingSqs()
    webhook_events(sqs, "https://sqs.example/q").publish(message())  # type: ignore[arg-type]
    assert sqs.sent == [{"QueueUrl": "https://sqs.example/q", "MessageBody": message().model_dump_json()}]


def test_without_a_queue_url_events_are_dropped_with_one_warning(caplog: pytest.LogCaptureFixture) -> None:
    events = webhook_events(RecordingSqs(), None)  # type: ignore[arg-type]
    assert isinstance(events, UnconfiguredWebhookEvents)
    assert not isinstance(webhook_events(RecordingSqs(), "q"), UnconfiguredWebhookEvents)  # type: ignore[arg-type]
    assert isinstance(webhook_events(RecordingSqs(), "q"), SqsWebhookEvents)  # type: ignore[arg-type]
    with caplog.at_level(logging.WARNING):
        events.publish(message())
        events.publish(message())
    warnings = [record for record in caplog.records if "WEBHOOK_QUEUE_URL" in record.getMessage()]
    assert len(warnings) == 1
