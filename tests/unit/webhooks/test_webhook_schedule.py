"""The retry schedule: jitter within +-20 %, the end of the schedule, and Retry-After (seconds or date)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from fileflow_webhooks.outcomes import Verdict, classify, retry_delay
from fileflow_webhooks.schedule import MAX_RETRY_AFTER, RetrySchedule, retry_after
from fileflow_webhooks.settings import DEFAULT_RETRY_SCHEDULE, WebhookSettings
from fileflow_webhooks.transport import Sent

NOW = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)


def _fixed(value: float) -> RetrySchedule:
    """A schedule whose jitter draw is always `value` (a factor in [0.8, 1.2])."""
    return RetrySchedule((5, 300, 1800), uniform=lambda low, high: value)


def test_each_delay_follows_the_schedule_within_twenty_percent() -> None:
    # Given the schedule 5 s, 300 s, 1800 s with the real random draw
    schedule = RetrySchedule((5, 300, 1800))
    # When drawing the delay after each failed attempt many times
    for attempt, base in ((1, 5), (2, 300), (3, 1800)):
        delays = {schedule.delay_after(attempt) for _ in range(200)}
        # Then every delay lies within +-20 % of its step, and they differ (jitter)
        assert all(timedelta(seconds=base * 0.8) <= d <= timedelta(seconds=base * 1.2) for d in delays if d)
        assert len(delays) > 100


def test_the_jitter_draw_is_bounded_by_twenty_percent() -> None:
    # Given a schedule recording the bounds it draws between
    bounds: list[tuple[float, float]] = []

    def lowest(low: float, high: float) -> float:
        bounds.append((low, high))
        return low

    schedule = RetrySchedule((300,), uniform=lowest)
    # When one delay is drawn
    delay = schedule.delay_after(1)
    # Then the factor is drawn from [0.8, 1.2] and the lowest draw gives 240 s
    assert bounds == [(0.8, 1.2)]
    assert delay == timedelta(seconds=240)


def test_no_attempt_after_the_last_step() -> None:
    # Given a schedule of three delays: four attempts in all
    schedule = _fixed(1.0)
    assert schedule.max_attempts == 4
    # Then attempt 3 is followed by the last delay, attempt 4 by none
    assert schedule.delay_after(3) == timedelta(seconds=1800)
    assert schedule.delay_after(4) is None


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("120", timedelta(seconds=120)),
        (format_datetime(NOW + timedelta(minutes=10), usegmt=True), timedelta(minutes=10)),
        ("Wed, 02 Dec 2026 01:30:00 GMT", timedelta(minutes=30)),
        (format_datetime(NOW - timedelta(minutes=1), usegmt=True), None),
        ("soon", None),
        (None, None),
    ],
)
def test_retry_after_in_seconds_or_as_an_http_date(header: str | None, expected: timedelta | None) -> None:
    # Given a Retry-After header: delay seconds, an HTTP date (future or past), garbage, or none
    # Then it reads as the delay from now, or None
    assert retry_after(header, NOW) == expected


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_a_throttling_status_waits_for_its_retry_after(status: int) -> None:
    # Given a 429/502/503/504 asking for an hour, and a schedule whose next step is 5 s
    sent = Sent(status, 10, retry_after="3600")
    # Then the next attempt waits the hour
    assert retry_delay(sent, 1, _fixed(1.0), NOW) == timedelta(hours=1)
    # And a Retry-After shorter than the schedule's step does not bring it forward
    assert retry_delay(Sent(status, 10, retry_after="1"), 2, _fixed(1.0), NOW) == timedelta(seconds=300)


def test_retry_after_is_capped_at_a_day_and_ignored_on_other_statuses() -> None:
    # Given a 429 asking for a week, and a 500 asking for an hour
    week = Sent(429, 10, retry_after=str(7 * 24 * 3600))
    other = Sent(500, 10, retry_after="3600")
    # Then the week is cut to 24 h, and the 500's header is not honoured (the schedule's 5 s stand)
    assert retry_delay(week, 1, _fixed(1.0), NOW) == MAX_RETRY_AFTER
    assert retry_delay(other, 1, _fixed(1.0), NOW) == timedelta(seconds=5)


@pytest.mark.parametrize(
    ("sent", "verdict"),
    [
        (Sent(200, 1), Verdict.SUCCESS),
        (Sent(204, 1), Verdict.SUCCESS),
        (Sent(299, 1), Verdict.SUCCESS),
        (Sent(410, 1), Verdict.GONE),
        (Sent(301, 1), Verdict.RETRY),  # redirects are not followed, and not success
        (Sent(404, 1), Verdict.RETRY),
        (Sent(429, 1), Verdict.RETRY),
        (Sent(500, 1), Verdict.RETRY),
        (Sent(None, 15000, error="no response within 15 s"), Verdict.RETRY),
    ],
)
def test_only_2xx_succeeds_and_410_is_gone(sent: Sent, verdict: Verdict) -> None:
    assert classify(sent) is verdict


def test_settings_read_the_schedule_as_comma_separated_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the sender's environment with a short schedule
    monkeypatch.setenv("TABLE_NAME", "fileflow-metadata")
    monkeypatch.setenv("WEBHOOK_QUEUE_URL", "https://sqs.us-east-1.amazonaws.com/123456789012/webhooks")
    monkeypatch.setenv("WEBHOOK_RETRY_SCHEDULE", "1, 1,2")
    monkeypatch.setenv("WEBHOOKS_ALLOW_LOCAL_HTTP", "true")
    # Then the settings hold it as seconds, and the allowance as a bool
    settings = WebhookSettings()  # type: ignore[call-arg]
    assert settings.webhook_retry_schedule == (1, 1, 2)
    assert settings.webhooks_allow_local_http is True
    assert settings.webhook_disable_after == 5
    # And without it, the notes' schedule (5 s ... 24 h); a malformed one is refused at cold start
    monkeypatch.delenv("WEBHOOK_RETRY_SCHEDULE")
    assert WebhookSettings().webhook_retry_schedule == DEFAULT_RETRY_SCHEDULE  # type: ignore[call-arg]
    monkeypatch.setenv("WEBHOOK_RETRY_SCHEDULE", "5,soon")
    with pytest.raises(ValueError, match="comma-separated"):
        WebhookSettings()  # type: ignore[call-arg]
