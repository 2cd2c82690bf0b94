"""The HTTP client of deliveries: it connects only to addresses the SSRF guard approved.

httpx sends the request; underneath, httpcore asks its network backend to connect to the URL's host. Our
backend resolves that host once, checks every address with the guard (fileflow_common.webhooks.targets),
and connects to an approved address by IP: nothing resolves the name a second time, so a DNS answer that
changes between the check and the connection (DNS rebinding) cannot reach a private address. TLS still
verifies the certificate against the host name (httpcore passes it as server_hostname). No proxy from
the environment, no redirects, no kept-alive connection (each attempt checks again), and one deadline
for the whole attempt: connect, TLS, request and response headers together within 15 s.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

import certifi
import httpcore
import httpx

from fileflow_common.webhooks.targets import (
    Resolver,
    Target,
    TargetPolicy,
    UnsafeTargetError,
    approved_addresses,
    system_resolver,
)

DELIVERY_TIMEOUT_SECONDS = 15.0
MAX_ERROR_CHARS = 500


@cache
def default_ssl_context() -> ssl.SSLContext:
    """certifi's CA bundle (what httpx would use), loaded once per execution environment."""
    return ssl.create_default_context(cafile=certifi.where())


class DeadlineStream(httpcore.NetworkStream):
    """A connection whose every read and write ends by the attempt's deadline."""

    def __init__(self, inner: httpcore.NetworkStream, deadline: float) -> None:
        self._inner = inner
        self._deadline = deadline

    def _remaining(self, timeout: float | None, error: type[Exception]) -> float:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise error("the delivery's time is up")
        return remaining if timeout is None else min(timeout, remaining)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._remaining(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._remaining(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        upgraded = self._inner.start_tls(
            ssl_context, server_hostname, self._remaining(timeout, httpcore.ConnectTimeout)
        )
        return DeadlineStream(upgraded, self._deadline)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class GuardedBackend(httpcore.NetworkBackend):
    """Resolves and checks the host in `connect_tcp`, then connects to an approved address by IP."""

    def __init__(
        self,
        policy: TargetPolicy,
        *,
        resolver: Resolver = system_resolver,
        deadline: float,
        inner: httpcore.NetworkBackend | None = None,
    ) -> None:
        self._policy = policy
        self._resolver = resolver
        self._deadline = deadline
        self._inner = inner or httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        # The scheme was checked with the whole URL (parse_target) before the request was made.
        target = Target(url=f"//{host}:{port}", scheme="", host=host.lower(), port=port)
        addresses = approved_addresses(target, self._policy, self._resolver)
        last_error: Exception | None = None
        for address in addresses:
            remaining = self._deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                stream = self._inner.connect_tcp(
                    str(address),
                    port,
                    timeout=remaining if timeout is None else min(timeout, remaining),
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last_error = exc
                continue
            return DeadlineStream(stream, self._deadline)
        if last_error is not None:
            raise last_error
        raise httpcore.ConnectTimeout("the delivery's time is up")

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        raise UnsafeTargetError("webhooks are never delivered to a unix socket")


class GuardedTransport(httpx.HTTPTransport):
    """httpx's transport over a connection pool that uses the guarded backend (and keeps no connection)."""

    def __init__(
        self,
        policy: TargetPolicy,
        *,
        deadline: float,
        resolver: Resolver = system_resolver,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        context = ssl_context or default_ssl_context()
        super().__init__(verify=context, trust_env=False)
        # httpx (pinned 0.28.1) takes no network backend; its pool is replaced by one that has ours.
        self._pool = httpcore.ConnectionPool(
            ssl_context=context,
            max_keepalive_connections=0,
            network_backend=GuardedBackend(policy, resolver=resolver, deadline=deadline),
        )


@dataclass(frozen=True)
class Sent:
    """What came back from one request: a status (and its Retry-After), or why there was none."""

    status_code: int | None
    duration_ms: int
    retry_after: str | None = None
    error: str | None = None


class HttpPoster:
    """POSTs one signed delivery through a fresh guarded transport."""

    def __init__(
        self,
        policy: TargetPolicy,
        *,
        resolver: Resolver = system_resolver,
        timeout_seconds: float = DELIVERY_TIMEOUT_SECONDS,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._policy = policy
        self._resolver = resolver
        self._timeout = timeout_seconds
        self._ssl_context = ssl_context

    def post(self, url: str, headers: dict[str, str], body: bytes) -> Sent:
        started = time.monotonic()
        transport = GuardedTransport(
            self._policy,
            deadline=started + self._timeout,
            resolver=self._resolver,
            ssl_context=self._ssl_context,
        )

        def elapsed() -> int:
            return int((time.monotonic() - started) * 1000)

        with httpx.Client(
            transport=transport, follow_redirects=False, timeout=self._timeout, trust_env=False
        ) as client:
            try:
                with client.stream("POST", url, content=body, headers=headers) as response:
                    return Sent(
                        response.status_code, elapsed(), retry_after=response.headers.get("retry-after")
                    )
            except UnsafeTargetError as exc:
                return Sent(None, elapsed(), error=str(exc)[:MAX_ERROR_CHARS])
            except httpx.TimeoutException:
                return Sent(None, elapsed(), error=f"no response within {self._timeout:g} s")
            except httpx.HTTPError as exc:
                return Sent(None, elapsed(), error=f"{type(exc).__name__}: {exc}"[:MAX_ERROR_CHARS])
