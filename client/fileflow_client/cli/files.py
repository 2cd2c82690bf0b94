"""`fileflow ls | search | info | download | rm | tag | wait | watch`."""

from __future__ import annotations

import argparse
import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rich.progress import BarColumn, DownloadColumn, TransferSpeedColumn
from rich.progress import Progress as ProgressDisplay

from fileflow_client.cli.describe import describe, exit_code
from fileflow_client.cli.output import EXIT_OK, EXIT_PARTIAL, Output, size
from fileflow_client.cli.uploads import FAILED_STATUSES, follow_stages, stage_display
from fileflow_client.client import FileflowClient
from fileflow_client.files import FileDetail, FileSummary

SUMMARY_HEADERS = ("file id", "name", "size", "status", "type", "tags", "created")


def ls(client: FileflowClient, args: argparse.Namespace, output: Output) -> int:
    files = client.files.list(
        status=args.status, type=args.type, sort=args.sort, order=args.order, limit=min(args.limit, 100)
    )
    _print_summaries(itertools.islice(files, args.limit), output)
    return EXIT_OK


def search(client: FileflowClient, args: argparse.Namespace, output: Output) -> int:
    if args.query is None and args.tag is None:
        raise ValueError("search needs a name (QUERY) or --tag")
    files = client.files.search(
        q=args.query, tag=args.tag, match="contains" if args.contains else None, limit=min(args.limit, 100)
    )
    _print_summaries(itertools.islice(files, args.limit), output)
    return EXIT_OK


def _print_summaries(files: Iterator[FileSummary], output: Output) -> None:
    if output.as_json:
        output.json_lines(files)  # one object per line, as the pages arrive
        return
    output.table(
        SUMMARY_HEADERS,
        [
            (
                f.file_id,
                f.filename,
                size(f.size),
                f.status,
                f.detected_type or f.content_type,
                f.tags,
                f.created_at,
            )
            for f in files
        ],
    )


def info(client: FileflowClient, args: argparse.Namespace, output: Output) -> int:
    detail = client.files.get(args.file_id)
    if output.as_json:
        output.json(detail.raw)
        return EXIT_OK
    summary = detail.summary
    output.fields(
        {
            "file id": summary.file_id,
            "name": summary.filename,
            "status": summary.status,
            "stage": f"{detail.stage or ''} {detail.stage_state or ''}".strip(),
            "size": size(summary.size),
            "type": summary.detected_type or summary.content_type,
            "sha256": detail.sha256,
            "integrity": detail.integrity,
            "tags": summary.tags,
            "priority": detail.priority,
            "ai status": detail.raw.get("ai_status"),
            "review": (detail.raw.get("review") or {}).get("status"),
            "created": summary.created_at,
            "derivatives": [d.name for d in detail.derivatives],
            "error": (detail.raw.get("processing_error") or {}).get("message"),
        }
    )
    return EXIT_OK


def download(client: FileflowClient, args: argparse.Namespace, output: Output) -> int:
    detail = client.files.get(args.file_id)
    name = args.derivative or detail.summary.filename or detail.file_id
    target: Path = args.output or Path(Path(name).name)
    display = ProgressDisplay(
        *ProgressDisplay.get_default_columns()[:1],
        BarColumn(),
        DownloadColumn(binary_units=True),
        TransferSpeedColumn(),
        console=output.err,
        disable=not output.err.is_terminal,
    )
    with display:
        task = display.add_task(f"downloading {target.name}", total=None)
        result = client.files.download(
            args.file_id,
            target,
            derivative=args.derivative,
            resume=args.resume,
            progress=lambda done, total: display.update(task, completed=done, total=total),
        )
    if output.as_json:
        output.json(result)
    else:
        kept = f", {size(result.resumed_from)} kept from before" if result.resumed_from else ""
        checked = "SHA-256 verified" if result.verified else "no SHA-256 to verify against"
        output.out.print(f"[green]downloaded[/] {target} ({size(result.size)}{kept}; {checked})")
    return EXIT_OK


def rm(client: FileflowClient, args: argparse.Namespace, output: Output) -> int:
    outcomes: list[dict[str, Any]] = []
    codes: list[int] = []
    for file_id in args.file_ids:
        try:
            client.files.delete(file_id)
        except Exception as error:
            codes.append(exit_code(error))
            outcomes.append(
                {"file_id": file_id, "deleted": False, "error": describe(error, subject=f"file {file_id}")}
            )
        else:
            outcomes.append({"file_id": file_id, "deleted": True})
    for outcome in outcomes:
        if output.as_json:
            output.json(outcome)
        elif outcome["deleted"]:
            output.out.print(f"deleted {outcome['file_id']}")
        else:
            output.error(outcome["error"])
    return _batch_code(codes, len(args.file_ids))


def tag(client: FileflowClient, args: argparse.Namespace, output: Output) -> int:
    if args.tags and (args.add or args.remove):
        raise ValueError("give the whole list of TAGS, or --add/--remove, not both")
    if args.tags:
        tags = client.files.set_tags(args.file_id, args.tags)
    else:
        current = client.files.get(args.file_id)
        wanted = [t for t in current.summary.tags if t not in args.remove] + [
            t for t in args.add if t not in current.summary.tags
        ]
        version = current.raw.get("tags_version")
        tags = client.files.set_tags(
            args.file_id, wanted, if_version=version if isinstance(version, int) else None
        )
    if output.as_json:
        output.json(tags)
    else:
        output.out.print(f"{tags.file_id}: {', '.join(tags.tags) or '(no tags)'}")
    return EXIT_OK


def wait(client: FileflowClient, args: argparse.Namespace, output: Output) -> int:
    display = stage_display(output)
    finals: list[FileDetail] = []
    codes: list[int] = []
    with display:
        for file_id in args.file_ids:
            try:
                finals.append(follow_stages(client, file_id, file_id, display, args.timeout))
            except Exception as error:
                codes.append(exit_code(error))
                output.error(describe(error, subject=f"file {file_id}"))
    for final in finals:
        if final.status in FAILED_STATUSES:
            codes.append(EXIT_PARTIAL)
        if output.as_json:
            output.json({"file_id": final.file_id, "status": final.status, "stage": final.stage})
        else:
            output.out.print(f"{final.file_id}: {final.status}")
    return _batch_code(codes, len(args.file_ids))


def watch(client: FileflowClient, args: argparse.Namespace, output: Output) -> int:
    """Each stage event as it happens, until the processing ends."""
    for event in client.files.events(args.file_id):
        if output.as_json:
            output.json(event)
        else:
            colour = {"succeeded": "green", "failed": "red"}.get(event.state, "cyan")
            facts = ", ".join(f"{k}={v}" for k, v in event.detail.items())
            output.out.print(f"{event.at}  [{colour}]{event.stage:<10} {event.state:<9}[/] {facts}")
    final = client.files.get(args.file_id)
    if not output.as_json:
        output.out.print(f"[bold]{final.file_id}: {final.status}[/]")
    return EXIT_PARTIAL if final.status in FAILED_STATUSES else EXIT_OK


def _batch_code(codes: list[int], count: int) -> int:
    """One id: its own code. Several: 5 when some failed, their common code when all did."""
    if not codes:
        return EXIT_OK
    if count == 1 or (len(codes) == count and len(set(codes)) == 1):
        return codes[0]
    return EXIT_PARTIAL
