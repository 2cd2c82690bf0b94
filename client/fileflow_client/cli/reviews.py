"""`fileflow review list | show | approve | correct | reject` (reviewer tokens only)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from fileflow_client.cli.output import EXIT_OK, Output
from fileflow_client.client import FileflowClient
from fileflow_client.reviews import Review


def review_list(client: FileflowClient, args: argparse.Namespace, output: Output) -> int:
    reviews = client.reviews.list(status=args.status)
    if output.as_json:
        output.json_lines(review.raw for review in reviews)
        return EXIT_OK
    output.table(
        ("review id", "kind", "category", "status", "confidence", "created"),
        [(r.review_id, r.kind, r.category, r.status, _confidence(r), r.created_at) for r in reviews],
    )
    return EXIT_OK


def review_show(client: FileflowClient, args: argparse.Namespace, output: Output) -> int:
    review = client.reviews.get(args.review_id)
    if output.as_json:
        output.json(review.raw)
    else:
        output.fields({name: value for name, value in review.raw.items() if value not in (None, {}, [])})
    return EXIT_OK


def review_decide(client: FileflowClient, args: argparse.Namespace, output: Output) -> int:
    changes = _changes(args) if args.decision == "correct" else None
    decided = client.reviews.decide(args.review_id, args.decision, changes=changes, note=args.note)
    if output.as_json:
        output.json(decided.raw)
    else:
        output.out.print(
            f"review {decided.review_id}: {decided.decision or args.decision} ({decided.status})"
        )
    return EXIT_OK


def _changes(args: argparse.Namespace) -> dict[str, Any]:
    """`--set field=value` (a value that parses as JSON is taken as JSON) and/or `--changes '{...}'`."""
    changes: dict[str, Any] = json.loads(args.changes) if args.changes else {}
    if not isinstance(changes, dict):
        raise ValueError("--changes must be a JSON object")
    for item in args.set:
        name, separator, raw = item.partition("=")
        if not separator or not name:
            raise ValueError(f"--set takes field=value, not {item!r}")
        try:
            changes[name] = json.loads(raw)
        except ValueError:
            changes[name] = raw
    if not changes:
        raise ValueError("correct needs the corrected fields: --set field=value or --changes JSON")
    return changes


def _confidence(review: Review) -> str:
    return f"{review.confidence:.2f}" if review.confidence is not None else ""
