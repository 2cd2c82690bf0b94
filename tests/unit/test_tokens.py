"""fileflow_common.tokens: what a token must be for the API to accept it, and how tokens are minted."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from fileflow_common.clock import utc_now
from fileflow_common.errors import InvalidIdentifierError
from fileflow_common.tokens import (
    API_AUDIENCE,
    ASYMMETRIC_ALGORITHMS,
    HS256,
    UPLOAD_AUDIENCE,
    InvalidTokenError,
    StaticKey,
    TokenMinter,
    TokenVerifier,
    TrustedIssuer,
    bearer_token,
)

ISSUER = "fileflow"
KEY = "k" * 64
OTHER_KEY = "x" * 64
IDP_ISSUER = "https://idp.example.com/"
IDP_AUDIENCE = "fileflow-at-idp"


def minter(*, issuer: str = ISSUER, key: str = KEY) -> TokenMinter:
    return TokenMinter(issuer=issuer, signing_key=StaticKey(key))


def verifier(*, audience: str = API_AUDIENCE, leeway: timedelta = timedelta(seconds=30)) -> TokenVerifier:
    return TokenVerifier([TrustedIssuer(ISSUER, audience, (HS256,), StaticKey(KEY))], leeway=leeway)


def hs256(claims: dict[str, object], key: str = KEY, headers: dict[str, object] | None = None) -> str:
    return jwt.encode(claims, key, algorithm=HS256, headers=headers)


def claims_for(user_id: str = "alice", **overrides: object) -> dict[str, object]:
    now = int(utc_now().timestamp())
    return {"iss": ISSUER, "aud": API_AUDIENCE, "sub": user_id, "iat": now, "exp": now + 600, **overrides}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_valid_token_yields_its_typed_claims() -> None:
    # Given a token minted for alice for the API
    minted = minter().mint("alice", audience=API_AUDIENCE, ttl=timedelta(hours=1))
    # When verified
    claims = verifier().verify(minted.token)
    # Then alice is the user, and the expiry is the minted one
    assert claims.user_id == "alice"
    assert claims.iss == ISSUER
    assert claims.aud == API_AUDIENCE
    assert claims.expires_at == minted.expires_at
    assert claims.jti


def test_minted_expiry_is_issue_time_plus_ttl() -> None:
    issued = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    minted = minter().mint("alice", audience=API_AUDIENCE, ttl=timedelta(hours=1), issued_at=issued)
    payload = jwt.decode(minted.token, options={"verify_signature": False})
    assert payload["iat"] == int(issued.timestamp())
    assert payload["exp"] == int(issued.timestamp()) + 3600
    assert minted.expires_at == issued + timedelta(hours=1)


def test_expired_token_is_refused() -> None:
    # Given a token that expired two minutes ago (beyond the 30 s leeway)
    token = hs256(claims_for(iat=int(utc_now().timestamp()) - 3600, exp=int(utc_now().timestamp()) - 120))
    # When verified / Then refused as expired
    with pytest.raises(InvalidTokenError, match="expired"):
        verifier().verify(token)


def test_token_expired_within_the_leeway_is_accepted() -> None:
    now = int(utc_now().timestamp())
    token = hs256(claims_for(iat=now - 600, exp=now - 10))
    assert verifier().verify(token).user_id == "alice"


def test_token_not_valid_before_the_future_is_refused() -> None:
    # Given a token whose nbf is an hour ahead
    token = hs256(claims_for(nbf=int(utc_now().timestamp()) + 3600))
    # When verified / Then refused as not valid yet
    with pytest.raises(InvalidTokenError, match="not valid yet"):
        verifier().verify(token)


def test_token_issued_in_the_future_is_refused() -> None:
    now = int(utc_now().timestamp())
    with pytest.raises(InvalidTokenError):
        verifier().verify(hs256(claims_for(iat=now + 3600, exp=now + 7200)))


def test_forged_signature_is_refused() -> None:
    # Given the right claims signed with another key
    token = minter(key=OTHER_KEY).mint("alice", audience=API_AUDIENCE, ttl=timedelta(hours=1)).token
    # When verified / Then refused
    with pytest.raises(InvalidTokenError, match="InvalidSignatureError"):
        verifier().verify(token)


def test_tampered_payload_is_refused() -> None:
    # Given a valid token whose payload is swapped for mallory's, keeping alice's signature
    header, _, signature = (
        minter().mint("alice", audience=API_AUDIENCE, ttl=timedelta(hours=1)).token.split(".")
    )
    payload = _b64(json.dumps(claims_for("mallory")).encode())
    # When verified / Then refused
    with pytest.raises(InvalidTokenError):
        verifier().verify(f"{header}.{payload}.{signature}")


def test_wrong_issuer_is_refused_even_with_the_right_key() -> None:
    token = minter(issuer="someone-else").mint("alice", audience=API_AUDIENCE, ttl=timedelta(hours=1)).token
    with pytest.raises(InvalidTokenError, match="untrusted issuer"):
        verifier().verify(token)


def test_wrong_audience_is_refused() -> None:
    # Given an upload token (audience fileflow-uppy) presented as an API bearer token
    token = minter().mint("alice", audience=UPLOAD_AUDIENCE, ttl=timedelta(hours=1)).token
    # When verified for the API / Then refused
    with pytest.raises(InvalidTokenError, match="audience"):
        verifier().verify(token)
    # And an API token is no upload token either
    api_token = minter().mint("alice", audience=API_AUDIENCE, ttl=timedelta(hours=1)).token
    with pytest.raises(InvalidTokenError, match="audience"):
        verifier(audience=UPLOAD_AUDIENCE).verify(api_token)


def test_alg_none_is_refused() -> None:
    # Given an unsigned token (alg "none") with otherwise perfect claims
    header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    payload = _b64(json.dumps(claims_for()).encode())
    # When verified / Then refused
    with pytest.raises(InvalidTokenError):
        verifier().verify(f"{header}.{payload}.")


@pytest.mark.parametrize("missing", ["sub", "exp", "iat", "aud", "iss"])
def test_token_missing_a_required_claim_is_refused(missing: str) -> None:
    claims = claims_for()
    del claims[missing]
    with pytest.raises(InvalidTokenError):
        verifier().verify(hs256(claims))


@pytest.mark.parametrize(
    "subject",
    ["", "../alice", "alice#FILE#x", "alice/bob", "a" * 65, "alice\n", "alice bob", "ålice", 42],
)
def test_hostile_subject_is_refused(subject: object) -> None:
    # Given a correctly signed token whose subject is no valid user id
    token = hs256(claims_for(sub=subject))
    # When verified / Then refused (a subject becomes part of keys: USER#{sub}, uploads/{sub}/...)
    with pytest.raises(InvalidTokenError):
        verifier().verify(token)


@pytest.mark.parametrize("token", ["", "not-a-jwt", "a.b.c", "a.b", "....."])
def test_malformed_token_is_refused(token: str) -> None:
    with pytest.raises(InvalidTokenError, match="malformed"):
        verifier().verify(token)


def test_rs256_token_of_the_identity_provider_is_accepted() -> None:
    # Given a verifier trusting Fileflow (HS256) and an identity provider (RS256 with its public key)
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    both = TokenVerifier(
        [
            TrustedIssuer(ISSUER, API_AUDIENCE, (HS256,), StaticKey(KEY)),
            TrustedIssuer(
                IDP_ISSUER, IDP_AUDIENCE, ASYMMETRIC_ALGORITHMS, _PublicKey(private_key.public_key())
            ),
        ]
    )
    # When the provider's RS256 token and Fileflow's HS256 token are verified
    idp_token = jwt.encode(
        claims_for("bob", iss=IDP_ISSUER, aud=IDP_AUDIENCE),
        private_key,
        algorithm="RS256",
        headers={"kid": "1"},
    )
    own_token = minter().mint("alice", audience=API_AUDIENCE, ttl=timedelta(hours=1)).token
    # Then both are accepted, each by its own issuer's rules
    assert both.verify(idp_token).user_id == "bob"
    assert both.verify(own_token).user_id == "alice"


def test_hs256_token_claiming_the_identity_provider_is_refused() -> None:
    # Given a verifier trusting an RS256 provider, and an attacker's HS256 token claiming that provider
    # (the classic confusion: HMAC "signed" with the provider's public key)
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    idp_only = TokenVerifier(
        [TrustedIssuer(IDP_ISSUER, IDP_AUDIENCE, ASYMMETRIC_ALGORITHMS, _PublicKey(private_key.public_key()))]
    )
    token = hs256(claims_for(iss=IDP_ISSUER, aud=IDP_AUDIENCE))
    # When verified / Then refused for its algorithm
    with pytest.raises(InvalidTokenError, match="algorithm"):
        idp_only.verify(token)


def test_fileflow_issuer_never_accepts_an_asymmetric_token() -> None:
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(claims_for(), private_key, algorithm="RS256")
    with pytest.raises(InvalidTokenError, match="algorithm"):
        verifier().verify(token)


def test_minting_refuses_short_keys_bad_subjects_and_non_positive_ttls() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        minter(key="short").mint("alice", audience=API_AUDIENCE, ttl=timedelta(hours=1))
    with pytest.raises(ValueError, match="ttl"):
        minter().mint("alice", audience=API_AUDIENCE, ttl=timedelta(0))
    with pytest.raises(InvalidIdentifierError, match="token subject"):
        minter().mint("../alice", audience=API_AUDIENCE, ttl=timedelta(hours=1))


def test_every_minted_token_has_its_own_id() -> None:
    first = minter().mint("alice", audience=API_AUDIENCE, ttl=timedelta(hours=1)).token
    second = minter().mint("alice", audience=API_AUDIENCE, ttl=timedelta(hours=1)).token
    assert verifier().verify(first).jti != verifier().verify(second).jti


def test_verifier_needs_distinct_issuers() -> None:
    with pytest.raises(ValueError, match="issuer"):
        TokenVerifier([])
    issuer = TrustedIssuer(ISSUER, API_AUDIENCE, (HS256,), StaticKey(KEY))
    with pytest.raises(ValueError, match="issuer"):
        TokenVerifier([issuer, issuer])


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer abc.def.ghi", "abc.def.ghi"),
        ("bearer abc.def.ghi", "abc.def.ghi"),
        (" Bearer  x.y.z ", "x.y.z"),
    ],
)
def test_bearer_token_is_read_from_the_header(header: str, token: str) -> None:
    assert bearer_token(header) == token


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer ", "Basic abc", "abc.def.ghi", "Bearer a b"])
def test_header_without_a_bearer_token_is_refused(header: str | None) -> None:
    with pytest.raises(InvalidTokenError, match="Bearer"):
        bearer_token(header)


class _PublicKey:
    """A VerificationKeys of one public key (what a JWKS lookup returns), as PEM."""

    def __init__(self, key: rsa.RSAPublicKey) -> None:
        self._pem = key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def verification_key(self, token: str) -> bytes:
        return self._pem
