"""Pagination cursors: opaque, tamper-proof, bound to the user, the listing and its filters, expiring."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from fileflow_api.core.cursors import CursorCodec, InvalidCursorError, derive_cursor_key

NOW = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
POSITION = {
    "pk": "USER#alice",
    "sk": "FILE#f1",
    "gsi1pk": "FILES#alice",
    "gsi1sk": "2026-05-04T10:00:00.000Z#f1",
}
QUERY = {"status": None, "sort": "created", "order": "desc"}


def codec(*, key: str = "k" * 40, now: datetime = NOW) -> CursorCodec:
    return CursorCodec(lambda: derive_cursor_key(key), clock=lambda: now)


def issued() -> str:
    return codec().encode(POSITION, user_id="alice", scope="files.list", query=QUERY)


def test_a_cursor_round_trips_for_its_user_listing_and_query() -> None:
    # Given a cursor issued to alice for one listing / When she sends it back / Then the position returns
    assert (
        codec().decode(issued(), user_id="alice", scope="files.list", query=dict(reversed(QUERY.items())))
        == POSITION
    )


@pytest.mark.parametrize(
    ("user_id", "scope", "query"),
    [
        pytest.param("bob", "files.list", QUERY, id="another user"),
        pytest.param("alice", "files.search", QUERY, id="another listing"),
        pytest.param("alice", "files.list", {**QUERY, "order": "asc"}, id="other filters"),
    ],
)
def test_a_cursor_opens_nothing_else(user_id: str, scope: str, query: dict[str, str | None]) -> None:
    with pytest.raises(InvalidCursorError):
        codec().decode(issued(), user_id=user_id, scope=scope, query=query)


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda c: "garbage", id="not a cursor"),
        pytest.param(lambda c: c.split(".")[0], id="no signature"),
        pytest.param(lambda c: c[:-3] + ("AAA" if not c.endswith("AAA") else "BBB"), id="signature changed"),
        pytest.param(lambda c: c[:5] + ("A" if c[5] != "A" else "B") + c[6:], id="position changed"),
        pytest.param(lambda c: c + "." + c, id="two cursors"),
        pytest.param(lambda c: "x" * 3000, id="too long"),
        pytest.param(lambda c: c.replace(".", ".!"), id="signature not base64"),
    ],
)
def test_an_altered_cursor_is_refused(mangle: object) -> None:
    assert callable(mangle)
    with pytest.raises(InvalidCursorError):
        codec().decode(mangle(issued()), user_id="alice", scope="files.list", query=QUERY)


def test_a_cursor_signed_with_another_key_is_refused() -> None:
    # Given the signing secret rotated / Then outstanding cursors stop working
    with pytest.raises(InvalidCursorError):
        codec(key="z" * 40).decode(issued(), user_id="alice", scope="files.list", query=QUERY)


def test_a_cursor_expires() -> None:
    later = codec(now=NOW + timedelta(hours=24, seconds=1))
    with pytest.raises(InvalidCursorError, match="expired"):
        later.decode(issued(), user_id="alice", scope="files.list", query=QUERY)


def test_the_cursor_key_is_not_the_signing_secret() -> None:
    assert derive_cursor_key("k" * 40) != ("k" * 40).encode()
    assert len(derive_cursor_key("k" * 40)) == 32
