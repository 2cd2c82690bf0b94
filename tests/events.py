"""The one loader of the real-shaped sample events in events/<function>/<case>.json."""

import json
from pathlib import Path
from typing import Any

EVENTS_DIR = Path(__file__).resolve().parent.parent / "events"


def load_event(name: str) -> dict[str, Any]:
    """Return a fresh copy of events/{name}.json (`name`: "<function>/<case>"), safe to mutate."""
    event: dict[str, Any] = json.loads((EVENTS_DIR / f"{name}.json").read_text(encoding="utf-8"))
    return event


def s3_notification(*, bucket: str | None = None, **object_fields: Any) -> dict[str, Any]:
    """The real-shaped S3 notification in events/starter/s3_object_created.json's message body, with its
    bucket and object fields replaced; a field given as None is left out (S3 leaves out an absent
    versionId)."""
    notification: dict[str, Any] = json.loads(load_event("starter/s3_object_created")["Records"][0]["body"])
    s3 = notification["Records"][0]["s3"]
    if bucket is not None:
        s3["bucket"].update(name=bucket, arn=f"arn:aws:s3:::{bucket}")
    fields = {**s3["object"], **object_fields}
    s3["object"] = {name: value for name, value in fields.items() if value is not None}
    return notification
