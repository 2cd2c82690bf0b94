"""`fileflow upload` (files, directories, --wait), and the upload session commands: status, parts, abort."""

from __future__ import annotations

import argparse
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import Any

from rich.progress import (
    BarColumn,
    DownloadColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.progress import Progress as ProgressDisplay

from fileflow_client.api import UploadOptions
from fileflow_client.batch import BatchResult, FailedUpload, expand_paths
from fileflow_client.cli.describe import describe
from fileflow_client.cli.output import EXIT_FAILED, EXIT_OK, EXIT_PARTIAL, EXIT_STOPPED, Output, size
from fileflow_client.client import FileflowClient, Progress, UploadResult
from fileflow_client.errors import ApiError
from fileflow_client.files import FileDetail

# Processing outcomes that are not a success (docs/processing.md).
FAILED_STATUSES = frozenset({"failed", "rejected"})


class UsageError(Exception):
    """Arguments that do not go together."""


def upload(client: FileflowClient, args: argparse.Namespace, output: Output) -> int:
    paths = expand_paths(args.paths, pattern=args.pattern)
    if args.state_file is not None and len(paths) > 1:
        raise UsageError("--state-file names the record of one upload: give one file")
    options = UploadOptions(
        priority=args.priority, callback_url=args.callback_url, analysis=args.analysis, tags=tuple(args.tag)
    )
    display = _transfer_display(output)
    bars = _UploadBars(display, paths, stop_after_parts=args.stop_after_parts, output=output)
    with display:
        if len(paths) == 1:
            result = BatchResult()
            result.succeeded.append(
                (
                    paths[0],
                    client.upload(
                        paths[0],
                        content_type=args.content_type,
                        concurrency=args.concurrency,
                        part_checksums=args.part_checksums,
                        checksum_algorithm=args.part_checksum,
                        progress=lambda event: bars.on_progress(paths[0], event),
                        resume=args.resume,
                        state_file=args.state_file,
                        options=options,
                    ),
                )
            )
        else:
            result = client.upload_many(
                paths,
                files_at_once=args.files_at_once,
                concurrency=args.concurrency,
                options=options,
                progress=bars.on_progress,
            )
    finals = _wait_all(client, result, args, output) if args.wait else {}
    _report(result, finals, args, output)
    if len(paths) == 1 and result.failed:
        raise result.failed[0].error
    processing_failed = any(detail.status in FAILED_STATUSES for detail in finals.values())
    if result.failed or processing_failed:
        return EXIT_PARTIAL if len(paths) > 1 else EXIT_FAILED
    return EXIT_OK


class _UploadBars:
    """One bar per file and a total; fed from the upload threads."""

    def __init__(
        self, display: ProgressDisplay, paths: list[Path], *, stop_after_parts: int | None, output: Output
    ) -> None:
        self._display = display
        self._lock = threading.Lock()
        self._tasks: dict[Path, TaskID] = {}
        self._sent: dict[Path, int] = {}
        self._stop_after = stop_after_parts
        self._confirmed = 0
        self._output = output
        sizes = sum(path.stat().st_size for path in paths)
        self._total = display.add_task(f"total ({len(paths)} files)", total=sizes) if len(paths) > 1 else None

    def on_progress(self, path: Path, event: Progress) -> None:
        with self._lock:
            if event.phase in ("hashing", "uploading"):
                label = "hashing  " if event.phase == "hashing" else "uploading"
                task = self._tasks.get(path)
                if task is None:
                    task = self._tasks[path] = self._display.add_task("", total=event.bytes_total)
                self._display.update(task, description=f"{label} {path.name}", completed=event.bytes_done)
            if event.phase in ("uploading", "completed"):
                self._sent[path] = event.bytes_done
                if self._total is not None:
                    self._display.update(self._total, completed=sum(self._sent.values()))
            if event.phase == "completed" and path in self._tasks:
                self._display.update(self._tasks[path], description=f"uploaded  {path.name}")
            if event.part_number is not None and event.phase == "uploading":
                self._confirmed += 1
                if self._stop_after is not None and self._confirmed >= self._stop_after:
                    self._display.stop()
                    self._output.err.print(f"stopping after {self._confirmed} parts (--stop-after-parts)")
                    sys.stderr.flush()
                    os._exit(EXIT_STOPPED)  # no clean-up at all, like a crash


def _transfer_display(output: Output) -> ProgressDisplay:
    return ProgressDisplay(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(binary_units=True),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=output.err,
        disable=not output.err.is_terminal,
    )


def _wait_all(
    client: FileflowClient, result: BatchResult, args: argparse.Namespace, output: Output
) -> dict[Path, FileDetail]:
    """Live stage bars until every uploaded file's processing has ended."""
    display = stage_display(output)
    finals: dict[Path, FileDetail] = {}
    with display, ThreadPoolExecutor(max_workers=max(1, min(8, len(result.succeeded)))) as pool:
        waits = {
            path: pool.submit(follow_stages, client, uploaded.file_id, path.name, display, args.timeout)
            for path, uploaded in result.succeeded
        }
        for path, waiting in waits.items():
            try:
                finals[path] = waiting.result()
            except Exception as error:
                result.failed.append(FailedUpload(path, error))
    return finals


def stage_display(output: Output) -> ProgressDisplay:
    return ProgressDisplay(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[stage]}"),
        TimeElapsedColumn(),
        console=output.err,
        disable=not output.err.is_terminal,
    )


