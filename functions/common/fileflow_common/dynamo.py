"""Small DynamoDB helpers every table adapter shares (no boto3 client here: just shapes)."""

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError


def failed_conditions(exc: ClientError, items: int) -> tuple[bool, ...]:
    """Which of a cancelled transaction's `items` items its ConditionExpression refused, in order."""
    codes = [reason.get("Code") for reason in exc.response.get("CancellationReasons") or []]
    return tuple(code == "ConditionalCheckFailed" for code in [*codes, *[None] * items][:items])


def to_dynamo(value: Any) -> Any:
    """A JSON-like value DynamoDB accepts: floats become Decimals, tuples lists."""
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {str(key): to_dynamo(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_dynamo(item) for item in value]
    return value


def from_dynamo(value: Any) -> Any:
    """Back from DynamoDB, recursively: Decimals become ints or floats, sets lists (JSON can hold them)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {str(key): from_dynamo(item) for key, item in value.items()}
    if isinstance(value, list | set | tuple):
        return [from_dynamo(item) for item in value]
    return value


def update_expression(
    assignments: Mapping[str, Any],
    *,
    keep_existing: frozenset[str] = frozenset(),
    remove: tuple[str, ...] = (),
) -> tuple[str, dict[str, str], dict[str, Any]]:
    """`SET` every assignment (`if_not_exists` for the names in `keep_existing`), `REMOVE` the rest.

    Every name goes through a placeholder: `key`, `size` and `status` are DynamoDB reserved words.
    """
    names = {f"#{name}": name for name in (*assignments, *remove)}
    values = {f":{name}": to_dynamo(value) for name, value in assignments.items()}
    sets = [
        f"#{name} = if_not_exists(#{name}, :{name})" if name in keep_existing else f"#{name} = :{name}"
        for name in assignments
    ]
    expression = "SET " + ", ".join(sets)
    if remove:
        expression += " REMOVE " + ", ".join(f"#{name}" for name in remove)
    return expression, names, values
