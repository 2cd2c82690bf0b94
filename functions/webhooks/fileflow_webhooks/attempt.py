"""One delivery attempt: sign, POST through the guarded transport, record it, and decide what follows
(success, a retry queued, the delivery failed, the endpoint disabled)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fileflow_common.clock import from_timestamp, to_timestamp, utc_now
from fileflow_common.observability import logger
from fileflow_common.pipeline import Stage, StageEvent, StageState, event_cursor
from fileflow_common.webhooks.events import AttemptMessage
from fileflow_common.webhooks.items import DeliveryStatus
from fileflow_common.webhooks.targets import TargetPolicy, UnsafeTargetError, parse_target
from fileflow_webhooks.model import AttemptRecord, Delivery, Endpoint, Outcome
from fileflow_webhooks.outcomes import Verdict, classify, describe_failure, retry_delay
from fileflow_webhooks.ports import AttemptQueue, DeliveryStore, EndpointStore, Poster
from fileflow_webhooks.schedule import RetrySchedule
from fileflow_webhooks.signing import NoLiveSecretError, signed_headers
from fileflow_webhooks.transport import Sent

# SQS delays a message at most 15 minutes: a later attempt is re-queued until it is due.
MAX_SQS_DELAY_SECONDS = 900


@dataclass(frozen=True)
class Attempted:
    outcome: Outcome | None  # None: nothing was sent (skipped, re-queued, a duplicate)
    note: str = ""


@dataclass
class Deliverer:
    endpoints: EndpointStore
    deliveries: DeliveryStore
    queue: AttemptQueue
    poster: Poster
    schedule: RetrySchedule
    disable_after: int
    policy: TargetPolicy
    clock: Callable[[], datetime] = utc_now

    def handle(self, message: AttemptMessage) -> Attempted:
        now = self.clock()
        if message.due_at is not None:
            remaining = (from_timestamp(message.due_at) - now).total_seconds()
            if remaining >= 1:
                self.queue.send(message, delay_seconds=min(MAX_SQS_DELAY_SECONDS, math.ceil(remaining)))
                return Attempted(None, "not due yet: re-queued")
        delivery = self.deliveries.get(message.user_id, message.endpoint_id, message.delivery_id)
        if delivery is None:
            return Attempted(None, "delivery gone")
        logger.thread_safe_append_keys(
            correlation_id=delivery.correlation_id, delivery_id=delivery.delivery_id
        )
        if message.attempt is not None and message.attempt != delivery.attempt_count + 1:
            return Attempted(None, f"attempt {message.attempt} is recorded already: duplicate dropped")
        if delivery.status.final and not message.manual:
            return Attempted(None, f"delivery already {delivery.status.value}")
        endpoint = self.endpoints.endpoint(delivery.user_id, delivery.endpoint_id)
        if endpoint is None or (not endpoint.enabled and not message.manual):
            reason = "endpoint deleted" if endpoint is None else "endpoint disabled"
            self._record(delivery, now, None, DeliveryStatus.FAILED, Outcome.FAILED, failure_reason=reason)
            return Attempted(Outcome.FAILED, reason)
        return self._attempt(delivery, endpoint, manual=message.manual, now=now)

    def _attempt(self, delivery: Delivery, endpoint: Endpoint, *, manual: bool, now: datetime) -> Attempted:
        url = delivery.target_url or endpoint.url
        number = delivery.attempt_count + 1
        sent = self._send(delivery, endpoint, url, now)
        verdict = classify(sent)
        # A redelivery of a finished delivery is one attempt: no retries, not counted against the endpoint.
        extra = manual and delivery.status.final
        # A callback URL's answers say nothing about the endpoint it is stored under.
        own_url = not delivery.callback
        counts = own_url and not extra
        delay: timedelta | None = None
        failure_reason: str | None = None
        if verdict is Verdict.SUCCESS:
            status, outcome = DeliveryStatus.SUCCEEDED, Outcome.DELIVERED
        elif verdict is Verdict.GONE:
            status, failure_reason = DeliveryStatus.FAILED, f"410 Gone from {url}"
            outcome = Outcome.FAILED if delivery.callback else Outcome.DISABLED
        else:
            delay = None if extra else retry_delay(sent, number, self.schedule, now)
            if delay is not None:
                status, outcome = DeliveryStatus.RETRYING, Outcome.RETRYING
            else:
                status, failure_reason = DeliveryStatus.FAILED, f"{number} attempts failed"
                disables = counts and endpoint.consecutive_failures + 1 >= self.disable_after
                outcome = Outcome.DISABLED if disables else Outcome.FAILED
        next_at = to_timestamp(now + delay) if delay is not None else None
        record = AttemptRecord(
            attempt=number,
            at=to_timestamp(now),
            status_code=sent.status_code,
            duration_ms=sent.duration_ms,
            error=sent.error,
            next_attempt_at=next_at,
        )
        if delay is not None:
            # Queued before the record is written: a crash in between re-runs this attempt (the message
            # comes back), and the early copy of the next one is dropped by its number.
            self.queue.send(
                AttemptMessage(
                    user_id=delivery.user_id,
                    endpoint_id=delivery.endpoint_id,
                    delivery_id=delivery.delivery_id,
                    due_at=next_at,
                    attempt=number + 1,
                ),
                delay_seconds=min(MAX_SQS_DELAY_SECONDS, math.ceil(delay.total_seconds())),
            )
        if not self._record(
            delivery, now, record, status, outcome, failure_reason=failure_reason, next_attempt_at=next_at
        ):
            return Attempted(None, f"attempt {number} recorded by another run: duplicate dropped")
        self._update_endpoint(endpoint, verdict, status, sent, url, own_url=own_url, counts=counts, now=now)
        logger.info(
            "delivery attempted",
            extra={
                "attempt": number,
                "status_code": sent.status_code,
                "error": sent.error,
                "outcome": outcome.value,
                "duration_ms": sent.duration_ms,
                "next_attempt_at": next_at,
            },
        )
        return Attempted(outcome)

    def _send(self, delivery: Delivery, endpoint: Endpoint, url: str, now: datetime) -> Sent:
        try:
            parse_target(url, self.policy)
            headers = signed_headers(
                delivery.webhook_id, int(now.timestamp()), delivery.payload, endpoint.live_secrets(now)
            )
        except (UnsafeTargetError, NoLiveSecretError) as exc:
            return Sent(None, 0, error=str(exc))
        return self.poster.post(url, headers, delivery.payload.encode())

    def _update_endpoint(
        self,
        endpoint: Endpoint,
        verdict: Verdict,
        status: DeliveryStatus,
        sent: Sent,
        url: str,
        *,
        own_url: bool,
        counts: bool,
        now: datetime,
    ) -> None:
        if verdict is Verdict.GONE and own_url:
            self.endpoints.disable(endpoint, f"410 Gone from {url}", now)
        elif verdict is Verdict.SUCCESS and own_url and endpoint.consecutive_failures:
            self.endpoints.reset_failures(endpoint, now)
        elif status is DeliveryStatus.FAILED and verdict is Verdict.RETRY and counts:
            failures = self.endpoints.count_failed_delivery(endpoint, now)
            if failures >= self.disable_after:
                reason = f"{failures} consecutive deliveries failed; last: {describe_failure(sent)}"
                self.endpoints.disable(endpoint, reason, now)

    def _record(
        self,
        delivery: Delivery,
        now: datetime,
        record: AttemptRecord | None,
        status: DeliveryStatus,
        outcome: Outcome,
        *,
        failure_reason: str | None = None,
        next_attempt_at: str | None = None,
    ) -> bool:
        return self.deliveries.record(
            delivery,
            status=status,
            at=now,
            attempt=record,
            next_attempt_at=next_attempt_at,
            failure_reason=failure_reason,
            event=_file_event(delivery, now, record, outcome),
        )


def _file_event(
    delivery: Delivery, now: datetime, record: AttemptRecord | None, outcome: Outcome
) -> StageEvent | None:
    """The attempt on the file's event stream (stage notify), when the event concerns a file."""
    if delivery.file_id is None:
        return None
    attempt = record.attempt if record else delivery.attempt_count
    detail: dict[str, Any] = {
        "delivery": {
            "delivery_id": delivery.delivery_id,
            "endpoint_id": delivery.endpoint_id,
            "webhook_id": delivery.webhook_id,
            "event_type": delivery.event_type,
            "attempt": attempt,
            "status_code": record.status_code if record else None,
            "outcome": outcome.value,
        }
    }
    return StageEvent(
        file_id=delivery.file_id,
        user_id=delivery.user_id,
        stage=Stage.NOTIFY,
        state=StageState.SUCCEEDED if outcome is Outcome.DELIVERED else StageState.FAILED,
        at=now,
        cursor=event_cursor(now, delivery.delivery_id, "delivery", str(attempt), outcome.value),
        correlation_id=delivery.correlation_id,
        detail=detail,
    )
