"""A function that checks only Fileflow's own HS256 tokens ships without cryptography (no crypto layer:
infra/constructs/auth.py), so PyJWT cannot import it; tokens still mint and verify, and a JWKS without it
is refused at cold start. RS256/ES256 with cryptography: test_tokens.py."""

import pytest
from pydantic import ValidationError

from fileflow_api.settings import ApiSettings
from fileflow_common import token_config
from tests.support.fresh_interpreter import json_answer, run_python
from tests.unit.test_settings import VALID_API_ENV

# The API handler imported, then a token minted and verified (and a forged one refused), as at a request.
HS256_WITHOUT_CRYPTOGRAPHY = """
import json, sys
sys.modules["cryptography"] = None  # not installed: the function has no crypto layer
from datetime import timedelta
import fileflow_api.handler
from fileflow_common.tokens import API_AUDIENCE, HS256, InvalidTokenError, StaticKey, TokenMinter
from fileflow_common.tokens import TokenVerifier, TrustedIssuer
key, other = "k" * 64, "x" * 64
minted = TokenMinter(issuer="fileflow", signing_key=StaticKey(key)).mint(
    "alice", audience=API_AUDIENCE, ttl=timedelta(minutes=5)
)
forged = TokenMinter(issuer="fileflow", signing_key=StaticKey(other)).mint(
    "alice", audience=API_AUDIENCE, ttl=timedelta(minutes=5)
)
verifier = TokenVerifier([TrustedIssuer("fileflow", API_AUDIENCE, (HS256,), StaticKey(key))])
try:
    verifier.verify(forged.token)
    refused = False
except InvalidTokenError:
    refused = True
import jwt.algorithms
print(json.dumps({"user": verifier.verify(minted.token).user_id, "forged_refused": refused,
    "rs256": jwt.algorithms.has_crypto}))
"""


def test_hs256_tokens_mint_and_verify_where_cryptography_is_not_installed() -> None:
    # Given an interpreter without cryptography, as the API function without an identity provider
    result = run_python(HS256_WITHOUT_CRYPTOGRAPHY, "functions/api:functions/common:functions/web")
    # When the API handler is imported and a token minted and verified / Then both work and a forgery fails
    answer = json_answer(result)
    assert answer == {"user": "alice", "forged_refused": True, "rs256": False}


@pytest.fixture
def jwks_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The API's environment with an identity provider (JWKS)."""
    for name, value in VALID_API_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("JWKS_URL", "https://idp.example.com/.well-known/jwks.json")
    monkeypatch.setenv("JWKS_ISSUER", "https://idp.example.com/")
    monkeypatch.setenv("JWKS_AUDIENCE", "fileflow")


def test_a_jwks_without_cryptography_is_refused_at_cold_start(
    jwks_environment: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the API's environment with an identity provider, and no cryptography installed
    monkeypatch.setattr(token_config, "has_crypto", False)
    # When the settings are validated / Then they are refused, naming the missing layer (not a 401 per token)
    with pytest.raises(ValidationError, match="crypto layer"):
        ApiSettings()  # type: ignore[call-arg]


def test_a_jwks_with_cryptography_is_accepted(jwks_environment: None) -> None:
    # Given the same environment where cryptography is installed (the crypto layer)
    # Then the settings validate
    assert str(ApiSettings().jwks_url) == "https://idp.example.com/.well-known/jwks.json"  # type: ignore[call-arg]
