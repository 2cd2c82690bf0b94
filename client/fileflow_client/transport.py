"""How every API call is made, sync and async: the bearer token, retries of what is safe to retry, typed
errors. A route is described once, as a `Call` (method, path, body, how its answer is parsed); the sync
and the async requester both run it.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from fileflow_client.errors import ApiError, ApiUnreachableError, ProtocolError, api_error
from fileflow_client.retry import (
    RETRYABLE_STATUSES,
    Retryable,
    RetryPolicy,
    acall_with_retries,
    call_with_retries,
)

type TokenSource = str | Callable[[], str]
type Json = Mapping[str, Any]

NDJSON = "application/x-ndjson"
# A call that may have taken effect before it failed is repeated only when the server surely did
# not act on it: throttled or unavailable.
NOT_PROCESSED_STATUSES = frozenset({429, 503})


@dataclass(frozen=True, slots=True)
class Call[T]:
    """One API request and how its answer becomes a `T`. `parse` gets `{}` for a 204."""

    method: str
    path: str
    parse: Callable[[Json], T]
    json_body: Any = None
    params: Mapping[str, str] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    # Safe to repeat after an answer that may mean it took effect (a 500, a lost connection).
    idempotent: bool = True


def segment(value: str) -> str:
    """One path segment, quoted: an id can never reach another route."""
    return quote(value, safe="")


def query(**params: str | int | None) -> dict[str, str] | None:
    """The query parameters that have a value."""
    kept = {name: str(value) for name, value in params.items() if value is not None}
    return kept or None


class Requester:
    """Runs `Call`s on an `httpx.Client`."""

    def __init__(
        self,
        http: httpx.Client,
        api_url: str,
        token: TokenSource,
        *,
        retry: RetryPolicy,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.http = http
        self.api_url = api_url.rstrip("/")
        self._token = token
        self._retry = retry
        self._sleep = sleep

    def run[T](self, call: Call[T]) -> T:
        def attempt() -> T:
            try:
                response = self.http.send(_build(self.http, self.api_url, self._token, call))
            except httpx.TransportError as exc:
                raise _unreachable(call, self.api_url, exc) from exc
            return _answer(call, response)

        return call_with_retries(attempt, self._retry, sleep=self._sleep)

    def lines(self, call: Call[Any]) -> Iterator[Json]:
        """A JSON-lines answer (`application/x-ndjson`), one object per line, streamed."""
        try:
            request = _build(self.http, self.api_url, self._token, call, accept=NDJSON)
            response = self.http.send(request, stream=True)
            try:
                if not response.is_success:
                    raise api_error(response.status_code, response.read())
                for line in response.iter_lines():
                    if line.strip():
                        yield _json_line(line)
            finally:
                response.close()
        except httpx.TransportError as exc:
            raise ApiUnreachableError(f"cannot reach the API ({call.method} {call.path}): {exc!r}") from exc


class AsyncRequester:
    """Runs `Call`s on an `httpx.AsyncClient`."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        api_url: str,
        token: TokenSource,
        *,
        retry: RetryPolicy,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.http = http
        self.api_url = api_url.rstrip("/")
        self._token = token
        self._retry = retry
        self._sleep = sleep

    async def run[T](self, call: Call[T]) -> T:
        async def attempt() -> T:
            try:
                response = await self.http.send(_build(self.http, self.api_url, self._token, call))
            except httpx.TransportError as exc:
                raise _unreachable(call, self.api_url, exc) from exc
            return _answer(call, response)

        return await acall_with_retries(attempt, self._retry, sleep=self._sleep)

    async def lines(self, call: Call[Any]) -> AsyncIterator[Json]:
        try:
            request = _build(self.http, self.api_url, self._token, call, accept=NDJSON)
            response = await self.http.send(request, stream=True)
            try:
                if not response.is_success:
                    raise api_error(response.status_code, await response.aread())
                async for line in response.aiter_lines():
                    if line.strip():
                        yield _json_line(line)
            finally:
                await response.aclose()
        except httpx.TransportError as exc:
            raise ApiUnreachableError(f"cannot reach the API ({call.method} {call.path}): {exc!r}") from exc


def _build(
    http: httpx.Client | httpx.AsyncClient,
    api_url: str,
    token: TokenSource,
    call: Call[Any],
    *,
    accept: str = "application/json",
) -> httpx.Request:
    """The call's request, with the bearer token (read now: a token source may refresh it)."""
    value = token() if callable(token) else token
    headers = {"Authorization": f"Bearer {value}", "Accept": accept, **call.headers}
    return http.build_request(
        call.method, api_url + call.path, json=call.json_body, params=call.params, headers=headers
    )


def _unreachable(call: Call[Any], api_url: str, exc: httpx.TransportError) -> Exception:
    unreachable = ApiUnreachableError(f"cannot reach the API ({call.method} {api_url}{call.path}): {exc!r}")
    unreachable.__cause__ = exc
    # A refused connection never reached the server: always safe to repeat.
    if call.idempotent or isinstance(exc, httpx.ConnectError):
        return Retryable(unreachable)
    return unreachable


def _answer[T](call: Call[T], response: httpx.Response) -> T:
    if response.is_success:
        return call.parse({} if response.status_code == 204 else json_object(response))
    error: ApiError = api_error(response.status_code, response.content)
    retryable = RETRYABLE_STATUSES if call.idempotent else NOT_PROCESSED_STATUSES
    if response.status_code in retryable:
        raise Retryable(error, retry_after=retry_after(response))
    raise error


def retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def json_object(response: httpx.Response) -> Json:
    try:
        data = response.json()
    except (ValueError, json.JSONDecodeError) as exc:
        raise ProtocolError(f"the API answered {response.status_code} with a body that is not JSON") from exc
    if not isinstance(data, dict):
        raise ProtocolError("the API answered JSON that is not an object")
    return data


def _json_line(line: str) -> Json:
    try:
        data = json.loads(line)
    except ValueError as exc:
        raise ProtocolError("the API answered a JSON-lines body with a line that is not JSON") from exc
    if not isinstance(data, dict):
        raise ProtocolError("the API answered a JSON line that is not an object")
    return data


def mirrors[C: type](sync_class: type) -> Callable[[C], C]:
    """Marks an async resource as the twin of a sync one: its methods take the docstrings they lack from
    the sync methods of the same name (one text to keep right, and `docs/client.md` shows both)."""

    def decorate(async_class: C) -> C:
        if not async_class.__doc__:
            async_class.__doc__ = f"`{sync_class.__name__}`, awaited: the same methods, as coroutines."
        for name, method in vars(async_class).items():
            twin = getattr(sync_class, name, None)
            if callable(method) and not name.startswith("_") and not method.__doc__ and twin is not None:
                method.__doc__ = twin.__doc__
        return async_class

    return decorate
