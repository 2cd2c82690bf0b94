"""The one set of Powertools instances every function uses.

Service name, metrics namespace, log level and tracing switches come from the standard
POWERTOOLS_* environment variables, read by Powertools itself.

With tracing off (POWERTOOLS_TRACE_DISABLED on the local cloud, or outside Lambda: Powertools' own rule),
the Tracer gets a provider that records nothing, so the X-Ray SDK's recorder is never imported (most of a
cold start's import time otherwise). With tracing on (AWS, where the stack turns on active tracing) it is
Powertools' default X-Ray provider, as before. The `@tracer.capture_*` decorators work with either.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.tracing.base import BaseProvider, BaseSegment

if TYPE_CHECKING:
    import numbers
    import traceback


class UntracedSegment(BaseSegment):
    """A (sub)segment of a trace that is not recorded."""

    def close(self, end_time: int | None = None) -> None:
        return None

    def add_subsegment(self, subsegment: Any) -> None:
        return None

    def remove_subsegment(self, subsegment: Any) -> None:
        return None

    def put_annotation(self, key: str, value: str | numbers.Number | bool) -> None:
        return None

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        return None

    def add_exception(
        self, exception: BaseException, stack: list[traceback.StackSummary], remote: bool = False
    ) -> None:
        return None


class UntracedProvider(BaseProvider):
    """The Tracer's provider when tracing is off: the decorators' subsegments go nowhere."""

    @contextmanager
    def in_subsegment(self, name: str | None = None, **kwargs: Any) -> Iterator[BaseSegment]:
        yield UntracedSegment()

    @asynccontextmanager
    async def in_subsegment_async(self, name: str | None = None, **kwargs: Any) -> AsyncIterator[BaseSegment]:
        yield UntracedSegment()

    def put_annotation(self, key: str, value: str | numbers.Number | bool) -> None:
        return None

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        return None

    def patch(self, modules: Sequence[str]) -> None:
        return None

    def patch_all(self) -> None:
        return None


def build_tracer() -> Tracer:
    """Powertools' Tracer; with tracing off, on a provider that needs no X-Ray SDK."""
    if Tracer._is_tracer_disabled():  # Powertools' own rule (env var, SAM, not on Lambda)
        return Tracer(disabled=True, provider=UntracedProvider())
    return Tracer()


logger = Logger()
metrics = Metrics()
tracer = build_tracer()

__all__ = ["logger", "metrics", "tracer"]
