"""The `fileflow` command line: every command, its arguments and its help."""

from __future__ import annotations

import argparse
from pathlib import Path

from fileflow_client.cli import files, reviews, uploads, webhooks
from fileflow_client.cli.account import usage
from fileflow_client.client import DEFAULT_CONCURRENCY
from fileflow_client.localfile import PART_CHECKSUM_ALGORITHMS, SHA256

STATUSES = ("uploading", "uploaded", "processing", "processed", "needs_review", "failed", "rejected")
EVENTS = ("file.processed", "file.failed", "file.needs_review", "upload.expired", "review.decided")


def _common_options(*, in_command: bool) -> argparse.ArgumentParser:
    """Accepted before and after the command; after it, an option left out must not reset one given before."""
    default: object = argparse.SUPPRESS if in_command else None
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--api-url", default=default, help="the API's base URL (default: $FILEFLOW_API_URL, then `login`'s)"
    )
    common.add_argument(
        "--token", default=default, help="a bearer token (default: $FILEFLOW_TOKEN, then login's)"
    )
    common.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS if in_command else False,
        help="machine-readable output on stdout (JSON; one object per line for lists and batches)",
    )
    return common


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def _priority(value: str) -> int:
    number = int(value)
    if not 1 <= number <= 9:
        raise argparse.ArgumentTypeError("must be from 1 (most urgent) to 9")
    return number


type Commands = argparse._SubParsersAction[argparse.ArgumentParser]


