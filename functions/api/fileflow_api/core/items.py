"""What DynamoDB's item values become in the API's answers."""

from decimal import Decimal
from typing import Any


def plain(value: Any) -> Any:
    """DynamoDB's Decimals as ints or floats, its sets as lists, recursively (JSON can hold them)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | set | tuple):
        return [plain(item) for item in value]
    return value
