"""Per-user rate limiting: a fixed-window request counter per user. No AWS code here.

API Gateway's usage plans throttle per API key, not per JWT user, so the API counts each user's
requests itself (stage-level throttling stays the global backstop).
"""

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from fileflow_common.clock import utc_now
from fileflow_common.errors import FileflowError


class RateLimitedError(FileflowError):
    """The user sent more requests than the limit allows in the current window."""

    code = "RateLimited"

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(f"too many requests: retry in {retry_after_seconds} s")
        self.retry_after_seconds = retry_after_seconds


@dataclass(frozen=True, slots=True)
class RateLimit:
    requests: int
    window_seconds: int

    def __post_init__(self) -> None:
        if self.requests < 1 or self.window_seconds < 1:
            raise ValueError("a rate limit needs at least one request per window of at least one second")


class WindowCounter(Protocol):
    def increment(self, user_id: str, *, window_start: int, limit: int, expires_at: int) -> bool:
        """Atomically count one request in the window; False (counting nothing) if it holds `limit`."""
        ...


class RateLimiter:
    def __init__(
        self, counter: WindowCounter, limit: RateLimit, *, clock: Callable[[], datetime] = utc_now
    ) -> None:
        self._counter = counter
        self._limit = limit
        self._clock = clock

    @property
    def limit(self) -> RateLimit:
        return self._limit

    @property
    def counter(self) -> WindowCounter:
        return self._counter

    def hit(self, user_id: str) -> None:
        """Count one request of `user_id`; raise RateLimitedError when the window is full."""
        now = self._clock().timestamp()
        window = self._limit.window_seconds
        window_start = int(now // window) * window
        window_end = window_start + window
        # The window's counter outlives the window by one more, then DynamoDB's TTL removes it.
        allowed = self._counter.increment(
            user_id, window_start=window_start, limit=self._limit.requests, expires_at=window_end + window
        )
        if not allowed:
            raise RateLimitedError(retry_after_seconds=max(1, math.ceil(window_end - now)))
