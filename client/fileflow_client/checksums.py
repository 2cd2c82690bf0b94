"""The checksums an upload computes from the local file: each part's, and the whole file's while it is sent.

A multipart upload declares the whole file's SHA-256 at complete, so nothing is hashed before the first
part leaves: `WholeFileDigest` reads the file in order on a thread of its own, beside the part workers
(hashlib releases the GIL on large buffers, so it runs on another core). It reads the file once more
rather than hashing the bytes the workers send: parts finish out of order, so hashing those in order
would hold up to `concurrency` parts in memory, and a retried part sends its bytes twice.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from fileflow_client.localfile import SHA256, UploadCancelledError, iter_range, part_checksum
from fileflow_client.planning import PartSpec

__all__ = ["ChecksumCache", "WholeFileDigest", "iter_range"]  # iter_range: tests replace it here


class ChecksumCache:
    """Each part's checksum (base64; SHA-256 or CRC32C), computed once from the file."""

    def __init__(self, path: Path, algorithm: str = SHA256) -> None:
        self.path = path
        self.algorithm = algorithm
        self._values: dict[int, str] = {}

    def compute(self, specs: Sequence[PartSpec]) -> None:
        """Hash the parts not hashed yet, several at once (hashlib and crc32c release the GIL)."""
        missing = [spec for spec in specs if spec.number not in self._values]
        if len(missing) < 2:
            for spec in missing:
                self.get(spec)
            return
        with ThreadPoolExecutor(max_workers=min(len(missing), os.cpu_count() or 2)) as hashers:
            for spec, value in zip(
                missing,
                hashers.map(self._compute, missing),
                strict=True,
            ):
                self._values[spec.number] = value

    def get(self, spec: PartSpec) -> str:
        value = self._values.get(spec.number)
        if value is None:
            value = self._values[spec.number] = self._compute(spec)
        return value

    def _compute(self, spec: PartSpec) -> str:
        return part_checksum(self.path, spec.offset, spec.size, self.algorithm)


class WholeFileDigest:
    """The hex SHA-256 of the file's first `size` bytes, computed on a thread of its own from creation."""

    def __init__(self, path: Path, size: int) -> None:
        self._path, self._size = path, size
        self._digest = hashlib.sha256()
        self._error: BaseException | None = None
        self._cancel = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fileflow-file-sha256", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            for chunk in iter_range(self._path, 0, self._size, cancel=self._cancel):
                self._digest.update(chunk)
        except UploadCancelledError:
            pass
        except BaseException as exc:  # handed to the caller of result(), in its thread
            self._error = exc

    def result(self) -> str:
        """Waits for the end of the file; raises what reading it raised (FileChangedError, OSError)."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        if self._cancel.is_set():
            raise UploadCancelledError("the file's SHA-256 was stopped")
        return self._digest.hexdigest()

    def stop(self) -> None:
        """Stops the reading at its next chunk (the upload failed or was interrupted)."""
        self._cancel.set()
        self._thread.join()
