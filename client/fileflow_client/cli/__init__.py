"""`fileflow` (or `python -m fileflow_client`): the whole platform from a terminal (docs/client.md).

Configuration: `fileflow login` stores the API URL and token; FILEFLOW_API_URL / FILEFLOW_TOKEN override
the file, and --api-url / --token override both (prefer the variable or the file: a flag's value is
visible to other users in the process list). Results go to stdout (`--json`: JSON, one object per line
for lists and batches); progress and errors go to stderr.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from fileflow_client.cli import account
from fileflow_client.cli.config import ConfigError, resolve
from fileflow_client.cli.describe import describe, exit_code
from fileflow_client.cli.output import (
    EXIT_AUTH,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_NOT_FOUND,
    EXIT_OK,
    EXIT_PARTIAL,
    EXIT_STOPPED,
    EXIT_USAGE,
    Output,
)
from fileflow_client.cli.parser import build_parser
from fileflow_client.cli.uploads import UsageError
from fileflow_client.client import FileflowClient
from fileflow_client.errors import FileflowClientError

__all__ = [
    "EXIT_AUTH",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_NOT_FOUND",
    "EXIT_OK",
    "EXIT_PARTIAL",
    "EXIT_STOPPED",
    "EXIT_USAGE",
    "FileflowClient",
    "main",
]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    output = Output(as_json=bool(args.json))
    if args.command == "completion":
        import shtab  # only for this command

        output.out.print(
            shtab.complete(parser, shell=args.shell), markup=False, highlight=False, soft_wrap=True
        )
        return EXIT_OK
    try:
        if args.command == "login":
            return account.login(args, output, FileflowClient)
        settings = resolve(args.api_url, args.token)
        with FileflowClient(settings.api_url, settings.token) as client:
            return int(args.run(client, args, output))
    except KeyboardInterrupt:
        output.err.print("[yellow]interrupted[/]: run the same command again to resume")
        return EXIT_INTERRUPTED
    except (ConfigError, UsageError, ValueError) as error:
        output.error(str(error))
        return EXIT_USAGE
    except (FileflowClientError, OSError) as error:
        output.error(describe(error, subject=_subject(args)))
        return exit_code(error)


def _subject(args: argparse.Namespace) -> str | None:
    for attribute, label in (("upload_id", "upload"), ("file_id", "file"), ("review_id", "review")):
        value = getattr(args, attribute, None)
        if value:
            return f"{label} {value}"
    if getattr(args, "endpoint_id", None):
        return f"webhook endpoint {args.endpoint_id}"
    return None


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
