"""The API function's own authentication, upload tokens and per-user rate limit, against moto."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from fileflow_api.auth.ratelimit import RateLimiter
from fileflow_api.handler import asgi_handler, lambda_handler
from fileflow_common.tokens import (
    API_AUDIENCE,
    UPLOAD_AUDIENCE,
    StaticKey,
    TokenMinter,
    TokenVerifier,
    TrustedIssuer,
)
from tests.events import load_event
from tests.integration.conftest import SIGNING_KEY, Cloud, FakeLambdaContext

ISSUER = "fileflow"


def mint(user_id: str = "alice", *, key: str = SIGNING_KEY, audience: str = API_AUDIENCE) -> str:
    minter = TokenMinter(issuer=ISSUER, signing_key=StaticKey(key))
    return minter.mint(user_id, audience=audience, ttl=timedelta(hours=1)).token


def upload_token_request(*, authorization: str | None, authorizer: dict[str, Any] | None) -> dict[str, Any]:
    """POST /v1/upload-tokens as API Gateway proxies it (with or without an authorizer's context)."""
    event = load_event("api/create_upload_token")
    for headers in (event["headers"], event["multiValueHeaders"]):
        headers.pop("Authorization", None)
    if authorization is not None:
        event["headers"]["Authorization"] = authorization
        event["multiValueHeaders"]["Authorization"] = [authorization]
    if authorizer is None:
        event["requestContext"].pop("authorizer", None)
    else:
        event["requestContext"]["authorizer"] = authorizer
    return event


def invoke(event: dict[str, Any], context: FakeLambdaContext) -> tuple[int, dict[str, str], Any]:
    response = lambda_handler(event, context)
    return response["statusCode"], response["headers"], json.loads(response["body"])


def upload_verifier() -> TokenVerifier:
    return TokenVerifier([TrustedIssuer(ISSUER, UPLOAD_AUDIENCE, ("HS256",), StaticKey(SIGNING_KEY))])


def test_authorizer_context_is_trusted_and_an_upload_token_minted(
    cloud: Cloud, lambda_context: FakeLambdaContext
) -> None:
    # Given API Gateway's authorizer verified alice (its context), as on AWS
    event = upload_token_request(authorization=None, authorizer={"user_id": "alice", "principalId": "alice"})
    # When POST /v1/upload-tokens is proxied
    status, _, body = invoke(event, lambda_context)
    # Then 201 with a token scoped to uploads for alice, valid for an hour, and her Uppy endpoint
    assert status == 201, body
    claims = upload_verifier().verify(body["token"])
    assert claims.user_id == "alice"
    assert claims.exp - claims.iat == 3600
    assert body["expires_at"].endswith("Z")
    assert body["uppy_endpoint"] == (
        f"https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/prod/uppy/{body['token']}"
    )


def test_bearer_token_is_verified_in_the_function_where_no_authorizer_ran(
    cloud: Cloud, lambda_context: FakeLambdaContext
) -> None:
    # Given no authorizer context (LocalStack community never runs authorizers), but a valid bearer token
    event = upload_token_request(authorization=f"Bearer {mint('bob')}", authorizer=None)
    # When proxied / Then the function verifies it itself and serves bob
    status, _, body = invoke(event, lambda_context)
    assert status == 201, body
    assert upload_verifier().verify(body["token"]).user_id == "bob"


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param(None, id="missing"),
        pytest.param(lambda: f"Bearer {mint(key='f' * 64)}", id="forged"),
        pytest.param(lambda: f"Bearer {mint(audience=UPLOAD_AUDIENCE)}", id="upload-token-as-bearer"),
        pytest.param(lambda: "Basic YWxpY2U6cGFzcw==", id="basic-auth"),
    ],
)
def test_request_without_a_valid_token_is_401(
    cloud: Cloud, lambda_context: FakeLambdaContext, authorization: Any
) -> None:
    # Given no authorizer context and no valid bearer token
    event = upload_token_request(authorization=authorization() if authorization else None, authorizer=None)
    # When proxied / Then 401 in the API's error format, naming the scheme to use
    status, headers, body = invoke(event, lambda_context)
    assert status == 401
    assert body["error"]["code"] == "Unauthenticated"
    assert headers["www-authenticate"] == "Bearer"


