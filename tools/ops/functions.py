"""The stack's Lambda functions by their short names (`api`, `starter`, `stage-detect`, `webhooks`, ...)."""

from __future__ import annotations

from typing import Any

from tools.stack import stack_name


class UnknownFunctionError(LookupError):
    pass


def function_names(lambda_client: Any) -> dict[str, str]:
    """short name -> deployed name, for every function named `<stack>-<short name>`."""
    prefix = f"{stack_name()}-"
    found: dict[str, str] = {}
    for page in lambda_client.get_paginator("list_functions").paginate():
        for function in page["Functions"]:
            name = function["FunctionName"]
            if name.startswith(prefix):
                found[name.removeprefix(prefix)] = name
    return found


def resolve(lambda_client: Any, short: str) -> str:
    """`detect` and `stage-detect` both name the detect stage's function."""
    names = function_names(lambda_client)
    for candidate in (short, f"stage-{short}", short.removeprefix(f"{stack_name()}-")):
        if candidate in names:
            return names[candidate]
    known = ", ".join(sorted(names)) or "none (is the stack deployed?)"
    raise UnknownFunctionError(f"no function {short!r} in stack {stack_name()}; known: {known}")


def log_group(function_name: str) -> str:
    return f"/aws/lambda/{function_name}"
