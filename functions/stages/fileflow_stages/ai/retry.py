"""Retrying one Claude request: which failures are worth another attempt, and how long to wait first.

No SDK and no boto3 here: the adapter (claude.py) turns the SDK's errors into `CallFailure`s, and this
loop decides. The SDK's own retries are off (max_retries=0): it honours `retry-after` without a cap, and
its attempts would be invisible to the circuit breaker and the call records.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Final

from fileflow_common.clock import utc_now

# Statuses worth another attempt: timeout on the server, conflict, rate limit, server errors, overloaded.
RETRYABLE_STATUSES: Final = frozenset({408, 409, 429, 500, 502, 503, 504, 529})
BASE_DELAY_SECONDS: Final = 0.5


class CallFailure(Exception):  # noqa: N818 - a failed attempt, not a bug
    """One attempt failed. `reason` is what the outcome records (rate_limited, overloaded, server_error,
    timeout, connection, client_error); `retry_after` is the server's hint in seconds, if any."""

    def __init__(self, reason: str, *, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(f"{reason} (HTTP {status})" if status else reason)
        self.reason = reason
        self.status = status
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        # A timeout is not retried: the attempt has already spent the time the stage allows one call.
        return self.status in RETRYABLE_STATUSES or self.reason == "connection"

    @property
    def counts_against_service(self) -> bool:
        """Whether it says Claude is unwell (the circuit breaker counts these): not our own 4xx."""
        return self.retryable or self.reason == "timeout"


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """`retry-after-ms` (milliseconds), else `retry-after` (seconds or an HTTP date); None if neither."""
    lowered = {name.lower(): value for name, value in headers.items()}
    if (value := lowered.get("retry-after-ms")) is not None:
        try:
            return max(0.0, float(value) / 1000)
        except ValueError:
            pass
    if (value := lowered.get("retry-after")) is not None:
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                return max(0.0, (parsedate_to_datetime(value) - utc_now()).total_seconds())
            except (TypeError, ValueError):
                return None
    return None


def backoff_seconds(
    attempt: int, retry_after: float | None, *, cap: float, jitter: Callable[[], float] = random.random
) -> float:
    """The wait before attempt `attempt + 1`: the server's hint if it gave one, else exponential backoff
    (0.5 s x 2^attempt, minus up to a quarter of jitter); never more than `cap`."""
    if retry_after is not None:
        return min(retry_after, cap)
    delay = BASE_DELAY_SECONDS * 2.0**attempt
    return min(delay * (1 - 0.25 * jitter()), cap)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_retries: int
    max_wait_seconds: float


def with_retries[T](
    attempt: Callable[[], T],
    policy: RetryPolicy,
    *,
    sleep: Callable[[float], None] = time.sleep,
    on_failure: Callable[[CallFailure], None] | None = None,
) -> T:
    """Call `attempt` until it succeeds, fails for good, or the retries run out (the last failure raised)."""
    for number in range(policy.max_retries + 1):
        try:
            return attempt()
        except CallFailure as failure:
            if on_failure is not None:
                on_failure(failure)
            if not failure.retryable or number == policy.max_retries:
                raise
            sleep(backoff_seconds(number, failure.retry_after, cap=policy.max_wait_seconds))
    raise AssertionError("unreachable: the last attempt returns or raises")
