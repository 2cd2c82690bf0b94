"""The sender end to end in-process: moto's table and queue, a real receiver on 127.0.0.1."""

from __future__ import annotations

import json
from datetime import timedelta

from standardwebhooks import Webhook

from fileflow_common.clock import from_timestamp, to_timestamp, utc_now
from fileflow_common.webhooks.events import AttemptMessage, EventType
from tests.conftest import LogReader
from tests.integration.webhooks.conftest import Sender, file_event
from tests.webhook_receiver import Reply, receiver


def test_500_500_200_is_three_attempts_recorded_with_their_codes(
    sender: Sender, captured_logs: LogReader
) -> None:
    with receiver([Reply(500), Reply(500), Reply(200)]) as hook:
        # Given an endpoint whose receiver fails twice, then accepts
        endpoint_id, secret = sender.add_endpoint(hook.url())
        event = file_event("file-1")
        # When the event is fanned out and its attempts run
        assert sender.invoke(event.model_dump_json()) == {"batchItemFailures": []}
        sender.drain()
    # Then the receiver got three requests, each verified with the endpoint's secret, one webhook-id
    assert len(hook.requests) == 3
    for request in hook.requests:
        assert Webhook(secret).verify(request.body, request.headers)["data"]["file_id"] == "file-1"
    assert len({request.headers["webhook-id"] for request in hook.requests}) == 1
    assert json.loads(hook.requests[0].body)["type"] == "file.processed"
    # And the delivery holds the three attempts with their codes, and succeeded
    [delivery] = sender.deliveries()
    assert delivery["status"] == "succeeded"
    assert delivery["endpoint_id"] == endpoint_id
    assert delivery["webhook_id"] == hook.requests[0].headers["webhook-id"]
    attempts = delivery["attempts"]
    assert [a["attempt"] for a in attempts] == [1, 2, 3]
    assert [a["status_code"] for a in attempts] == [500, 500, 200]
    assert [a["next_attempt_at"] is not None for a in attempts] == [True, True, False]
    assert all(a["duration_ms"] >= 0 and a["error"] is None for a in attempts)
    # And the file's pointer and events say so (stage notify: retrying, retrying, delivered)
    [pointer] = sender.file_pointers("file-1")
    assert (pointer["status"], pointer["attempt_count"], pointer["last_status_code"]) == ("succeeded", 3, 200)
    events = sender.file_events("file-1")
    assert [e["detail"]["delivery"]["outcome"] for e in events] == ["retrying", "retrying", "delivered"]
    assert [e["state"] for e in events] == ["failed", "failed", "succeeded"]
    assert {e["stage"] for e in events} == {"notify"}
    assert {e["correlation_id"] for e in events} == {"corr-job-1"}
    # And the sender's log lines carry the event's correlation id
    attempted = [line for line in captured_logs() if line.get("message") == "delivery attempted"]
    assert len(attempted) == 3
    assert {line.get("correlation_id") for line in attempted} == {"corr-job-1"}


def test_410_gone_disables_the_endpoint(sender: Sender) -> None:
    with receiver([Reply(410)]) as hook:
        # Given an endpoint whose receiver answers 410 Gone
        endpoint_id, _ = sender.add_endpoint(hook.url())
        # When an event is delivered to it
        sender.invoke(file_event("file-1").model_dump_json())
        sender.drain()
        # Then there is one attempt, the delivery failed, and the endpoint is disabled with the reason
        [delivery] = sender.deliveries()
        assert delivery["status"] == "failed"
        assert [a["status_code"] for a in delivery["attempts"]] == [410]
        endpoint = sender.endpoint(endpoint_id)
        assert endpoint["status"] == "disabled"
        assert endpoint["disabled_reason"] == f"410 Gone from {hook.url()}"
        [event] = sender.file_events("file-1")
        assert event["detail"]["delivery"]["outcome"] == "disabled"
        # And a later event is not delivered to it
        sender.invoke(file_event("file-2", identity="job-2").model_dump_json())
        sender.drain()
        assert len(hook.requests) == 1
        assert len(sender.deliveries()) == 1


def test_retry_after_sets_the_next_attempt(sender: Sender) -> None:
    with receiver([Reply(429, {"retry-after": "120"})]) as hook:
        # Given a receiver that throttles for 120 s (the schedule's next step is 0 s)
        sender.add_endpoint(hook.url())
        before = utc_now()
        # When the first attempt runs
        sender.invoke(file_event().model_dump_json())
        sender.drain()
    # Then the delivery is retrying, its next attempt due 120 s after the attempt
    [delivery] = sender.deliveries()
    assert delivery["status"] == "retrying"
    [attempt] = delivery["attempts"]
    assert attempt["status_code"] == 429
    due = from_timestamp(attempt["next_attempt_at"])
    assert timedelta(seconds=119) <= due - before <= timedelta(seconds=125)
    assert delivery["next_attempt_at"] == attempt["next_attempt_at"]
    # And the retry waits on the queue as a delayed message
    assert sender.delayed() == 1
    assert len(hook.requests) == 1


