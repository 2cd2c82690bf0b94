"""The fixed-window rate limiter, with a fake counter and a fixed clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from fileflow_api.auth.ratelimit import RateLimit, RateLimitedError, RateLimiter


@dataclass
class FakeWindowCounter:
    counts: dict[tuple[str, int], int] = field(default_factory=dict)
    expiries: dict[tuple[str, int], int] = field(default_factory=dict)

    def increment(self, user_id: str, *, window_start: int, limit: int, expires_at: int) -> bool:
        key = (user_id, window_start)
        if self.counts.get(key, 0) >= limit:
            return False
        self.counts[key] = self.counts.get(key, 0) + 1
        self.expiries[key] = expires_at
        return True


def at(seconds: float) -> datetime:
    return datetime.fromtimestamp(1_800_000_000 + seconds, UTC)  # 1_800_000_000 is a multiple of 60


def limiter(counter: FakeWindowCounter, now: list[datetime], requests: int = 2) -> RateLimiter:
    return RateLimiter(counter, RateLimit(requests=requests, window_seconds=60), clock=lambda: now[0])


def test_requests_within_the_limit_pass_and_the_next_is_refused_with_the_wait() -> None:
    # Given a limit of 2 per minute and a clock 45 s into a window
    counter, now = FakeWindowCounter(), [at(45)]
    rate_limiter = limiter(counter, now)
    # When alice sends 3 requests
    rate_limiter.hit("alice")
    rate_limiter.hit("alice")
    with pytest.raises(RateLimitedError) as raised:
        rate_limiter.hit("alice")
    # Then the third waits for the next window, 15 s away
    assert raised.value.retry_after_seconds == 15
    assert raised.value.code == "RateLimited"
    assert counter.counts == {("alice", 1_800_000_000): 2}


def test_a_new_window_starts_from_zero() -> None:
    counter, now = FakeWindowCounter(), [at(59)]
    rate_limiter = limiter(counter, now, requests=1)
    rate_limiter.hit("alice")
    now[0] = at(60)
    rate_limiter.hit("alice")  # the next window
    assert counter.counts == {("alice", 1_800_000_000): 1, ("alice", 1_800_000_060): 1}


def test_window_counter_expires_one_window_after_its_end() -> None:
    counter, now = FakeWindowCounter(), [at(10)]
    limiter(counter, now).hit("alice")
    assert counter.expiries == {("alice", 1_800_000_000): 1_800_000_120}


def test_retry_after_is_at_least_one_second() -> None:
    counter, now = FakeWindowCounter(), [at(59.9)]
    rate_limiter = limiter(counter, now, requests=1)
    rate_limiter.hit("alice")
    with pytest.raises(RateLimitedError) as raised:
        rate_limiter.hit("alice")
    assert raised.value.retry_after_seconds == 1


@pytest.mark.parametrize(("requests", "window"), [(0, 60), (1, 0)])
def test_a_limit_needs_requests_and_a_window(requests: int, window: int) -> None:
    with pytest.raises(ValueError, match="rate limit"):
        RateLimit(requests=requests, window_seconds=window)
