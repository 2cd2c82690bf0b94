"""Entity tags and If-None-Match (RFC 9110 13.1.2)."""

from __future__ import annotations

import re

import pytest

from fileflow_api.core.conditional import entity_tag, none_match

TAG = entity_tag({"file_id": "f1", "status": "processed"})


def test_a_tag_is_a_strong_quoted_hash_of_the_canonical_body() -> None:
    assert re.fullmatch(r'"[0-9a-f]{32}"', TAG)
    # Key order does not matter; any value does
    assert entity_tag({"status": "processed", "file_id": "f1"}) == TAG
    assert entity_tag({"file_id": "f1", "status": "failed"}) != TAG
    assert entity_tag({"file_id": "f1", "status": "processed", "stages": []}) != TAG


@pytest.mark.parametrize(
    ("header", "matches"),
    [
        (None, False),
        (TAG, True),
        (f"W/{TAG}", True),  # If-None-Match compares weakly
        ("*", True),
        (f'"0123", {TAG}', True),
        (f' "0123" ,W/{TAG} ', True),
        (f"{TAG},", True),
        ('"0123"', False),
        (TAG.strip('"'), False),  # not an entity-tag: the header is ignored
        (f'"0123" {TAG}', False),  # no comma: not a list of entity-tags
        ("", False),
    ],
)
def test_if_none_match_names_the_current_tag(header: str | None, matches: bool) -> None:
    assert none_match(header, TAG) is matches