def test_a_duplicate_attempt_message_does_not_add_an_attempt(sender: Sender) -> None:
    with receiver([Reply(500)]) as hook:
        # Given a delivery whose first attempt message is taken off the queue
        sender.add_endpoint(hook.url())
        sender.invoke(file_event().model_dump_json())
        [first] = sender.queued()
        # When SQS delivers that message twice, one after the other
        sender.invoke(first)
        retry = sender.queued()
        sender.invoke(first)
    # Then one attempt is recorded and one request sent; the retry it queued is still the only one
    [delivery] = sender.deliveries()
    assert [a["attempt"] for a in delivery["attempts"]] == [1]
    assert len(hook.requests) == 1
    assert [json.loads(body)["attempt"] for body in retry] == [2]
    assert sender.queued() == []


def test_duplicates_handled_at_once_record_one_attempt(sender: Sender) -> None:
    # The second answer comes later, so both copies read the delivery before either records its attempt
    # (and moto's transactions, unlike DynamoDB's, are not atomic across threads: the writes must not meet).
    with receiver([Reply(200, delay=0.3), Reply(200, delay=1.2)]) as hook:
        # Given a slow receiver, and the first attempt message of a delivery
        sender.add_endpoint(hook.url())
        sender.invoke(file_event().model_dump_json())
        [first] = sender.queued()
        # When two copies of it arrive in one batch (handled concurrently)
        assert sender.invoke(first, first) == {"batchItemFailures": []}
    # Then both may have been sent (the receiver dedupes on webhook-id), but one attempt is recorded
    [delivery] = sender.deliveries()
    assert len(delivery["attempts"]) == 1
    assert len(hook.requests) == 2
    assert len({request.headers["webhook-id"] for request in hook.requests}) == 1
    assert len(sender.file_events("file-1")) == 1


def test_an_event_fanned_out_twice_is_one_delivery(sender: Sender) -> None:
    with receiver() as hook:
        # Given an endpoint, and an event delivered already
        sender.add_endpoint(hook.url())
        event = file_event()
        sender.invoke(event.model_dump_json())
        sender.drain()
        # When the producer queues the same event again (a retried notify stage)
        sender.invoke(event.model_dump_json())
        sender.drain()
    # Then there is still one delivery with one attempt, and the receiver got one request
    [delivery] = sender.deliveries()
    assert len(delivery["attempts"]) == 1
    assert len(hook.requests) == 1
    assert len(sender.file_pointers("file-1")) == 1


def test_a_delivery_whose_first_attempt_was_never_queued_is_sent_when_the_producer_retries(
    sender: Sender,
) -> None:
    with receiver() as hook:
        # Given a fan-out that wrote its delivery, then died before its attempt was queued
        sender.add_endpoint(hook.url())
        event = file_event()
        sender.invoke(event.model_dump_json())
        assert len(sender.queued()) == 1  # taken off the queue unhandled: as if never sent
        # When the producer queues the event again, as a retry does: same event id, a later occurred_at
        later = to_timestamp(from_timestamp(event.occurred_at) + timedelta(seconds=2))
        sender.invoke(event.model_copy(update={"occurred_at": later}).model_dump_json())
        sender.drain()
    # Then the first delivery is sent (once), and no second delivery was made
    [delivery] = sender.deliveries()
    assert len(delivery["attempts"]) == 1
    assert [request.headers["webhook-id"] for request in hook.requests] == [f"msg_{delivery['delivery_id']}"]


def test_only_enabled_subscribed_endpoints_get_the_event(sender: Sender) -> None:
    with receiver() as subscribed, receiver() as other:
        # Given one endpoint subscribed to file.processed and one only to upload.expired
        sender.add_endpoint(subscribed.url())
        sender.add_endpoint(other.url(), events=(EventType.UPLOAD_EXPIRED.value,))
        # When a file.processed event is fanned out
        sender.invoke(file_event().model_dump_json())
        sender.drain()
    # Then only the subscribed endpoint got it
    assert len(subscribed.requests) == 1
    assert other.requests == []


