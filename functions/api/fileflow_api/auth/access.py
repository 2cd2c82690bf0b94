"""Who may call, and how much: token verification, upload tokens, rate limits and quotas."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from fileflow_api.auth.ratelimit import RateLimiter
from fileflow_api.usage.quotas import QuotaPolicy
from fileflow_common.clock import utc_now
from fileflow_common.tokens import UPLOAD_AUDIENCE, MintedToken, TokenClaims, TokenMinter, TokenVerifier


class UploadTokens:
    """Short-lived tokens scoped to uploads, for clients that cannot send an Authorization header.

    Uppy's Companion-style client calls fixed paths with no custom headers, so its token travels in
    the URL (`/uppy/{token}/...`); its audience lets it open nothing but the upload routes.
    """

    def __init__(
        self,
        *,
        minter: TokenMinter,
        verifier: TokenVerifier,
        ttl: timedelta,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._minter = minter
        self._verifier = verifier
        self._ttl = ttl
        self._clock = clock

    def issue(self, user_id: str) -> MintedToken:
        return self._minter.mint(user_id, audience=UPLOAD_AUDIENCE, ttl=self._ttl, issued_at=self._clock())

    def verify(self, token: str) -> TokenClaims:
        return self._verifier.verify(token)


@dataclass(frozen=True, slots=True)
class AccessControl:
    # Bearer tokens, checked in the function when no API Gateway authorizer checked them first.
    access_tokens: TokenVerifier
    upload_tokens: UploadTokens
    rate_limiter: RateLimiter
    quotas: QuotaPolicy
