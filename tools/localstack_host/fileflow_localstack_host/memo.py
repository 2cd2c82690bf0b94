"""A pure function of LocalStack's (or a library's) behind a bounded cache, wrapped once."""

from __future__ import annotations

from functools import lru_cache
from typing import Any


def memoized(function: Any, *, maxsize: int) -> Any:
    """`function` with an LRU cache; the wrapper is marked, so wrapping it again returns it as it is."""
    if getattr(function, "fileflow_cached", False):
        return function
    cached = lru_cache(maxsize=maxsize)(function)
    cached.fileflow_cached = True  # type: ignore[attr-defined]
    return cached
