"""Values the app reads from CDK context (cdk.json defaults, `cdk synth -c key=value` overrides)."""

from __future__ import annotations

import json

from constructs import Construct

DEFAULT_ALLOWED_ORIGINS = ("http://localhost:8080", "http://127.0.0.1:8080")


def allowed_origins(scope: Construct) -> list[str]:
    """Browser origins allowed by the bucket's CORS and the API.

    A list in cdk.json; on the command line a JSON list or a comma-separated string.
    """
    value = scope.node.try_get_context("allowed_origins")
    if value is None:
        return list(DEFAULT_ALLOWED_ORIGINS)
    if isinstance(value, str):
        value = json.loads(value) if value.lstrip().startswith("[") else value.split(",")
    origins = [str(origin).strip() for origin in value if str(origin).strip()]
    if not origins or any(origin == "*" or origin.endswith("/") for origin in origins):
        raise ValueError(
            f"context allowed_origins must list exact origins (no '*', no trailing '/'): {value!r}"
        )
    return origins


def nag_enabled(scope: Construct) -> bool:
    """`-c nag=true` applies cdk-nag's AwsSolutions checks to the app."""
    return str(scope.node.try_get_context("nag")).lower() == "true"
