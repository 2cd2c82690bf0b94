"""Entity tags and `If-None-Match` (RFC 9110, sections 8.8.3 and 13.1.2). No FastAPI, no AWS.

A representation's tag is a hash of its JSON body with its presigned URLs replaced by the window of time
they were signed in: the URLs change on every request (each is signed anew), but a client holding the
body of the same tag still holds URLs valid for at least half of their lifetime (docs/files-api.md).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

# One entity-tag of a list: optional weakness indicator, then a quoted opaque tag (etagc, RFC 9110 8.8.3).
_ENTITY_TAG = re.compile(r'\s*(?:W/)?"([\x21\x23-\x7e\x80-\xff]*)"\s*(?:,|$)')


def entity_tag(body: Mapping[str, Any]) -> str:
    """A strong tag: 32 hex digits of the SHA-256 of the canonical JSON, quoted."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return '"' + hashlib.sha256(canonical.encode()).hexdigest()[:32] + '"'


def none_match(if_none_match: str | None, current: str) -> bool:
    """True when `If-None-Match` names the current tag (or is `*`): answer 304 Not Modified.

    The weak comparison applies (a `W/` prefix is ignored). A header that is not a list of entity-tags is
    ignored, as if absent (RFC 9110 13.1.2: the condition is then not evaluated).
    """
    if if_none_match is None:
        return False
    value = if_none_match.strip()
    if value == "*":
        return True
    opaque = current.removeprefix("W/")
    tags, position = [], 0
    while position < len(value):
        matched = _ENTITY_TAG.match(value, position)
        if matched is None:
            return False
        tags.append(f'"{matched.group(1)}"')
        position = matched.end()
    return opaque in tags
