"""Retry with capped exponential backoff and full jitter.

An operation asks to be tried again by raising `Retryable(error)`; once the attempts are spent,
`error` (the typed failure of the last attempt) is raised.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

# Statuses worth another try: server-side failures and throttling (S3's 503 SlowDown included).
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


class Retryable(Exception):  # noqa: N818 - a signal, not an error
    """Raised by an operation whose attempt failed in a way worth repeating."""

    def __init__(self, error: Exception, *, retry_after: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """`max_attempts` tries in all; the n-th wait is uniform in [0, min(max_delay, base_delay * 2**(n-1))].

    A server's Retry-After (a rate limit's window) is waited out, up to `max_retry_after`.
    """

    max_attempts: int = 6
    base_delay: float = 0.25
    max_delay: float = 8.0
    max_retry_after: float = 60.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base_delay < 0 or self.max_delay < 0:
            raise ValueError("delays cannot be negative")

    def delay(self, failed_attempts: int, *, rng: Callable[[], float] = random.random) -> float:
        """The wait after `failed_attempts` (1, 2, ...) failures."""
        ceiling = min(self.max_delay, self.base_delay * 2 ** (failed_attempts - 1))
        return float(ceiling * rng())


def call_with_retries[T](
    operation: Callable[[], T],
    policy: RetryPolicy,
    *,
    sleep: Callable[[float], None] = time.sleep,
    rng: Callable[[], float] = random.random,
) -> T:
    failed = 0
    while True:
        try:
            return operation()
        except Retryable as signal:
            failed += 1
            if failed >= policy.max_attempts:
                raise signal.error from signal.error.__cause__
            sleep(_wait(policy, failed, signal, rng))


async def acall_with_retries[T](
    operation: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    rng: Callable[[], float] = random.random,
) -> T:
    """`call_with_retries` for a coroutine: the same attempts and waits, awaited."""
    failed = 0
    while True:
        try:
            return await operation()
        except Retryable as signal:
            failed += 1
            if failed >= policy.max_attempts:
                raise signal.error from signal.error.__cause__
            await sleep(_wait(policy, failed, signal, rng))


def _wait(policy: RetryPolicy, failed: int, signal: Retryable, rng: Callable[[], float]) -> float:
    wait = policy.delay(failed, rng=rng)
    if signal.retry_after is not None:
        wait = min(max(wait, signal.retry_after), policy.max_retry_after)
    return wait
