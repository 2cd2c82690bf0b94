"""Reading the API's JSON answers into typed values; anything unexpected is a `ProtocolError`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fileflow_client.errors import ProtocolError

type Json = Mapping[str, Any]


def field(data: Json, name: str) -> Any:
    if name not in data:
        raise ProtocolError(f"the API's answer lacks {name!r}")
    return data[name]


def string(data: Json, name: str) -> str:
    value = field(data, name)
    if not isinstance(value, str):
        raise ProtocolError(f"{name!r} is not a string in the API's answer")
    return value


def opt_string(data: Json, name: str) -> str | None:
    value = data.get(name)
    if value is not None and not isinstance(value, str):
        raise ProtocolError(f"{name!r} is not a string in the API's answer")
    return value or None


def integer(data: Json, name: str) -> int:
    value = field(data, name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ProtocolError(f"{name!r} is not an integer in the API's answer")
    return value


def opt_integer(data: Json, name: str) -> int | None:
    return integer(data, name) if data.get(name) is not None else None


def opt_number(data: Json, name: str) -> float | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise ProtocolError(f"{name!r} is not a number in the API's answer")
    return float(value)


def boolean(data: Json, name: str, default: bool = False) -> bool:
    value = data.get(name, default)
    if not isinstance(value, bool):
        raise ProtocolError(f"{name!r} is not a boolean in the API's answer")
    return value


def objects(data: Json, name: str) -> list[Json]:
    value = field(data, name)
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise ProtocolError(f"{name!r} is not a list of objects in the API's answer")
    return value


def opt_objects(data: Json, name: str) -> list[Json]:
    return objects(data, name) if data.get(name) is not None else []


def strings(data: Json, name: str) -> tuple[str, ...]:
    value = data.get(name) or []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ProtocolError(f"{name!r} is not a list of strings in the API's answer")
    return tuple(value)


def obj(data: Json, name: str) -> Json:
    value = field(data, name)
    if not isinstance(value, dict):
        raise ProtocolError(f"{name!r} is not an object in the API's answer")
    return value


def opt_obj(data: Json, name: str) -> Json | None:
    return obj(data, name) if data.get(name) is not None else None
