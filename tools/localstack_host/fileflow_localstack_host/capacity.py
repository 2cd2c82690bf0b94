"""The host's capacity: how many invocations of one function run at once on this machine.

On AWS, each concurrent invocation gets an execution environment with its own share of a CPU. Here
every environment is a process on the same few cores, next to LocalStack's one process (one GIL) that
serves every AWS call they make. Measured on 2 cores with 100 concurrent uploads through the API: 100
API environments ran at once, each initiate's five DynamoDB calls took 4-5 s of waiting apiece, the
handlers ran 20-30 s, and those past the function's 29 s timeout were killed and answered 502. Nothing
was faster for running them all at once: two cores do the same work either way.

So at most `FILEFLOW_LAMBDA_HOST_CONCURRENCY` invocations of a function run at once (default: 4 per
core); the others wait for one to end. LocalStack still starts an environment for each concurrent
request, as Lambda does, and each environment still serves one invocation at a time. The wait is not
execution: the function's timeout, its Duration and its memory are measured from when its invocation
is handed to the handler, as on AWS, where it would have had hardware of its own at once. What a
caller sees is latency, as a client of an overloaded service does. A function's reserved concurrency
(enforced by LocalStack, with throttles) is the limit to use for what AWS would limit.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

ENV_VAR = "FILEFLOW_LAMBDA_HOST_CONCURRENCY"


def host_concurrency(environ: dict[str, str] | None = None, cpus: int | None = None) -> int:
    """The limit per function: the variable's value when it is a positive integer, else 4 per core."""
    raw = (os.environ if environ is None else environ).get(ENV_VAR, "").strip()
    if raw:
        try:
            value = int(raw)
        except ValueError:
            value = 0
        if value > 0:
            return value
        raise ValueError(f"{ENV_VAR} must be a positive integer, not {raw!r}")
    return 4 * max(1, cpus if cpus is not None else (os.cpu_count() or 1))


class HostCapacity:
    """One counting semaphore per function (qualified ARN), created on first use."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._slots: dict[str, threading.BoundedSemaphore] = {}
        self._lock = threading.Lock()

    def _semaphore(self, function: str) -> threading.BoundedSemaphore:
        with self._lock:
            found = self._slots.get(function)
            if found is None:
                found = self._slots[function] = threading.BoundedSemaphore(self.limit)
            return found

    @contextmanager
    def slot(self, function: str) -> Iterator[float]:
        """Hold one of the function's slots; yields the seconds waited for it."""
        semaphore = self._semaphore(function)
        started = time.monotonic()
        semaphore.acquire()
        try:
            yield time.monotonic() - started
        finally:
            semaphore.release()


_CAPACITY: HostCapacity | None = None
_CAPACITY_LOCK = threading.Lock()


def capacity() -> HostCapacity:
    """The process's one HostCapacity, its limit read from the environment at first use."""
    global _CAPACITY
    with _CAPACITY_LOCK:
        if _CAPACITY is None:
            _CAPACITY = HostCapacity(host_concurrency())
        return _CAPACITY
