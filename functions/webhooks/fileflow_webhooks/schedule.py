"""When to try a delivery again: the retry schedule with jitter, and a receiver's `Retry-After`."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

# A receiver's Retry-After never pushes a retry further than this.
MAX_RETRY_AFTER = timedelta(hours=24)
JITTER = 0.2

# A uniform draw in [low, high]; tests pass a fixed one.
type Uniform = Callable[[float, float], float]


@dataclass(frozen=True)
class RetrySchedule:
    """`delays[n - 1]` seconds after failed attempt n, each +-20 % (so receivers that failed together do
    not all come back in the same second); no attempt after the last delay."""

    delays: Sequence[int]
    uniform: Uniform = random.uniform

    @property
    def max_attempts(self) -> int:
        return len(self.delays) + 1

    def delay_after(self, attempt: int, retry_after: timedelta | None = None) -> timedelta | None:
        """How long after failed attempt `attempt` (1-based) the next one goes, or None: no more attempts."""
        if attempt >= self.max_attempts:
            return None
        base = self.delays[attempt - 1]
        delay = timedelta(seconds=base * self.uniform(1 - JITTER, 1 + JITTER))
        if retry_after is not None:
            delay = max(delay, min(retry_after, MAX_RETRY_AFTER))
        return delay


def retry_after(header: str | None, now: datetime) -> timedelta | None:
    """A `Retry-After` header (delay seconds, or an HTTP date) as a delay from `now`; None when absent,
    unreadable or in the past."""
    if header is None:
        return None
    text = header.strip()
    if text.isdigit():
        return timedelta(seconds=int(text))
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:  # an HTTP date is GMT (RFC 9110), even written without the zone
        return None
    delay = moment - now
    return delay if delay > timedelta(0) else None
