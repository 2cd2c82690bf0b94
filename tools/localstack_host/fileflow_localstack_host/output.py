"""An execution environment's output (its merged stdout/stderr), split into per-invocation chunks.

The runtime (bootstrap.py) writes an end-of-invocation marker after each invocation's output; what
lies before it belongs to that invocation. Stdlib only: this runs inside LocalStack's process.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

END_MARKER_PREFIX = b"\x1efileflow-invocation-end:"


class OutputCapture:
    """Reads a process's merged stdout/stderr and splits it into per-invocation chunks."""

    def __init__(self, stream, echo_to: Path, preamble: bytes = b"") -> None:  # type: ignore[no-untyped-def]
        self._stream = stream
        self._lock = threading.Lock()
        # a forked environment's init ran in its template: its output opens the first invocation's log
        self._pending = bytearray(preamble)
        self._completed: dict[str, bytes] = {}
        self._arrived = threading.Condition(self._lock)
        self._echo = echo_to.open("ab")
        self._echo.write(preamble)
        self._thread = threading.Thread(target=self._read, name="lambda-output", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        buffer = b""
        try:
            for chunk in iter(lambda: self._stream.read1(65536), b""):
                self._echo.write(chunk)
                self._echo.flush()
                buffer += chunk
                buffer = self._split(buffer)
        finally:
            with self._arrived:
                self._pending += buffer
                self._arrived.notify_all()
            self._echo.close()

    def _split(self, buffer: bytes) -> bytes:
        """Moves everything up to each end marker into a completed chunk; returns the rest."""
        while (start := buffer.find(END_MARKER_PREFIX)) != -1:
            end = buffer.find(b"\x1e\n", start + len(END_MARKER_PREFIX))
            if end == -1:
                break
            request_id = buffer[start + len(END_MARKER_PREFIX) : end].decode()
            with self._arrived:
                self._completed[request_id] = bytes(self._pending + buffer[:start])
                self._pending.clear()
                self._arrived.notify_all()
            buffer = buffer[end + 2 :]
        # keep a possible partial marker in the buffer; the rest is pending output
        keep_from = buffer.rfind(b"\x1e")
        if keep_from == -1:
            with self._lock:
                self._pending += buffer
            return b""
        with self._lock:
            self._pending += buffer[:keep_from]
        return buffer[keep_from:]

    def take(self, request_id: str, timeout: float) -> str:
        """The output of a finished invocation (waits for its end marker)."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while request_id not in self._completed and time.monotonic() < deadline:
                self._arrived.wait(deadline - time.monotonic())
            output = self._completed.pop(request_id, None)
            if output is None:
                output = bytes(self._pending)
                self._pending.clear()
        return output.decode(errors="replace")

    def take_pending(self, settle: float = 0.2) -> str:
        """Whatever was written since the last finished invocation (for a killed process)."""
        time.sleep(settle)  # let the reader thread drain what the process wrote just before dying
        with self._lock:
            output = bytes(self._pending)
            self._pending.clear()
        return output.decode(errors="replace")
