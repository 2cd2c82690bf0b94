"""How a deployment's tokens are configured, and the adapters that fetch their keys.

Read by every function that checks tokens (the authorizer, the API): the HS256 signing key lives in
Secrets Manager (its ARN in TOKEN_SECRET_ARN, its value never in code or in the environment); an
external identity provider is trusted when JWKS_URL, JWKS_ISSUER and JWKS_AUDIENCE are all set.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Self

from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from jwt import PyJWKClient
from jwt.algorithms import has_crypto
from pydantic import Field, HttpUrl, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from fileflow_common.settings_types import SecretArn
from fileflow_common.tokens import (
    API_AUDIENCE,
    ASYMMETRIC_ALGORITHMS,
    DEFAULT_ISSUER,
    HS256,
    MIN_HMAC_KEY_BYTES,
    UPLOAD_AUDIENCE,
    TokenKeysUnavailableError,
    TokenMinter,
    TokenVerifier,
    TrustedIssuer,
    VerificationKey,
)

Seconds = Annotated[int, Field(ge=0)]


class TokenSettings(BaseSettings):
    """The token fields of a function's settings model (the function's model subclasses this one)."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    token_secret_arn: SecretArn
    token_issuer: Annotated[str, Field(min_length=1)] = DEFAULT_ISSUER
    token_leeway_seconds: Annotated[int, Field(ge=0, le=300)] = 30
    # How long a fetched signing key is reused before Secrets Manager is asked again.
    token_secret_max_age_seconds: Annotated[int, Field(ge=1, le=3600)] = 300
    jwks_url: HttpUrl | None = None
    jwks_issuer: str | None = None
    jwks_audience: str | None = None

    @model_validator(mode="after")
    def _jwks_is_all_or_nothing(self) -> Self:
        given = [self.jwks_url is not None, bool(self.jwks_issuer), bool(self.jwks_audience)]
        if any(given) and not all(given):
            raise ValueError("JWKS_URL, JWKS_ISSUER and JWKS_AUDIENCE go together: set all three or none")
        if self.jwks_issuer == self.token_issuer:
            raise ValueError("JWKS_ISSUER must differ from TOKEN_ISSUER (Fileflow's own tokens)")
        if self.jwks_url is not None and not has_crypto:
            # The stack gives the crypto layer with the JWKS: without it no RS256/ES256 token could verify.
            raise ValueError("JWKS_URL needs the cryptography package (the crypto layer), not installed")
        return self

    @property
    def leeway(self) -> timedelta:
        return timedelta(seconds=self.token_leeway_seconds)


class SecretsManagerKey:
    """The HS256 signing key: a secret's string, fetched through Powertools parameters (cached)."""

    def __init__(self, secret_id: str, *, max_age_seconds: int) -> None:
        self._secret_id = secret_id
        self._max_age = max_age_seconds

    def __call__(self) -> str:
        try:
            value = parameters.get_secret(self._secret_id, max_age=self._max_age)
        except GetParameterError as exc:
            # Secrets Manager unreachable, the secret gone or not readable: no token can be checked, and
            # that is not the caller's fault (503, never 500 nor 401).
            raise TokenKeysUnavailableError(f"the signing secret cannot be read: {exc}") from exc
        if not isinstance(value, str) or len(value.encode()) < MIN_HMAC_KEY_BYTES:
            raise TokenKeysUnavailableError(
                f"the signing secret must hold a string of at least {MIN_HMAC_KEY_BYTES} bytes"
            )
        return value

    def verification_key(self, token: str) -> VerificationKey:
        return self()


class JwksKeys:
    """An identity provider's public keys, fetched from its JWKS URL (cached, picked by `kid`)."""

    def __init__(self, url: str, *, lifespan_seconds: int = 300, timeout_seconds: float = 5) -> None:
        self._client = PyJWKClient(url, cache_keys=True, lifespan=lifespan_seconds, timeout=timeout_seconds)

    def verification_key(self, token: str) -> VerificationKey:
        return self._client.get_signing_key_from_jwt(token)


def signing_key(settings: TokenSettings) -> SecretsManagerKey:
    return SecretsManagerKey(settings.token_secret_arn, max_age_seconds=settings.token_secret_max_age_seconds)


def access_token_verifier(settings: TokenSettings) -> TokenVerifier:
    """Bearer tokens for the API: Fileflow's own (HS256), and the identity provider's if configured."""
    issuers = [TrustedIssuer(settings.token_issuer, API_AUDIENCE, (HS256,), signing_key(settings))]
    if settings.jwks_url is not None and settings.jwks_issuer and settings.jwks_audience:
        issuers.append(
            TrustedIssuer(
                settings.jwks_issuer,
                settings.jwks_audience,
                ASYMMETRIC_ALGORITHMS,
                JwksKeys(str(settings.jwks_url)),
            )
        )
    return TokenVerifier(issuers, leeway=settings.leeway)


def upload_token_verifier(settings: TokenSettings) -> TokenVerifier:
    """Upload tokens (the /uppy/{token} path): only Fileflow's own, only for the upload audience."""
    issuer = TrustedIssuer(settings.token_issuer, UPLOAD_AUDIENCE, (HS256,), signing_key(settings))
    return TokenVerifier([issuer], leeway=settings.leeway)


def token_minter(settings: TokenSettings) -> TokenMinter:
    return TokenMinter(issuer=settings.token_issuer, signing_key=signing_key(settings))