def build_parser() -> argparse.ArgumentParser:
    common = _common_options(in_command=True)
    parser = argparse.ArgumentParser(
        prog="fileflow",
        description="Upload, find, download and review files on Fileflow.",
        parents=[_common_options(in_command=False)],
        epilog="exit codes: 0 ok, 1 error, 2 usage, 3 not found, 4 authentication or permission, "
        "5 some items of a batch failed, 130 interrupted",
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND", dest="command")

    def command(name: str, help_text: str, parent: Commands = commands) -> argparse.ArgumentParser:
        return parent.add_parser(name, parents=[common], help=help_text, description=help_text)

    login = command("login", "store the API URL and a token in ~/.config/fileflow/config.toml (mode 0600)")
    login.set_defaults(run=None)

    up = command("upload", "upload files and directories (an interrupted upload resumes)")
    up.add_argument("paths", type=Path, nargs="+", metavar="PATH")
    up.add_argument("--wait", action="store_true", help="then show each file's stages until it is processed")
    up.add_argument("--priority", type=_priority, help="1 (most urgent) to 9; default 5")
    up.add_argument("--tag", action="append", default=[], metavar="TAG", help="tag the files (repeatable)")
    up.add_argument("--analysis", choices=("local", "auto", "deep"), help="whether Claude may analyse them")
    up.add_argument("--callback-url", help="a one-off webhook target for these uploads' events")
    up.add_argument(
        "--pattern", default="*", help="in directories, the files matching this glob (default: *)"
    )
    up.add_argument(
        "--files-at-once", type=_positive, default=4, help="files uploaded in parallel (default: 4)"
    )
    up.add_argument(
        "--concurrency",
        type=_positive,
        default=DEFAULT_CONCURRENCY,
        help="parts sent at once per file (default: 8)",
    )
    up.add_argument(
        "--timeout", type=float, default=600.0, help="with --wait: seconds per file (default: 600)"
    )
    up.add_argument("--content-type", help="default: guessed from each file's name")
    up.add_argument("--no-resume", dest="resume", action="store_false", help="start afresh")
    up.add_argument(
        "--part-checksum",
        choices=PART_CHECKSUM_ALGORITHMS,
        default=SHA256,
        help="each part's checksum, verified by the storage (default: SHA256; CRC32C is cheaper)",
    )
    up.add_argument(
        "--no-part-checksums", dest="part_checksums", action="store_false", help=argparse.SUPPRESS
    )
    up.add_argument("--state-file", type=Path, help="where to record the upload for resuming (one file only)")
    up.add_argument("--stop-after-parts", type=_positive, help=argparse.SUPPRESS)
    up.set_defaults(run=uploads.upload)

    for name, help_text, run in (
        ("status", "show an upload session's status", uploads.status),
        ("parts", "list the parts the storage holds for an upload", uploads.parts),
        ("abort", "abort an upload", uploads.abort),
    ):
        sub = command(name, help_text)
        sub.add_argument("upload_id", metavar="UPLOAD_ID")
        sub.set_defaults(run=run)

    listing = command("ls", "list your files, newest first")
    listing.add_argument("--status", choices=STATUSES)
    listing.add_argument("--type", help="detected type (image/png) or major type (image/*)")
    listing.add_argument("--sort", choices=("created", "name"))
    listing.add_argument("--order", choices=("asc", "desc"))
    listing.add_argument("--limit", type=_positive, default=100, help="at most this many (default: 100)")
    listing.set_defaults(run=files.ls)

    found = command("search", "find files by name and/or tag")
    found.add_argument(
        "query", nargs="?", metavar="QUERY", help="the name's start (or part, with --contains)"
    )
    found.add_argument("--tag")
    found.add_argument("--contains", action="store_true", help="match QUERY anywhere in the name")
    found.add_argument("--limit", type=_positive, default=100)
    found.set_defaults(run=files.search)

    info = command("info", "show one file: status, stages, analysis, derivatives")
    info.add_argument("file_id", metavar="ID")
    info.set_defaults(run=files.info)

    get = command("download", "download a file (or a derivative), resumable, SHA-256 checked")
    get.add_argument("file_id", metavar="ID")
    get.add_argument("--derivative", metavar="NAME", help="e.g. thumb-512.webp, text.txt (see `info`)")
    get.add_argument("-o", "--output", type=Path, help="where to write it (default: its name, here)")
    get.add_argument("--no-resume", dest="resume", action="store_false")
    get.set_defaults(run=files.download)

    remove = command("rm", "delete files, their derivatives and history")
    remove.add_argument("file_ids", nargs="+", metavar="ID")
    remove.set_defaults(run=files.rm)

    tags = command("tag", "set a file's tags (TAGS replace them all), or --add / --remove some")
    tags.add_argument("file_id", metavar="ID")
    tags.add_argument("tags", nargs="*", metavar="TAG")
    tags.add_argument("--add", action="append", default=[], metavar="TAG")
    tags.add_argument("--remove", action="append", default=[], metavar="TAG")
    tags.set_defaults(run=files.tag)

    waiting = command("wait", "wait until files are processed, with their stages live")
    waiting.add_argument("file_ids", nargs="+", metavar="ID")
    waiting.add_argument("--timeout", type=float, default=600.0, help="seconds per file (default: 600)")
    waiting.set_defaults(run=files.wait)

    watching = command("watch", "print a file's stage events as they happen")
    watching.add_argument("file_id", metavar="ID")
    watching.set_defaults(run=files.watch)

    review = command("review", "the review queue (reviewer tokens only)")
    review_commands = review.add_subparsers(required=True, metavar="ACTION", dest="action")
    pending = command("list", "reviews waiting for a decision", review_commands)
    pending.add_argument("--status", default="pending", help="pending (default), decided, expired, escalated")
    pending.set_defaults(run=reviews.review_list)
    show = command("show", "what a review holds", review_commands)
    show.add_argument("review_id", metavar="REVIEW_ID")
    show.set_defaults(run=reviews.review_show)
    for decision, help_text in (
        ("approve", "the AI's result stands"),
        ("correct", "replace fields of the AI's result"),
        ("reject", "the AI's result is wrong: it is dropped"),
    ):
        decide = command(decision, help_text, review_commands)
        decide.add_argument("review_id", metavar="REVIEW_ID")
        decide.add_argument("--note")
        if decision == "correct":
            decide.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE")
            decide.add_argument("--changes", metavar="JSON", help="the corrected fields as one JSON object")
        decide.set_defaults(run=reviews.review_decide, decision=decision)

    hooks = command("webhooks", "your webhook endpoints and their deliveries")
    hook_commands = hooks.add_subparsers(required=True, metavar="ACTION", dest="action")
    add = command("add", "add an endpoint (prints its signing secret once)", hook_commands)
    add.add_argument("url", metavar="URL")
    add.add_argument("--event", action="append", required=True, choices=EVENTS, help="repeatable")
    add.add_argument("--description")
    add.set_defaults(run=webhooks.add)
    command("ls", "list your endpoints", hook_commands).set_defaults(run=webhooks.ls)
    drop = command("rm", "delete an endpoint", hook_commands)
    drop.add_argument("endpoint_id", metavar="ENDPOINT_ID")
    drop.set_defaults(run=webhooks.rm)
    log = command(
        "deliveries", "an endpoint's deliveries (newest first), or one delivery's attempts", hook_commands
    )
    log.add_argument("endpoint_id", metavar="ENDPOINT_ID")
    log.add_argument("delivery_id", nargs="?", metavar="DELIVERY_ID")
    log.add_argument("--status", choices=("pending", "retrying", "succeeded", "failed"))
    log.set_defaults(run=webhooks.deliveries)
    again = command("redeliver", "send a delivery again (same webhook-id)", hook_commands)
    again.add_argument("endpoint_id", metavar="ENDPOINT_ID")
    again.add_argument("delivery_id", metavar="DELIVERY_ID")
    again.set_defaults(run=webhooks.redeliver)

    command("usage", "your storage and AI usage against quotas and budgets").set_defaults(run=usage)

    completion = command("completion", 'print a shell completion script: eval "$(fileflow completion bash)"')
    completion.add_argument("shell", choices=("bash", "zsh", "tcsh"))
    return parser
