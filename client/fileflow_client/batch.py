"""Uploads of many files and whole directories: a few files at once, each with its parts in parallel.

A file that fails does not stop the others; an interruption (Ctrl-C, an exception from the progress
callback) stops every file promptly, each left resumable.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from fileflow_client.errors import FileflowClientError

if TYPE_CHECKING:
    from fileflow_client.api import UploadOptions
    from fileflow_client.client import FileflowClient, Progress, UploadResult

# (the file, its progress): called from the worker threads, so it must be thread-safe.
type BatchProgressCallback = Callable[[Path, Progress], None]


class BatchCancelledError(FileflowClientError):
    """The batch was stopped; the files not finished are resumable."""


@dataclass(frozen=True, slots=True)
class FailedUpload:
    """A file of a batch that could not be uploaded, and why."""

    path: Path
    error: Exception


@dataclass(slots=True)
class BatchResult:
    """What `upload_many` did: the files uploaded (with their results) and those that failed."""

    succeeded: list[tuple[Path, UploadResult]] = field(default_factory=list)
    failed: list[FailedUpload] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed


def expand_paths(paths: Sequence[str | Path], *, pattern: str = "*", recursive: bool = True) -> list[Path]:
    """Files as given, and each directory's files matching `pattern` (sorted, hidden files left out).

    A path that does not exist raises FileNotFoundError before anything is sent."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            matches = path.rglob(pattern) if recursive else path.glob(pattern)
            found.extend(
                sorted(
                    match
                    for match in matches
                    if match.is_file()
                    and not any(part.startswith(".") for part in match.relative_to(path).parts)
                )
            )
        elif path.is_file():
            found.append(path)
        else:
            raise FileNotFoundError(f"{path} is neither a file nor a directory")
    unique = list(dict.fromkeys(found))
    if not unique:
        raise FileNotFoundError("no files to upload in " + ", ".join(str(path) for path in paths))
    return unique


def upload_batch(
    client: FileflowClient,
    files: Iterable[Path],
    *,
    files_at_once: int,
    concurrency: int,
    options: UploadOptions | None,
    progress: BatchProgressCallback | None,
) -> BatchResult:
    if files_at_once < 1:
        raise ValueError("files_at_once must be at least 1")
    stop = threading.Event()
    result = BatchResult()

    def one(path: Path) -> UploadResult:
        def on_progress(event: Progress) -> None:
            if stop.is_set():
                raise BatchCancelledError("the batch was stopped")
            if progress is not None:
                progress(path, event)

        return client.upload(path, concurrency=concurrency, options=options, progress=on_progress)

    with ThreadPoolExecutor(max_workers=files_at_once, thread_name_prefix="fileflow-file") as pool:
        futures: dict[Future[UploadResult], Path] = {pool.submit(one, path): path for path in files}
        try:
            pending = set(futures)
            while pending:
                done, pending = wait(pending, timeout=0.2, return_when=FIRST_EXCEPTION)
                for future in done:
                    path = futures[future]
                    error = future.exception()
                    if error is None:
                        result.succeeded.append((path, future.result()))
                    elif isinstance(error, Exception):
                        result.failed.append(FailedUpload(path, error))
        except BaseException:
            stop.set()  # every running upload stops at its next progress report, resumable
            for future in futures:
                future.cancel()
            raise
    order = {path: index for index, path in enumerate(futures.values())}
    result.succeeded.sort(key=lambda item: order[item[0]])
    result.failed.sort(key=lambda item: order[item.path])
    return result
