"""The authorizer Lambda in-process, its signing key in moto's Secrets Manager."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import boto3
import pytest

from fileflow_authorizer.handler import lambda_handler
from fileflow_common.clock import utc_now
from fileflow_common.tokens import (
    API_AUDIENCE,
    UPLOAD_AUDIENCE,
    StaticKey,
    TokenKeysUnavailableError,
    TokenMinter,
)
from tests.events import load_event
from tests.integration.conftest import SIGNING_KEY, Cloud, FakeLambdaContext

ISSUER = "fileflow"
WILDCARD_ARN = "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/prod/*/*"


def mint(user_id: str = "alice", *, key: str = SIGNING_KEY, issuer: str = ISSUER, **kwargs: Any) -> str:
    kwargs.setdefault("audience", API_AUDIENCE)
    kwargs.setdefault("ttl", timedelta(hours=1))
    return TokenMinter(issuer=issuer, signing_key=StaticKey(key)).mint(user_id, **kwargs).token


def authorize(authorization: str, context: FakeLambdaContext) -> dict[str, Any]:
    event = load_event("authorizer/token")
    event["authorizationToken"] = authorization
    result: dict[str, Any] = lambda_handler(event, context)
    return result


def test_valid_token_gets_an_allow_policy_for_the_whole_stage(
    cloud: Cloud, lambda_context: FakeLambdaContext
) -> None:
    # Given a token signed with the key in Secrets Manager
    token = mint("alice")
    # When API Gateway asks the authorizer about POST /v1/upload-tokens
    response = authorize(f"Bearer {token}", lambda_context)
    # Then alice is the principal, her id is in the context, and every route of the stage is allowed
    # (API Gateway caches this policy per token and applies it to her next, different requests)
    assert response["principalId"] == "alice"
    assert response["context"] == {"user_id": "alice"}
    assert response["policyDocument"] == {
        "Version": "2012-10-17",
        "Statement": [{"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": [WILDCARD_ARN]}],
    }


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param(
            lambda: f"Bearer {mint(issued_at=utc_now() - timedelta(hours=2), ttl=timedelta(hours=1))}",
            id="expired",
        ),
        pytest.param(lambda: f"Bearer {mint(key='f' * 64)}", id="forged"),
        pytest.param(lambda: f"Bearer {mint(issuer='https://evil.example.com/')}", id="wrong-issuer"),
        pytest.param(lambda: f"Bearer {mint(audience=UPLOAD_AUDIENCE)}", id="wrong-audience"),
        pytest.param(lambda: f"Bearer {mint(not_before=utc_now() + timedelta(hours=1))}", id="not-yet-valid"),
        pytest.param(lambda: mint(), id="no-bearer-scheme"),
        pytest.param(lambda: "Bearer not.a.jwt", id="garbage"),
        pytest.param(lambda: "", id="empty"),
    ],
)
def test_bad_token_is_refused_with_the_message_api_gateway_maps_to_401(
    cloud: Cloud, lambda_context: FakeLambdaContext, authorization: Any
) -> None:
    # Given a token that must not pass / When the authorizer runs
    with pytest.raises(Exception) as raised:  # noqa: PT011 - API Gateway matches the bare Exception's text
        authorize(authorization(), lambda_context)
    # Then it fails with exactly "Unauthorized" (anything else becomes a 500 at the gateway)
    assert str(raised.value) == "Unauthorized"
    assert type(raised.value) is Exception


def test_unreadable_signing_secret_is_a_server_error_not_a_401(
    cloud: Cloud, lambda_context: FakeLambdaContext
) -> None:
    # Given the signing secret is gone
    secrets = boto3.client("secretsmanager")
    for secret in secrets.list_secrets()["SecretList"]:
        secrets.delete_secret(SecretId=secret["ARN"], ForceDeleteWithoutRecovery=True)
    # When a token arrives / Then the invocation fails with another error: API Gateway answers 500,
    # so clients with good tokens are not told their token is bad
    with pytest.raises(TokenKeysUnavailableError, match="signing secret cannot be read") as raised:
        authorize(f"Bearer {mint()}", lambda_context)
    assert str(raised.value) != "Unauthorized"


def test_signing_key_is_fetched_once_and_cached(cloud: Cloud, lambda_context: FakeLambdaContext) -> None:
    # Given one verified token (the key is now cached by Powertools)
    authorize(f"Bearer {mint()}", lambda_context)
    # When the secret changes behind the function's back
    secrets = boto3.client("secretsmanager")
    (secret,) = secrets.list_secrets()["SecretList"]
    secrets.put_secret_value(SecretId=secret["ARN"], SecretString="n" * 64)
    # Then tokens of the cached key still pass within the cache's max age (no call per request)
    assert authorize(f"Bearer {mint()}", lambda_context)["principalId"] == "alice"
