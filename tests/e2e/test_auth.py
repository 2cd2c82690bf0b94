"""Authentication through API Gateway on the deployed stack (local cloud, or AWS with FILEFLOW_TARGET=aws).

On AWS the TOKEN authorizer refuses bad tokens at the gateway; on LocalStack community (which cannot
create or run authorizers) the API function verifies them itself. Either way: 401.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
import requests

from fileflow_common.tokens import HS256, UPLOAD_AUDIENCE, StaticKey, TokenVerifier, TrustedIssuer
from tools.stack import StackOutputs
from tools.token import TokenFactory

ALLOWED_ORIGIN = "http://localhost:8080"  # cdk.json's allowed_origins


@pytest.fixture(scope="module")
def tokens(stack: StackOutputs) -> TokenFactory:
    return TokenFactory.for_stack(stack)


@pytest.fixture
def user_id() -> str:
    return f"e2e-{uuid.uuid4().hex[:12]}"


def test_health_is_public(stack: StackOutputs) -> None:
    response = requests.get(f"{stack.api_url}/health", timeout=30)
    assert response.status_code == 200, response.text


def test_openapi_description_is_public(stack: StackOutputs) -> None:
    response = requests.get(f"{stack.api_url}/openapi.json", timeout=30)
    assert response.status_code == 200, response.text
    assert "/v1/upload-tokens" in response.json()["paths"]


def test_valid_token_gets_an_upload_token(stack: StackOutputs, tokens: TokenFactory, user_id: str) -> None:
    # Given a bearer token minted with the stack's signing key
    headers = {"Authorization": f"Bearer {tokens.valid(user_id)}"}
    # When POST /v1/upload-tokens
    response = requests.post(f"{stack.api_url}/v1/upload-tokens", headers=headers, timeout=30)
    # Then 201: an upload token for the same user, and an Uppy endpoint on this API
    assert response.status_code == 201, response.text
    body = response.json()
    upload_tokens = TokenVerifier(
        [TrustedIssuer(tokens.issuer, UPLOAD_AUDIENCE, (HS256,), StaticKey(tokens.key))]
    )
    assert upload_tokens.verify(body["token"]).user_id == user_id
    assert body["uppy_endpoint"] == f"{stack.api_url}/uppy/{body['token']}"


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param(lambda tokens, user: f"Bearer {tokens.expired(user)}", id="expired"),
        pytest.param(lambda tokens, user: f"Bearer {tokens.forged(user)}", id="forged"),
        pytest.param(lambda tokens, user: f"Bearer {tokens.wrong_issuer(user)}", id="wrong-issuer"),
        pytest.param(lambda tokens, user: f"Bearer {tokens.wrong_audience(user)}", id="wrong-audience"),
        pytest.param(lambda tokens, user: f"Bearer {tokens.upload(user)}", id="upload-token-as-bearer"),
        pytest.param(lambda tokens, user: "Bearer not.a.jwt", id="garbage"),
        pytest.param(lambda tokens, user: None, id="missing"),
    ],
)
def test_bad_or_missing_token_is_401(
    stack: StackOutputs,
    tokens: TokenFactory,
    user_id: str,
    authorization: Callable[[TokenFactory, str], str | None],
) -> None:
    # Given a request whose token must not pass
    value = authorization(tokens, user_id)
    headers = {"Authorization": value} if value is not None else {}
    # When it reaches API Gateway / Then 401, in the API's error format
    response = requests.post(f"{stack.api_url}/v1/upload-tokens", headers=headers, timeout=30)
    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == "Unauthenticated"


def test_unknown_v1_route_of_an_authenticated_user_is_the_apis_404(
    stack: StackOutputs, tokens: TokenFactory, user_id: str
) -> None:
    headers = {"Authorization": f"Bearer {tokens.valid(user_id)}"}
    response = requests.get(f"{stack.api_url}/v1/no-such-route", headers=headers, timeout=30)
    assert response.status_code == 404, response.text


def test_cors_preflight_needs_no_token(stack: StackOutputs) -> None:
    # Given a browser's preflight (it never carries the Authorization header)
    headers = {
        "Origin": ALLOWED_ORIGIN,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization",
    }
    # When sent / Then the API answers it, allowing the page's origin and the Authorization header
    response = requests.options(f"{stack.api_url}/v1/upload-tokens", headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert "authorization" in response.headers["access-control-allow-headers"].lower()
