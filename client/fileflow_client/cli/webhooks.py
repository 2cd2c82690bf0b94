"""`fileflow webhooks add | ls | rm | deliveries | redeliver`."""

from __future__ import annotations

import argparse

from fileflow_client.cli.output import EXIT_OK, Output
from fileflow_client.client import FileflowClient


def add(client: FileflowClient, args: argparse.Namespace, output: Output) -> int:
    created = client.webhooks.create(args.url, args.event, args.description or "")
    if output.as_json:
        output.json(created)
        return EXIT_OK
    output.out.print(f"[green]added[/] {created.endpoint_id} -> {created.url} ({', '.join(created.events)})")
    output.out.print(f"signing secret (shown this once, keep it): {created.secret}", markup=False)
    return EXIT_OK


def ls(client: FileflowClient, args: argparse.Namespace, output: Output) -> int:
    endpoints = client.webhooks.list()
    if output.as_json:
        output.json_lines(endpoints)
        return EXIT_OK
    output.table(
        ("endpoint id", "url", "events", "status", "failures", "why disabled"),
        [
            (e.endpoint_id, e.url, e.events, e.status, e.consecutive_failures, e.disabled_reason)
            for e in endpoints
        ],
    )
    return EXIT_OK


def rm(client: FileflowClient, args: argparse.Namespace, output: Output) -> int:
    client.webhooks.delete(args.endpoint_id)
    if output.as_json:
        output.json({"endpoint_id": args.endpoint_id, "deleted": True})
    else:
        output.out.print(f"deleted {args.endpoint_id}")
    return EXIT_OK


def deliveries(client: FileflowClient, args: argparse.Namespace, output: Output) -> int:
    if args.delivery_id:
        delivery = client.webhooks.delivery(args.endpoint_id, args.delivery_id)
        if output.as_json:
            output.json(delivery)
        else:
            output.fields(
                {"delivery": delivery.delivery_id, "event": delivery.event_type, "status": delivery.status}
            )
            output.table(
                ("attempt", "at", "status code", "ms", "error"),
                [(a.get("attempt"), a.get("at"), a.get("status_code"), a.get("duration_ms"), a.get("error"))
                 for a in delivery.attempts],
            )  # fmt: skip
        return EXIT_OK
    found = client.webhooks.deliveries(args.endpoint_id, status=args.status)
    if output.as_json:
        output.json_lines(found)
        return EXIT_OK
    output.table(
        ("delivery id", "event", "file id", "status", "attempts", "last code", "updated"),
        [(d.delivery_id, d.event_type, d.file_id, d.status, d.attempt_count, d.last_status_code, d.updated_at)
         for d in found],
    )  # fmt: skip
    return EXIT_OK


def redeliver(client: FileflowClient, args: argparse.Namespace, output: Output) -> int:
    queued = client.webhooks.redeliver(args.endpoint_id, args.delivery_id)
    if output.as_json:
        output.json(queued)
    else:
        output.out.print(
            f"delivery {queued.delivery_id} {queued.status} again (webhook-id {queued.webhook_id})"
        )
    return EXIT_OK
