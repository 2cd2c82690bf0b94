"""Complete ApiDependencies for tests of a few routes: what a test does not give is a stand-in.

A stand-in service fails whatever request reaches it, so a test that exercises a service gives it. The
default access control trusts a key nobody holds (every token is refused: fail closed) and never rate
limits; the default web page holds no file (every /app route is 404).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from fileflow_api.auth.access import AccessControl, UploadTokens
from fileflow_api.auth.ratelimit import RateLimit, RateLimiter
from fileflow_api.dependencies import ApiDependencies
from fileflow_api.page.assets import WebPage
from fileflow_common.tokens import (
    API_AUDIENCE,
    HS256,
    UPLOAD_AUDIENCE,
    StaticKey,
    TokenMinter,
    TokenVerifier,
    TrustedIssuer,
)

_ISSUER = "fileflow-tests-nobody"


@dataclass(frozen=True)
class Unused:
    """Stands in for a service the test does not exercise: any use of it fails the test."""

    name: str

    def __getattr__(self, attribute: str) -> Any:
        raise AssertionError(f"{self.name}.{attribute} used, but the test gave no {self.name}")


class UnlimitedWindow:
    def increment(self, user_id: str, *, window_start: int, limit: int, expires_at: int) -> bool:
        return True


def refusing_access() -> AccessControl:
    """Access control whose verifiers trust only a random key: no token a test mints passes."""
    key = StaticKey(secrets.token_hex(32))

    def verifier(audience: str) -> TokenVerifier:
        return TokenVerifier([TrustedIssuer(_ISSUER, audience, (HS256,), key)])

    return AccessControl(
        access_tokens=verifier(API_AUDIENCE),
        upload_tokens=UploadTokens(
            minter=TokenMinter(issuer=_ISSUER, signing_key=key),
            verifier=verifier(UPLOAD_AUDIENCE),
            ttl=timedelta(hours=1),
        ),
        rate_limiter=RateLimiter(UnlimitedWindow(), RateLimit(requests=1, window_seconds=60)),
        quotas=Unused("quotas"),
    )


def no_web_page() -> WebPage:
    return WebPage(assets={}, headers={})


def api_dependencies(**given: Any) -> ApiDependencies:
    """Every dependency of the API: those `given`, stand-ins for the rest."""
    defaults: dict[str, Any] = {
        "probes": (),
        "access": refusing_access(),
        "uploads": Unused("uploads"),
        "files": Unused("files"),
        "events": Unused("events"),
        "hls": Unused("hls"),
        "audit": Unused("audit"),
        "webhooks": Unused("webhooks"),
        "reviews": Unused("reviews"),
        "usage": Unused("usage"),
        "cursors": Unused("cursors"),
        "web_page": no_web_page,
    }
    return ApiDependencies(**(defaults | given))