def test_a_callback_url_is_delivered_under_the_default_endpoint(sender: Sender) -> None:
    with receiver() as endpoint_hook, receiver() as callback:
        # Given two endpoints (the older one is the default, subscribed to nothing this test sends)
        oldest, secret = sender.add_endpoint(
            endpoint_hook.url(),
            events=(EventType.UPLOAD_EXPIRED.value,),
            created_at="2026-01-01T00:00:00.000Z",
        )
        sender.add_endpoint(endpoint_hook.url("/newer"), events=(EventType.UPLOAD_EXPIRED.value,))
        # When an event with the upload's callback_url is fanned out
        sender.invoke(file_event(callback_url=callback.url("/cb")).model_dump_json())
        sender.drain()
    # Then the callback got it, signed with the default endpoint's secret; no endpoint URL got it
    [request] = callback.requests
    assert request.path == "/cb"
    Webhook(secret).verify(request.body, request.headers)
    assert endpoint_hook.requests == []
    # And the delivery sits under the default endpoint with its target_url
    [delivery] = sender.deliveries()
    assert (delivery["endpoint_id"], delivery["target_url"]) == (oldest, callback.url("/cb"))


def test_consecutive_failed_deliveries_disable_the_endpoint(sender: Sender) -> None:
    with receiver([Reply(500)] * 15) as hook:
        # Given an endpoint that always fails (5 attempts per delivery; 3 failed deliveries disable)
        endpoint_id, _ = sender.add_endpoint(hook.url())
        # When three events are delivered
        for number in range(3):
            sender.invoke(file_event(f"file-{number}", identity=f"job-{number}").model_dump_json())
            sender.drain()
            if number < 2:
                # Then after each of the first two, the count grows and the endpoint stays enabled
                assert sender.endpoint(endpoint_id)["consecutive_failures"] == number + 1
                assert sender.endpoint(endpoint_id)["status"] == "enabled"
    # And the third disables it, with how many failed and the last error
    assert len(hook.requests) == 15
    endpoint = sender.endpoint(endpoint_id)
    assert endpoint["status"] == "disabled"
    assert endpoint["disabled_reason"] == "3 consecutive deliveries failed; last: HTTP 500"
    assert {d["status"] for d in sender.deliveries()} == {"failed"}
    [last] = [e for e in sender.file_events("file-2") if e["detail"]["delivery"]["attempt"] == 5]
    assert last["detail"]["delivery"]["outcome"] == "disabled"


def test_a_success_resets_the_failure_count(sender: Sender) -> None:
    with receiver([Reply(500)] * 5) as hook:
        # Given an endpoint with one failed delivery behind it
        endpoint_id, _ = sender.add_endpoint(hook.url())
        sender.invoke(file_event("file-1", identity="job-1").model_dump_json())
        sender.drain()
        assert sender.endpoint(endpoint_id)["consecutive_failures"] == 1
        # When the next delivery succeeds
        sender.invoke(file_event("file-2", identity="job-2").model_dump_json())
        sender.drain()
    # Then the count is back to 0
    assert sender.endpoint(endpoint_id)["consecutive_failures"] == 0


def test_an_attempt_due_later_than_sqs_can_delay_is_queued_again(sender: Sender) -> None:
    with receiver() as hook:
        # Given a delivery, and its attempt message due in an hour
        sender.add_endpoint(hook.url())
        sender.invoke(file_event().model_dump_json())
        [first] = sender.queued()
        later = AttemptMessage.model_validate_json(first).model_copy(
            update={"due_at": to_timestamp(utc_now() + timedelta(hours=1))}
        )
        # When it arrives
        sender.invoke(later.model_dump_json())
    # Then nothing is sent: it waits on the queue again (at most 15 minutes at a time)
    assert hook.requests == []
    assert sender.delayed() == 1
    assert sender.deliveries()[0]["attempts"] == []


def test_a_manual_redelivery_sends_a_finished_delivery_again_with_the_same_id(sender: Sender) -> None:
    with receiver() as hook:
        # Given a delivery that succeeded
        sender.add_endpoint(hook.url())
        sender.invoke(file_event().model_dump_json())
        sender.drain()
        [delivery] = sender.deliveries()
        # When its owner asks for a redelivery (what POST .../redeliver queues)
        manual = AttemptMessage(
            user_id="alice",
            endpoint_id=delivery["endpoint_id"],
            delivery_id=delivery["delivery_id"],
            manual=True,
        )
        sender.invoke(manual.model_dump_json())
    # Then it is sent again with the same webhook-id, as a second attempt
    assert len(hook.requests) == 2
    assert hook.requests[0].headers["webhook-id"] == hook.requests[1].headers["webhook-id"]
    assert len(sender.deliveries()[0]["attempts"]) == 2
