"""The SSRF guard: where a webhook may be delivered.

Only `https` URLs whose host resolves to public addresses only. Private, loopback, link-local (the cloud
metadata service at 169.254.169.254 and fd00:ec2::254 among them), shared, multicast, reserved and
unspecified addresses are refused, at registration and again at delivery, because DNS can change (the
sender connects to the addresses this module approved, never resolves twice: see the sender's
transport).

For local development only, `allow_local_http` admits `http://` and `https://` to `127.0.0.1`, `::1`
and `localhost` (nothing else private). It is off by default, and the stack refuses it on AWS.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

MAX_URL_LENGTH = 2048
LOCAL_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
METADATA_ADDRESSES = frozenset(
    {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
)

type IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
type Resolver = Callable[[str, int], Sequence[IPAddress]]


class UnsafeTargetError(ValueError):
    """The URL may not receive webhooks; the message says why, for the API's 422."""


@dataclass(frozen=True, slots=True)
class TargetPolicy:
    allow_local_http: bool = False


@dataclass(frozen=True, slots=True)
class Target:
    url: str
    scheme: str
    host: str
    port: int

    @property
    def local(self) -> bool:
        return self.host in LOCAL_HOSTS


def parse_target(url: str, policy: TargetPolicy) -> Target:
    """The URL's syntax and scheme (no DNS)."""
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeTargetError(f"webhook url is longer than {MAX_URL_LENGTH} characters")
    if any(ord(char) < 0x21 or ord(char) == 0x7F for char in url):
        raise UnsafeTargetError("webhook url must not contain spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeTargetError(f"webhook url is not a valid URL: {exc}") from None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if not host:
        raise UnsafeTargetError("webhook url must name a host")
    if parts.username is not None or parts.password is not None:
        raise UnsafeTargetError("webhook url must not carry credentials (user:password@)")
    if parts.fragment:
        raise UnsafeTargetError("webhook url must not have a #fragment")
    local = host in LOCAL_HOSTS
    if scheme != "https" and not (scheme == "http" and local and policy.allow_local_http):
        if scheme == "http" and local:
            raise UnsafeTargetError(
                "webhook url must use https: http://127.0.0.1 and localhost are allowed only with the "
                "local-development setting (webhooks_allow_local_http), which is off"
            )
        raise UnsafeTargetError("webhook url must use https")
    return Target(url=url, scheme=scheme, host=host, port=port or (443 if scheme == "https" else 80))


def refusal(address: IPAddress) -> str | None:
    """Why `address` may not be a webhook target, or None when it is public."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return refusal(address.ipv4_mapped)
    if address in METADATA_ADDRESSES:
        return "the cloud metadata service"
    for kind, flag in (
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("private", address.is_private),
        ("multicast", address.is_multicast),
        ("unspecified", address.is_unspecified),
        ("reserved", address.is_reserved),
    ):
        if flag:
            return f"a {kind} address"
    if not address.is_global:
        return "not a public address"
    return None


def system_resolver(host: str, port: int) -> list[IPAddress]:
    infos: list[Any] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen: dict[str, IPAddress] = {}
    for info in infos:
        text = str(info[4][0]).split("%", 1)[0]  # drop an IPv6 zone id
        seen.setdefault(text, ipaddress.ip_address(text))
    return list(seen.values())


def approved_addresses(
    target: Target, policy: TargetPolicy, resolver: Resolver = system_resolver
) -> list[IPAddress]:
    """The addresses `target` may be reached at; raises when any address it resolves to is refused."""
    try:
        literal: IPAddress | None = ipaddress.ip_address(target.host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses: Sequence[IPAddress] = [literal]
    else:
        try:
            addresses = resolver(target.host, target.port)
        except (OSError, UnicodeError) as exc:
            raise UnsafeTargetError(f"webhook url host {target.host} does not resolve: {exc}") from None
        if not addresses:
            raise UnsafeTargetError(f"webhook url host {target.host} does not resolve")
    for address in addresses:
        reason = refusal(address)
        if reason is None:
            continue
        if policy.allow_local_http and target.local and address.is_loopback:
            continue
        shown = target.host if literal is not None else f"{target.host} resolves to {address}, which"
        raise UnsafeTargetError(f"webhook url host {shown} is {reason}: webhooks go to public addresses only")
    return list(addresses)


def check_target(url: str, policy: TargetPolicy, resolver: Resolver = system_resolver) -> Target:
    """Parse and resolve: the check the API runs at registration and at initiate (`callback_url`)."""
    target = parse_target(url, policy)
    approved_addresses(target, policy, resolver)
    return target
