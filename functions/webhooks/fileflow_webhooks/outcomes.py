"""What a response means (Standard Webhooks): only 2xx is success; 410 Gone disables the endpoint;
429/502/503/504 are retried no sooner than the receiver's Retry-After; any other status, a timeout, a
connection error or a refused address is retried by the schedule."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from fileflow_webhooks.schedule import RetrySchedule, retry_after
from fileflow_webhooks.transport import Sent

# Statuses whose Retry-After is honoured.
THROTTLED = frozenset({429, 502, 503, 504})


class Verdict(StrEnum):
    SUCCESS = "success"
    GONE = "gone"
    RETRY = "retry"


def classify(sent: Sent) -> Verdict:
    if sent.status_code is None:
        return Verdict.RETRY
    if 200 <= sent.status_code < 300:
        return Verdict.SUCCESS
    if sent.status_code == 410:
        return Verdict.GONE
    return Verdict.RETRY


def describe_failure(sent: Sent) -> str:
    """A failed attempt in a few words, for a disabled endpoint's reason."""
    return f"HTTP {sent.status_code}" if sent.status_code is not None else str(sent.error)


def retry_delay(sent: Sent, attempt: int, schedule: RetrySchedule, now: datetime) -> timedelta | None:
    """How long after failed attempt `attempt` to try again; None when the schedule is exhausted."""
    honoured = retry_after(sent.retry_after, now) if sent.status_code in THROTTLED else None
    return schedule.delay_after(attempt, honoured)
