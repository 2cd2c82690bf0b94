"""JSON Web Tokens: verifying every caller's bearer token, and minting Fileflow's own tokens.

Fileflow signs its own tokens with HS256 and the stack's signing key (a Secrets Manager secret);
tokens of an external identity provider (RS256/ES256 through its JWKS) are accepted when one is
configured. Keys come through the small `VerificationKeys` interface (adapters in
`fileflow_common.token_keys`), so this module holds no AWS code.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Protocol

import jwt
from jwt import PyJWK
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, ValidationError

from fileflow_common.clock import utc_now
from fileflow_common.errors import FileflowError, InvalidIdentifierError
from fileflow_common.keys import validate_id

DEFAULT_ISSUER = "fileflow"
# Audience of bearer tokens for the API (`Authorization: Bearer ...`).
API_AUDIENCE = "fileflow-api"
# Audience of the short-lived tokens scoped to uploads, carried in the /uppy/{token} path.
UPLOAD_AUDIENCE = "fileflow-uppy"

HS256 = "HS256"
# What an identity provider may sign with; never HMAC (its "key" would be a public JWKS entry).
ASYMMETRIC_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
# Clock skew tolerated between the minting and the verifying machine.
DEFAULT_LEEWAY = timedelta(seconds=30)
REQUIRED_CLAIMS = ("sub", "iss", "aud", "exp", "iat")
# RFC 7518 3.2: an HS256 key must be at least as long as the hash output (32 bytes).
MIN_HMAC_KEY_BYTES = 32

type VerificationKey = str | bytes | PyJWK


class InvalidTokenError(FileflowError):
    """The token is malformed, forged, expired, not yet valid, or meant for someone else."""

    code = "InvalidToken"


class TokenKeysUnavailableError(FileflowError):
    """The keys to check a token could not be had (the JWKS endpoint or the secret is unreachable).

    Not the caller's fault: never answered as 401.
    """

    code = "TokenKeysUnavailable"


# A role a token may carry (`roles: ["reviewer"]`): a short lower-case name.
ROLE_PATTERN = re.compile(r"[a-z][a-z0-9_-]{0,31}")
MAX_ROLES = 16


def parse_roles(value: Any) -> tuple[str, ...]:
    """The `roles` claim: a list of names (or one string of names separated by spaces or commas, as some
    identity providers send them); anything else is refused."""
    if value is None:
        return ()
    names = re.split(r"[\s,]+", value.strip()) if isinstance(value, str) else value
    if not isinstance(names, list | tuple) or len(names) > MAX_ROLES:
        raise ValueError(f"roles must be a list of at most {MAX_ROLES} role names")
    roles = tuple(dict.fromkeys(name for name in names if name != ""))
    if not all(isinstance(name, str) and ROLE_PATTERN.fullmatch(name) for name in roles):
        raise ValueError("each role must match [a-z][a-z0-9_-]{0,31}")
    return roles


def _user_id(value: str) -> str:
    try:
        return validate_id(value, kind="token subject")
    except InvalidIdentifierError as exc:
        raise ValueError(str(exc)) from exc  # what pydantic turns into a ValidationError


class TokenClaims(BaseModel):
    """The verified claims of a token; `sub` is the Fileflow user id."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    sub: Annotated[str, AfterValidator(_user_id)]
    iss: str
    aud: str | tuple[str, ...]
    exp: int
    iat: int
    nbf: int | None = None
    jti: str | None = None
    # What the holder may do beyond their own files (e.g. `reviewer`: the review queue, docs/reviews.md).
    roles: Annotated[tuple[str, ...], BeforeValidator(parse_roles)] = ()

    @property
    def user_id(self) -> str:
        return self.sub

    @property
    def expires_at(self) -> datetime:
        return datetime.fromtimestamp(self.exp, UTC)


class VerificationKeys(Protocol):
    def verification_key(self, token: str) -> VerificationKey:
        """The key that must have signed `token` (a JWKS picks it by the token's `kid`)."""
        ...


@dataclass(frozen=True, slots=True)
class StaticKey:
    """A key known up front (tests, tools that already fetched the secret)."""

    key: str | bytes

    def verification_key(self, token: str) -> VerificationKey:
        return self.key

    def __call__(self) -> str | bytes:
        return self.key


@dataclass(frozen=True, slots=True)
class TrustedIssuer:
    """An issuer whose tokens are accepted: its name, the audience it must address, how it signs."""

    issuer: str
    audience: str
    algorithms: tuple[str, ...]
    keys: VerificationKeys


