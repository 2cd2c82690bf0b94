"""`fileflow` (or `python -m fileflow_client`): upload, status, parts, abort.

Configuration: --api-url / FILEFLOW_API_URL and --token / FILEFLOW_TOKEN (prefer the variable: a
flag's value is visible to other users in the process list).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.progress import Progress as ProgressDisplay
from rich.table import Table

from fileflow_client.client import DEFAULT_CONCURRENCY, FileflowClient, Progress, UploadResult
from fileflow_client.errors import (
    ApiError,
    ApiUnreachableError,
    AuthenticationError,
    FileChangedError,
    FileflowClientError,
    FileTooLargeError,
    IntegrityError,
    NotFoundError,
    PermissionDeniedError,
    QuotaExceededError,
    TransferError,
    UnsupportedMediaTypeError,
    UploadExpiredError,
    UploadStateError,
)

EXIT_FAILED = 1
EXIT_USAGE = 2
# --stop-after-parts: the process ends as if it had crashed (tests of resume in a new process)
EXIT_STOPPED = 75
EXIT_INTERRUPTED = 130

type Command = Callable[[FileflowClient, argparse.Namespace, Console, Console], int]


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    out = Console(highlight=False)
    err = Console(stderr=True, highlight=False)
    api_url = args.api_url or os.environ.get("FILEFLOW_API_URL")
    token = args.token or os.environ.get("FILEFLOW_TOKEN")
    if not api_url:
        err.print("[red]error:[/] no API URL: set FILEFLOW_API_URL or pass --api-url")
        return EXIT_USAGE
    if not token:
        err.print("[red]error:[/] no token: set FILEFLOW_TOKEN or pass --token")
        return EXIT_USAGE
    command: Command = args.command
    try:
        with FileflowClient(api_url, token) as client:
            return command(client, args, out, err)
    except KeyboardInterrupt:
        err.print("[yellow]interrupted[/]: run the same command again to resume the upload")
        return EXIT_INTERRUPTED
    except (FileflowClientError, OSError) as error:
        err.print(f"[red]error:[/] {describe(error, args)}", soft_wrap=True)
        return EXIT_FAILED


def describe(error: BaseException, args: argparse.Namespace) -> str:
    """One clear sentence for each kind of failure, with what to do about it."""
    upload_id = getattr(args, "upload_id", None)
    match error:
        case AuthenticationError():
            return (
                f"authentication failed ({error.status}): the token is missing, invalid or expired. "
                "Get a new one (e.g. `make token USER=alice`) and set FILEFLOW_TOKEN."
            )
        case QuotaExceededError():
            return f"your storage quota is used up ({error.status}): {error.message}"
        case PermissionDeniedError():
            return f"not allowed ({error.status}): {error.message}"
        case FileTooLargeError():
            return f"the file is too large for Fileflow ({error.status}): {error.message}"
        case UnsupportedMediaTypeError():
            return (
                f"this content type is not accepted ({error.status}): {error.message}. "
                "Pass an accepted one with --content-type."
            )
        case NotFoundError():
            what = f"upload {upload_id}" if upload_id else "the upload"
            return f"{what} was not found ({error.status}): it does not exist or is not yours"
        case UploadExpiredError():
            return f"the upload expired ({error.status}): start it again"
        case UploadStateError():
            return (
                f"not possible in the upload's current state ({error.status} {error.code}): {error.message}"
            )
        case ApiError():
            return f"the API refused the request ({error.status} {error.code}): {error.message}"
        case ApiUnreachableError():
            return f"{error} (is FILEFLOW_API_URL right, and the service up?)"
        case FileChangedError():
            return f"{error}; the upload was not completed. Upload the file again once it stops changing."
        case IntegrityError():
            return f"the stored object does not match the local file: {error}"
        case TransferError():
            return f"{error}. Run the same command again to resume."
        case FileNotFoundError() | IsADirectoryError() | PermissionError():
            return str(error)
    return f"{type(error).__name__}: {error}"


def _common_options(*, in_command: bool) -> argparse.ArgumentParser:
    """Accepted before and after the command; after it, an option left out must not reset one given before."""
    default: object = argparse.SUPPRESS if in_command else None
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--api-url", default=default, help="the API's base URL (default: $FILEFLOW_API_URL)")
    common.add_argument("--token", default=default, help="a bearer token (default: $FILEFLOW_TOKEN)")
    common.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS if in_command else False,
        help="print the result as JSON on stdout",
    )
    return common


def _parser() -> argparse.ArgumentParser:
    common = _common_options(in_command=True)
    parser = argparse.ArgumentParser(
        prog="fileflow", description="Upload files to Fileflow.", parents=[_common_options(in_command=False)]
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    upload = commands.add_parser(
        "upload", parents=[common], help="upload a file (resumes an interrupted one)"
    )
    upload.add_argument("file", type=Path, metavar="FILE")
    upload.add_argument(
        "--concurrency", type=_positive, default=DEFAULT_CONCURRENCY, help="parts sent at once (default: 8)"
    )
    upload.add_argument("--content-type", help="default: guessed from the file name")
    upload.add_argument(
        "--no-resume",
        dest="resume",
        action="store_false",
        help="start afresh even if an upload was interrupted",
    )
    upload.add_argument(
        "--no-part-checksums", dest="part_checksums", action="store_false", help="do not sign part SHA-256s"
    )
    upload.add_argument("--state-file", type=Path, help="where to record the upload for resuming")
    upload.add_argument("--stop-after-parts", type=_positive, help=argparse.SUPPRESS)
    upload.set_defaults(command=_upload)

    status = commands.add_parser("status", parents=[common], help="show an upload's status")
    status.add_argument("upload_id", metavar="UPLOAD_ID")
    status.set_defaults(command=_status)

    parts = commands.add_parser("parts", parents=[common], help="list the parts the storage holds")
    parts.add_argument("upload_id", metavar="UPLOAD_ID")
    parts.set_defaults(command=_parts)

    abort = commands.add_parser("abort", parents=[common], help="abort an upload")
    abort.add_argument("upload_id", metavar="UPLOAD_ID")
    abort.set_defaults(command=_abort)
    return parser


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def _upload(client: FileflowClient, args: argparse.Namespace, out: Console, err: Console) -> int:
    display = ProgressDisplay(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(binary_units=True),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=err,
        disable=not err.is_terminal,
    )
    tasks: dict[str, TaskID] = {}
    parts_confirmed = 0

    def on_progress(event: Progress) -> None:
        nonlocal parts_confirmed
        if event.phase in ("hashing", "uploading"):
            if event.phase not in tasks:
                label = "hashing  " if event.phase == "hashing" else "uploading"
                tasks[event.phase] = display.add_task(f"{label} {args.file.name}", total=event.bytes_total)
            display.update(tasks[event.phase], completed=event.bytes_done)
        if event.part_number is not None and event.phase == "uploading":
            parts_confirmed += 1
            if args.stop_after_parts is not None and parts_confirmed >= args.stop_after_parts:
                display.stop()
                err.print(f"stopping after {parts_confirmed} parts (--stop-after-parts)")
                sys.stderr.flush()
                os._exit(EXIT_STOPPED)  # no clean-up at all, like a crash

    with display:
        result = client.upload(
            args.file,
            content_type=args.content_type,
            concurrency=args.concurrency,
            part_checksums=args.part_checksums,
            progress=on_progress,
            resume=args.resume,
            state_file=args.state_file,
        )
    if args.json:
        out.print_json(json.dumps(asdict(result)))
    else:
        _print_result(out, result)
    return 0


def _print_result(out: Console, result: UploadResult) -> None:
    speed = result.bytes_sent / result.elapsed_seconds / 1e6 if result.elapsed_seconds else 0.0
    out.print(
        f"[green]uploaded[/] {_size(result.size)} in {result.elapsed_seconds:.1f} s "
        f"({speed:.1f} MB/s sent)" + (" [dim](resumed)[/]" if result.resumed else "")
    )
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_row("upload id", result.upload_id)
    table.add_row("file id", result.file_id)
    table.add_row("key", result.key)
    table.add_row("sha256", result.sha256)
    table.add_row(
        "parts",
        f"{len(result.parts_sent)} sent, {len(result.parts_reused)} kept from before, "
        f"{result.part_count} in all ({_size(result.part_size)} each)",
    )
    out.print(table)


def _status(client: FileflowClient, args: argparse.Namespace, out: Console, err: Console) -> int:
    status = client.status(args.upload_id)
    if args.json:
        out.print_json(json.dumps(asdict(status)))
        return 0
    table = Table(show_header=False, box=None, pad_edge=False)
    for name, value in asdict(status).items():
        table.add_row(name.replace("_", " "), str(value))
    total = f" of {_size(status.size)}" if status.size is not None else ""
    table.add_row("received", f"{_size(status.bytes_received)}{total}")
    out.print(table)
    return 0


def _parts(client: FileflowClient, args: argparse.Namespace, out: Console, err: Console) -> int:
    parts = client.list_parts(args.upload_id)
    if args.json:
        out.print_json(json.dumps([asdict(part) for part in parts]))
        return 0
    table = Table("part", "size", "etag", "sha256 (base64)")
    for part in parts:
        table.add_row(str(part.part_number), str(part.size), part.etag, part.checksum_sha256 or "")
    out.print(table)
    out.print(f"{len(parts)} parts, {_size(sum(part.size for part in parts))}")
    return 0


def _abort(client: FileflowClient, args: argparse.Namespace, out: Console, err: Console) -> int:
    aborted = client.abort(args.upload_id)
    if args.json:
        out.print_json(json.dumps(asdict(aborted)))
    else:
        out.print(f"upload {aborted.upload_id}: {aborted.status}")
    return 0


def _size(count: int) -> str:
    if count < 1024:
        return f"{count} B"
    value = count / 1024
    for unit in ("KiB", "MiB"):
        if value < 1024:
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"
