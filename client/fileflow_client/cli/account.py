"""`fileflow login` and `fileflow usage`."""

from __future__ import annotations

import argparse
import getpass
import sys

from fileflow_client.cli.config import Settings, write_file
from fileflow_client.cli.output import EXIT_OK, Output
from fileflow_client.client import FileflowClient


def login(args: argparse.Namespace, output: Output, client_factory: type[FileflowClient]) -> int:
    """Checks the token against the API (one listing call) before it is stored."""
    api_url = args.api_url or input("API URL: ").strip()
    token = args.token or (
        sys.stdin.readline().strip() if not sys.stdin.isatty() else getpass.getpass("Token: ")
    )
    if not api_url or not token:
        raise ValueError("login needs an API URL and a token")
    with client_factory(api_url, token) as client:
        next(iter(client.files.list(limit=1)), None)
    path = write_file(Settings(api_url=api_url, token=token))
    if output.as_json:
        output.json({"config": str(path), "api_url": api_url})
    else:
        output.out.print(f"[green]logged in[/]: {api_url} (saved to {path}, readable by you only)")
    return EXIT_OK


def usage(client: FileflowClient, args: argparse.Namespace, output: Output) -> int:
    figures = client.usage.get()
    if output.as_json:
        output.json(figures.raw)
        return EXIT_OK
    for section, values in figures.raw.items():
        output.out.print(f"[bold]{section}[/]")
        if isinstance(values, dict):
            output.fields(values)
        else:
            output.out.print(str(values))
    return EXIT_OK
