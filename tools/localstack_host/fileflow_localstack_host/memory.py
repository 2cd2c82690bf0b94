"""A function's memory size, enforced on a host process the way Lambda enforces it on its sandbox.

Lambda kills the whole sandbox when it passes its memory size and answers the invocation with
``Runtime.OutOfMemory``. Here the sandbox is a process group: a thread samples the resident memory
of the environment's process and all its descendants (an ffmpeg the handler started counts, as in
the sandbox's cgroup) and kills the group once the sum passes the limit. A spike shorter than one
sample is still caught afterwards: the kernel keeps each process's peak (``VmHWM``).

Linux only (``/proc``); elsewhere nothing is enforced and the peak reads as 0. Stdlib only: this runs
inside LocalStack's process.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

MiB = 1024 * 1024
SAMPLE_SECONDS = 0.05
_PROC = Path("/proc")
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def supported() -> bool:
    return (_PROC / "self" / "statm").exists()


def descendants(pid: int) -> Iterator[int]:
    """`pid` and every process below it (the handler's subprocesses, theirs, ...)."""
    stack = [pid]
    while stack:
        current = stack.pop()
        yield current
        try:
            tasks = list((_PROC / str(current) / "task").iterdir())
        except OSError:
            continue
        for task in tasks:
            try:
                stack += [int(child) for child in (task / "children").read_text().split()]
            except OSError:
                continue


def resident_bytes(pid: int) -> int:
    """The process's resident set now (0 once it is gone)."""
    try:
        return int((_PROC / str(pid) / "statm").read_text().split()[1]) * _PAGE_SIZE
    except (OSError, IndexError, ValueError):
        return 0


def peak_resident_bytes(pid: int) -> int:
    """The most the process has ever held resident (the kernel's high-water mark, VmHWM)."""
    try:
        status = (_PROC / str(pid) / "status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def tree_resident_bytes(pid: int) -> int:
    return sum(resident_bytes(member) for member in descendants(pid))


class MemoryWatch:
    """Samples one environment's process tree; kills its process group when it passes `limit_mb`."""

    def __init__(self, pid: int, limit_mb: int, *, on_exceeded: Callable[[], None] | None = None) -> None:
        self.pid = pid
        self.limit_bytes = limit_mb * MiB
        self._on_exceeded = on_exceeded
        self._stop = threading.Event()
        self._active = threading.Event()
        self._active.set()
        self._exceeded = threading.Event()
        self._peak = 0
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self) -> MemoryWatch:
        if supported():
            self._thread = threading.Thread(target=self._run, name=f"lambda-memory-{self.pid}", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._active.set()

    def pause(self) -> None:
        """No sampling until `resume`: Lambda freezes a sandbox between invocations, so it cannot grow.

        On this host a handler's background thread still runs; what it held shows in the kernel's
        peak at the next invocation's `check`. Idle environments then cost LocalStack's process nothing.
        """
        self._active.clear()

    def resume(self) -> None:
        self._active.set()

    @property
    def exceeded(self) -> bool:
        return self._exceeded.is_set()

    def peak_mb(self) -> int:
        """The most the environment held so far, in MB as Lambda's REPORT line gives it."""
        with self._lock:
            peak = max(self._peak, peak_resident_bytes(self.pid))
        return -(-peak // MiB)

    def check(self) -> bool:
        """Samples once (and kills on excess); True when the limit was passed, now or before."""
        if self.exceeded:
            return True
        used = max(tree_resident_bytes(self.pid), peak_resident_bytes(self.pid))
        with self._lock:
            self._peak = max(self._peak, used)
        if used > self.limit_bytes:
            self._exceeded.set()
            self._kill()
            if self._on_exceeded is not None:
                self._on_exceeded()
            return True
        return False

    def _run(self) -> None:
        while self._active.wait() and not self._stop.wait(SAMPLE_SECONDS):
            if self._active.is_set() and self.check():
                return

    def _kill(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
