"""Runs the ffmpeg executable: no stdin, bounded threads, a deadline, and stderr bounded in memory.

Only our own arguments reach ffmpeg; the input path is ours (the stage downloads the object under its own
name). A run that outlives the deadline is killed and fails with LimitExceeded; a missing or
non-executable binary, or a run killed by a signal, is an environment fault (RuntimeError), not the file's.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Final

from fileflow_stages._runtime.content import LimitExceededError

# The header dump of a probe lives in the head; errors at the end of a run live in the tail.
LOG_HEAD_BYTES: Final = 256 * 1024
LOG_TAIL_BYTES: Final = 64 * 1024
THREADS: Final = 2
_CHUNK: Final = 64 * 1024
# ffmpeg reads FFREPORT (writes a report file) and proxy variables: it gets none of the caller's environment.
_ENV: Final = {"AV_LOG_FORCE_NOCOLOR": "1"}


@dataclass(frozen=True, slots=True)
class FfmpegRun:
    returncode: int
    log: str  # stderr: its first LOG_HEAD_BYTES and last LOG_TAIL_BYTES
    log_truncated: bool


class _BoundedCapture:
    """Drains a pipe in a thread, keeping only its head and its tail (a hostile file may log gigabytes)."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self._head = bytearray()
        self._tail = bytearray()
        self.dropped = 0
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        while chunk := self._stream.read(_CHUNK):
            room = LOG_HEAD_BYTES - len(self._head)
            self._head += chunk[:room]
            self._tail += chunk[room:] if room > 0 else chunk
            if len(self._tail) > LOG_TAIL_BYTES:
                excess = len(self._tail) - LOG_TAIL_BYTES
                self.dropped += excess
                del self._tail[:excess]
        self._stream.close()

    def text(self) -> str:
        self._thread.join()
        gap = f"\n[... {self.dropped} bytes of log dropped ...]\n" if self.dropped else ""
        return self._head.decode(errors="replace") + gap + self._tail.decode(errors="replace")


class Ffmpeg:
    """One video's ffmpeg runs, sharing one wall-clock budget."""

    def __init__(self, executable: str | os.PathLike[str], budget_s: float) -> None:
        self.executable = os.fspath(executable)
        self.budget_s = budget_s
        self._deadline = time.monotonic() + budget_s

    def run(self, args: list[str], *, cwd: Path) -> FfmpegRun:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise self._over_budget()
        command = [self.executable, "-hide_banner", "-nostdin", *args]
        try:
            process = subprocess.Popen(  # noqa: S603 - our own arguments, no shell
                command,
                cwd=cwd,
                env=_ENV,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
        except OSError as exc:
            raise RuntimeError(f"cannot run ffmpeg at {self.executable}: {exc}") from exc
        assert process.stderr is not None
        capture = _BoundedCapture(process.stderr)
        try:
            returncode = process.wait(timeout=remaining)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            capture.text()
            raise self._over_budget() from None
        if returncode < 0:
            # A crash is ours to investigate, not a verdict on the file (this build dies demuxing MPEG-TS).
            name = signal.Signals(-returncode).name if -returncode in signal.valid_signals() else -returncode
            raise RuntimeError(f"ffmpeg died of signal {name}: {capture.text()[-300:]}")
        return FfmpegRun(returncode, capture.text(), log_truncated=capture.dropped > 0)

    def _over_budget(self) -> LimitExceededError:
        return LimitExceededError(f"video processing exceeded its {self.budget_s:g} s time budget")