def follow_stages(
    client: FileflowClient, file_id: str, label: str, display: ProgressDisplay, timeout: float
) -> FileDetail:
    """A bar that moves one step per stage event, until the file's processing ends."""
    task = display.add_task(f"processing {label}", total=None, stage="queued")
    finished = 0
    for event in client.files.events(file_id):
        if event.state != "started":
            finished += 1
        display.update(task, completed=finished, stage=f"{event.stage} {event.state}")
    detail = client.files.wait(file_id, timeout=timeout)
    display.update(task, total=max(finished, 1), completed=max(finished, 1), stage=detail.status)
    return detail


def _report(
    result: BatchResult, finals: dict[Path, FileDetail], args: argparse.Namespace, output: Output
) -> None:
    if output.as_json:
        output.json_lines(
            [_uploaded_json(path, uploaded, finals.get(path)) for path, uploaded in result.succeeded]
            + [_failed_json(failure) for failure in result.failed]
        )
        return
    if len(result.succeeded) == 1 and not result.failed and not finals:
        _print_result(output, result.succeeded[0][1])
        return
    output.table(
        ("file", "file id", "size", "status"),
        [
            (
                _shown(path),
                uploaded.file_id,
                size(uploaded.size),
                finals[path].status if path in finals else "uploaded",
            )
            for path, uploaded in result.succeeded
        ]
        + [(_shown(failure.path), "", "", f"error: {describe(failure.error)}") for failure in result.failed],
    )


def _shown(path: Path) -> str:
    """Relative to the working directory when under it (what the user typed), else the file's name."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path) if len(str(path)) <= 40 else path.name


def _uploaded_json(path: Path, uploaded: UploadResult, final: FileDetail | None) -> dict[str, Any]:
    record: dict[str, Any] = {"path": str(path), **asdict(uploaded), "status": "uploaded"}
    if final is not None:
        record |= {
            "status": final.status,
            "stage": final.stage,
            "processing_error": final.raw.get("processing_error"),
        }
    return record


def _failed_json(failure: FailedUpload) -> dict[str, Any]:
    error = failure.error
    code = error.code if isinstance(error, ApiError) else type(error).__name__
    return {"path": str(failure.path), "status": "error", "error": {"code": code, "message": describe(error)}}


def _print_result(output: Output, result: UploadResult) -> None:
    speed = result.bytes_sent / result.elapsed_seconds / 1e6 if result.elapsed_seconds else 0.0
    output.out.print(
        f"[green]uploaded[/] {size(result.size)} in {result.elapsed_seconds:.1f} s "
        f"({speed:.1f} MB/s sent)" + (" [dim](resumed)[/]" if result.resumed else "")
    )
    output.fields(
        {
            "upload id": result.upload_id,
            "file id": result.file_id,
            "key": result.key,
            "sha256": result.sha256,
            "parts": f"{len(result.parts_sent)} sent, {len(result.parts_reused)} kept from before, "
            f"{result.part_count} in all ({size(result.part_size)} each)",
        }
    )


def status(client: FileflowClient, args: argparse.Namespace, output: Output) -> int:
    upload_status = client.status(args.upload_id)
    if output.as_json:
        output.json(upload_status)
        return EXIT_OK
    total = f" of {size(upload_status.size)}" if upload_status.size is not None else ""
    output.fields({**asdict(upload_status), "received": f"{size(upload_status.bytes_received)}{total}"})
    return EXIT_OK


def parts(client: FileflowClient, args: argparse.Namespace, output: Output) -> int:
    held = client.list_parts(args.upload_id)
    if output.as_json:
        output.json(held)
        return EXIT_OK
    output.table(
        ("part", "size", "etag", "sha256 (base64)"),
        [(part.part_number, part.size, part.etag, part.checksum_sha256) for part in held],
    )
    output.out.print(f"{len(held)} parts, {size(sum(part.size for part in held))}")
    return EXIT_OK


def abort(client: FileflowClient, args: argparse.Namespace, output: Output) -> int:
    aborted = client.abort(args.upload_id)
    if output.as_json:
        output.json(aborted)
    else:
        output.out.print(f"upload {aborted.upload_id}: {aborted.status}")
    return EXIT_OK
