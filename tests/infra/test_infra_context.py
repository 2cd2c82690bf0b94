"""Context values: allowed_origins from cdk.json or the command line."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import App

from infra.context import DEFAULT_ALLOWED_ORIGINS, allowed_origins, nag_enabled
from tests.infra.synth import cdk_json_context


def _app(**context: Any) -> App:
    return App(context=context)


def test_cdk_json_defaults_match_the_code_defaults() -> None:
    # Given cdk.json's context
    # Then its allowed_origins are the defaults the code falls back to
    assert cdk_json_context()["allowed_origins"] == list(DEFAULT_ALLOWED_ORIGINS)
    assert allowed_origins(_app()) == list(DEFAULT_ALLOWED_ORIGINS)


@pytest.mark.parametrize(
    "value",
    [
        ["https://a.example", "https://b.example"],
        '["https://a.example", "https://b.example"]',
        "https://a.example, https://b.example",
    ],
)
def test_allowed_origins_from_a_list_json_or_commas(value: object) -> None:
    # Given allowed_origins as cdk.json (a list) or `-c allowed_origins=...` (a string) gives it
    # When reading it
    # Then the same two origins come out
    assert allowed_origins(_app(allowed_origins=value)) == ["https://a.example", "https://b.example"]


@pytest.mark.parametrize("value", ["*", "https://a.example/", "[]", ""])
def test_allowed_origins_rejects_wildcards_paths_and_empty(value: str) -> None:
    # Given an origin list that is empty, a wildcard or has a trailing slash
    # Then the app refuses to synthesize with it
    with pytest.raises(ValueError, match="allowed_origins"):
        allowed_origins(_app(allowed_origins=value))


@pytest.mark.parametrize(
    ("value", "enabled"), [("true", True), (True, True), ("false", False), (None, False)]
)
def test_nag_context_switch(value: object, enabled: bool) -> None:
    # Given the `nag` context value (absent, a bool, or a string from the command line)
    app = _app() if value is None else _app(nag=value)
    # Then the checks are applied only when it is true
    assert nag_enabled(app) is enabled