def pin_rate_limit_clock(moment: datetime) -> None:
    """The deployed wiring, with the rate limiter's clock pinned: no window boundary can fall mid-test."""
    app = asgi_handler().app
    dependencies = app.state.dependencies  # type: ignore[attr-defined]
    access = dependencies.access
    limiter = RateLimiter(access.rate_limiter.counter, access.rate_limiter.limit, clock=lambda: moment)
    app.state.dependencies = replace(  # type: ignore[attr-defined]
        dependencies, access=replace(access, rate_limiter=limiter)
    )


# The middle of an hour-long window: its boundaries are 30 minutes away either side.
MID_WINDOW = datetime(2026, 12, 1, 10, 30, tzinfo=UTC)


def test_user_gets_429_after_the_limit_and_others_are_not_affected(
    cloud: Cloud, lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a limit of 3 requests per user per hour, and the limiter's clock in the middle of a window
    monkeypatch.setenv("RATE_LIMIT_REQUESTS", "3")
    monkeypatch.setenv("RATE_LIMIT_WINDOW_SECONDS", "3600")
    asgi_handler.cache_clear()
    pin_rate_limit_clock(MID_WINDOW)
    alice = upload_token_request(authorization=f"Bearer {mint('alice')}", authorizer=None)
    # When alice sends 4 requests in the window
    statuses = [invoke(alice, lambda_context)[0] for _ in range(3)]
    status, headers, body = invoke(alice, lambda_context)
    # Then the first 3 pass and the 4th is 429 with the seconds to wait
    assert statuses == [201, 201, 201]
    assert status == 429
    assert body["error"]["code"] == "RateLimited"
    # (the window ends at 11:00, 1800 s after the pinned clock)
    assert int(headers["retry-after"]) == 1800
    # And bob, in the same window, is served
    bob = upload_token_request(authorization=f"Bearer {mint('bob')}", authorizer=None)
    assert invoke(bob, lambda_context)[0] == 201
    # And the counter lives in alice's partition, with a TTL so DynamoDB removes it
    items = cloud.table.scan()["Items"]
    windows = [item for item in items if str(item["sk"]).startswith("RATE#")]
    alice_window = next(item for item in windows if item["pk"] == "USER#alice")
    assert alice_window["request_count"] == 3
    assert int(str(alice_window["expires_at"])) > int(str(alice_window["sk"]).removeprefix("RATE#"))


def test_requests_the_authorizer_let_through_are_rate_limited_too(
    cloud: Cloud, lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RATE_LIMIT_REQUESTS", "1")
    monkeypatch.setenv("RATE_LIMIT_WINDOW_SECONDS", "3600")
    asgi_handler.cache_clear()
    pin_rate_limit_clock(MID_WINDOW)
    event = upload_token_request(authorization=None, authorizer={"user_id": "carol"})
    assert invoke(event, lambda_context)[0] == 201
    assert invoke(event, lambda_context)[0] == 429


def test_an_unreadable_signing_secret_is_503_token_keys_unavailable(
    cloud: Cloud, lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the API pointed at a signing secret that Secrets Manager does not have (deleted, or no access)
    monkeypatch.setenv("TOKEN_SECRET_ARN", "arn:aws:secretsmanager:us-east-1:123456789012:secret:gone-AbCdEf")
    asgi_handler.cache_clear()
    event = upload_token_request(authorization=f"Bearer {mint()}", authorizer=None)
    # When a request with a bearer token comes in
    status, _, body = invoke(event, lambda_context)
    # Then it is the documented 503 TokenKeysUnavailable (the caller may retry), not a 500 or a 401
    assert status == 503, body
    assert body["error"]["code"] == "TokenKeysUnavailable"
    assert "signing secret cannot be read" in body["error"]["message"]
