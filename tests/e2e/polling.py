"""Waiting for asynchronous effects: poll with a deadline, never a bare sleep."""

from __future__ import annotations

import time
from collections.abc import Callable


class DeadlineExceededError(AssertionError):
    pass


def wait_for[T](probe: Callable[[], T | None], *, timeout: float, interval: float = 0.5, what: str) -> T:
    """Calls ``probe`` until it returns something other than None (or falsy), or fails after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise DeadlineExceededError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)
