"""Pagination cursors: opaque to clients, tamper-proof, bound to one user and one query. No AWS code.

A cursor is ``base64url(JSON position) "." base64url(HMAC-SHA256)``. The MAC covers the position, the
user it was issued to, the listing it belongs to (`scope`) and a fingerprint of the query's filters
and sort, so a cursor that was edited, forged, replayed by another user or reused with other filters
is refused (400 InvalidCursor) instead of being honoured. The key is derived from the stack's token
signing secret (rotating that secret invalidates outstanding cursors: clients start from page one).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from fileflow_common.clock import utc_now
from fileflow_common.errors import FileflowError

CURSOR_VERSION = "v1"
# Keeps the cursor key apart from every other use of the signing secret (a JWT key, here a MAC key).
_KEY_CONTEXT = b"fileflow/pagination-cursor/v1"
# A cursor is a position in a listing a client is paging through, not a bookmark.
DEFAULT_CURSOR_TTL = timedelta(hours=24)
MAX_CURSOR_LENGTH = 2048

type Position = dict[str, str]


class InvalidCursorError(FileflowError):
    """Not a cursor this API issued for this user and this query (or an expired one)."""

    code = "InvalidCursor"


def derive_cursor_key(signing_secret: str) -> bytes:
    """A key of its own for cursors, derived from the signing secret (HMAC as the KDF, RFC 5869 style)."""
    return hmac.new(signing_secret.encode(), _KEY_CONTEXT, hashlib.sha256).digest()


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def query_fingerprint(query: Mapping[str, object]) -> str:
    """The same filters and sort give the same fingerprint, whatever the order of the parameters."""
    canonical = json.dumps(query, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


class CursorCodec:
    def __init__(
        self,
        key: Callable[[], bytes],
        *,
        ttl: timedelta = DEFAULT_CURSOR_TTL,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._key = key
        self._ttl = ttl
        self._clock = clock

    def encode(
        self, position: Mapping[str, str], *, user_id: str, scope: str, query: Mapping[str, object]
    ) -> str:
        expires = int((self._clock() + self._ttl).timestamp())
        payload = _b64encode(json.dumps({"p": dict(position), "e": expires}, separators=(",", ":")).encode())
        return f"{payload}.{_b64encode(self._mac(payload, user_id=user_id, scope=scope, query=query))}"

    def decode(self, cursor: str, *, user_id: str, scope: str, query: Mapping[str, object]) -> Position:
        payload, dot, signature = cursor.partition(".")
        if not dot or not payload or len(cursor) > MAX_CURSOR_LENGTH:
            raise InvalidCursorError("cursor is not one this API issued")
        try:
            given = _b64decode(signature)
        except (binascii.Error, ValueError) as exc:
            raise InvalidCursorError("cursor is not one this API issued") from exc
        expected = self._mac(payload, user_id=user_id, scope=scope, query=query)
        if not hmac.compare_digest(given, expected):
            raise InvalidCursorError(
                "cursor does not match: it was altered, or issued to another user or for other filters"
            )
        try:
            decoded = json.loads(_b64decode(payload))
            position, expires = decoded["p"], int(decoded["e"])
        except (binascii.Error, ValueError, TypeError, KeyError) as exc:  # signed by us, so never in practice
            raise InvalidCursorError("cursor is not one this API issued") from exc
        if not isinstance(position, dict) or not all(
            isinstance(name, str) and isinstance(value, str) for name, value in position.items()
        ):
            raise InvalidCursorError("cursor is not one this API issued")
        if expires < self._clock().timestamp():
            raise InvalidCursorError("cursor expired: list again from the first page")
        return position

    def position(
        self, cursor: str | None, *, user_id: str, scope: str, query: Mapping[str, object]
    ) -> Position | None:
        """Where the page a cursor names starts; None (the first page) without a cursor."""
        return None if cursor is None else self.decode(cursor, user_id=user_id, scope=scope, query=query)

    def next_cursor(
        self, position: Mapping[str, str] | None, *, user_id: str, scope: str, query: Mapping[str, object]
    ) -> str | None:
        """The cursor of the page after `position`; None after the last page."""
        return None if position is None else self.encode(position, user_id=user_id, scope=scope, query=query)

    def _mac(self, payload: str, *, user_id: str, scope: str, query: Mapping[str, object]) -> bytes:
        message = "\n".join((CURSOR_VERSION, user_id, scope, query_fingerprint(query), payload))
        return hmac.new(self._key(), message.encode(), hashlib.sha256).digest()
