"""current_user and uppy_user: who the caller is, in a FastAPI app with fakes (no AWS)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from fileflow_api.auth.access import AccessControl, UploadTokens
from fileflow_api.auth.identity import User, current_user, uppy_user
from fileflow_api.auth.ratelimit import RateLimit, RateLimiter
from fileflow_api.errors import register_exception_handlers
from fileflow_api.usage.quotas import Quota, Usage, UserQuotas
from fileflow_common.tokens import (
    API_AUDIENCE,
    HS256,
    UPLOAD_AUDIENCE,
    StaticKey,
    TokenMinter,
    TokenVerifier,
    TrustedIssuer,
)
from tests.unit.api_dependencies import api_dependencies

KEY = "k" * 64
ISSUER = "fileflow"


class CountingWindow:
    def __init__(self) -> None:
        self.hits: list[str] = []

    def increment(self, user_id: str, *, window_start: int, limit: int, expires_at: int) -> bool:
        self.hits.append(user_id)
        return self.hits.count(user_id) <= limit


class NoUsage:
    def add_within(self, user_id: str, *, size: int, files: int, quota: Quota) -> bool:
        return True

    def subtract(self, user_id: str, *, size: int, files: int) -> None:
        return None

    def get(self, user_id: str) -> Usage:
        return Usage()


def mint(user_id: str = "alice", *, audience: str, key: str = KEY) -> str:
    return (
        TokenMinter(issuer=ISSUER, signing_key=StaticKey(key))
        .mint(user_id, audience=audience, ttl=timedelta(hours=1))
        .token
    )


def verifier(audience: str) -> TokenVerifier:
    return TokenVerifier([TrustedIssuer(ISSUER, audience, (HS256,), StaticKey(KEY))])


@pytest.fixture
def window() -> CountingWindow:
    return CountingWindow()


@pytest.fixture
def client(window: CountingWindow) -> TestClient:
    access = AccessControl(
        access_tokens=verifier(API_AUDIENCE),
        upload_tokens=UploadTokens(
            minter=TokenMinter(issuer=ISSUER, signing_key=StaticKey(KEY)),
            verifier=verifier(UPLOAD_AUDIENCE),
            ttl=timedelta(hours=1),
        ),
        rate_limiter=RateLimiter(window, RateLimit(requests=2, window_seconds=60)),
        quotas=UserQuotas(NoUsage(), Quota(max_bytes=1, max_files=1)),
    )
    app = FastAPI()
    app.state.dependencies = api_dependencies(access=access)
    register_exception_handlers(app)

    @app.get("/v1/me")
    def me(user: Annotated[User, Depends(current_user)]) -> dict[str, str]:
        return {"user_id": user.user_id}

    @app.get("/uppy/{token}/s3/params")
    def params(user: Annotated[User, Depends(uppy_user)]) -> dict[str, str]:
        return {"user_id": user.user_id}

    return TestClient(app)


def test_bearer_token_identifies_the_caller(client: TestClient, window: CountingWindow) -> None:
    response = client.get("/v1/me", headers={"Authorization": f"Bearer {mint(audience=API_AUDIENCE)}"})
    assert (response.status_code, response.json()) == (200, {"user_id": "alice"})
    assert window.hits == ["alice"]


def test_upload_token_in_the_path_identifies_its_owner(client: TestClient, window: CountingWindow) -> None:
    # Given an upload token (no Authorization header: Uppy cannot send one)
    token = mint("bob", audience=UPLOAD_AUDIENCE)
    # When an Uppy route is called / Then bob is the user, and the request counts against his limit
    response = client.get(f"/uppy/{token}/s3/params")
    assert (response.status_code, response.json()) == (200, {"user_id": "bob"})
    assert window.hits == ["bob"]


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(lambda: mint(audience=API_AUDIENCE), id="api-token-in-the-path"),
        pytest.param(lambda: mint(audience=UPLOAD_AUDIENCE, key="f" * 64), id="forged"),
        pytest.param(lambda: "not-a-token", id="garbage"),
    ],
)
def test_uppy_route_refuses_anything_but_a_valid_upload_token(client: TestClient, token: object) -> None:
    assert callable(token)
    response = client.get(f"/uppy/{token()}/s3/params")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "Unauthenticated"
    assert response.headers["www-authenticate"] == "Bearer"


def test_upload_token_is_no_bearer_token(client: TestClient) -> None:
    response = client.get("/v1/me", headers={"Authorization": f"Bearer {mint(audience=UPLOAD_AUDIENCE)}"})
    assert response.status_code == 401


def test_third_request_in_the_window_is_429(client: TestClient) -> None:
    headers = {"Authorization": f"Bearer {mint(audience=API_AUDIENCE)}"}
    assert [client.get("/v1/me", headers=headers).status_code for _ in range(3)] == [200, 200, 429]


def test_without_access_control_nobody_gets_in_without_an_authorizer() -> None:
    # Given an app built without access control (as other routes' tests build it)
    app = FastAPI()
    app.state.dependencies = api_dependencies()
    register_exception_handlers(app)

    @app.get("/v1/me")
    def me(user: Annotated[User, Depends(current_user)]) -> dict[str, str]:
        return {"user_id": user.user_id}

    # When a request brings a bearer token but no authorizer context / Then 401: fail closed
    response = TestClient(app).get(
        "/v1/me", headers={"Authorization": f"Bearer {mint(audience=API_AUDIENCE)}"}
    )
    assert response.status_code == 401