class TokenVerifier:
    """Verifies signature, algorithm, issuer, audience, exp/nbf/iat (with leeway) and the subject."""

    def __init__(self, issuers: Sequence[TrustedIssuer], *, leeway: timedelta = DEFAULT_LEEWAY) -> None:
        by_name = {trusted.issuer: trusted for trusted in issuers}
        if not by_name or len(by_name) != len(issuers):
            raise ValueError("a TokenVerifier needs at least one issuer, each named once")
        self._issuers = by_name
        self._leeway = leeway

    def verify(self, token: str) -> TokenClaims:
        """Return the token's claims, or raise InvalidTokenError (TokenKeysUnavailableError: no keys)."""
        trusted = self._trusted_issuer(token)
        try:
            key = trusted.keys.verification_key(token)
            payload = jwt.decode(
                token,
                key=key,
                algorithms=list(trusted.algorithms),
                audience=trusted.audience,
                issuer=trusted.issuer,
                leeway=self._leeway,
                options={
                    "require": list(REQUIRED_CLAIMS),
                    "verify_signature": True,
                    "verify_exp": True,
                    "verify_nbf": True,
                    "verify_iat": True,
                    "verify_aud": True,
                    "verify_iss": True,
                    "enforce_minimum_key_length": True,
                },
            )
        except jwt.PyJWKClientConnectionError as exc:
            raise TokenKeysUnavailableError(f"signing keys of {trusted.issuer} unavailable") from exc
        except jwt.ExpiredSignatureError as exc:
            raise InvalidTokenError("token expired") from exc
        except jwt.ImmatureSignatureError as exc:
            raise InvalidTokenError("token not valid yet") from exc
        except jwt.InvalidAudienceError as exc:
            raise InvalidTokenError("token is meant for another audience") from exc
        except jwt.PyJWTError as exc:
            raise InvalidTokenError(f"token rejected: {type(exc).__name__}") from exc
        try:
            return TokenClaims.model_validate(payload)
        except ValidationError as exc:
            raise InvalidTokenError("token claims are invalid") from exc

    def _trusted_issuer(self, token: str) -> TrustedIssuer:
        """Pick the issuer's configuration by the (still unverified) `iss`; decode() then verifies it."""
        try:
            unverified = jwt.decode_complete(token, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise InvalidTokenError("malformed token") from exc
        issuer = unverified["payload"].get("iss")
        trusted = self._issuers.get(issuer) if isinstance(issuer, str) else None
        if trusted is None:
            raise InvalidTokenError("token of an untrusted issuer")
        # Checked here too so an HMAC token can never be verified against an issuer's public key.
        if unverified["header"].get("alg") not in trusted.algorithms:
            raise InvalidTokenError("token signed with an algorithm this issuer does not use")
        return trusted


@dataclass(frozen=True, slots=True)
class MintedToken:
    token: str
    expires_at: datetime


class TokenMinter:
    """Mints HS256 tokens of one issuer with a key read at each mint (so a rotated key is picked up)."""

    def __init__(
        self,
        *,
        issuer: str,
        signing_key: Callable[[], str | bytes],
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._issuer = issuer
        self._signing_key = signing_key
        self._clock = clock

    def mint(
        self,
        subject: str,
        *,
        audience: str,
        ttl: timedelta,
        issued_at: datetime | None = None,
        not_before: datetime | None = None,
        extra_claims: Mapping[str, Any] | None = None,
    ) -> MintedToken:
        if ttl <= timedelta(0):
            raise ValueError("ttl must be positive")
        validate_id(subject, kind="token subject")
        key = self._signing_key()
        if len(key.encode() if isinstance(key, str) else key) < MIN_HMAC_KEY_BYTES:
            raise ValueError(f"an {HS256} signing key needs at least {MIN_HMAC_KEY_BYTES} bytes")
        issued = (issued_at or self._clock()).replace(microsecond=0)
        expires = issued + ttl
        claims: dict[str, Any] = {
            **(extra_claims or {}),
            "iss": self._issuer,
            "sub": subject,
            "aud": audience,
            "iat": int(issued.timestamp()),
            "exp": int(expires.timestamp()),
            "jti": uuid.uuid4().hex,
        }
        if not_before is not None:
            claims["nbf"] = int(not_before.timestamp())
        return MintedToken(token=jwt.encode(claims, key, algorithm=HS256), expires_at=expires)


def bearer_token(authorization: str | None) -> str:
    """The token of an `Authorization: Bearer <token>` header value; InvalidTokenError otherwise."""
    scheme, _, token = (authorization or "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        raise InvalidTokenError("expected an Authorization header of the form 'Bearer <token>'")
    return token
