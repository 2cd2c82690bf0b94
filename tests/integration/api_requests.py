"""API Gateway (REST) proxy events for the API function, as the authorizer passes them, and their answers."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

import pytest

from fileflow_api.handler import lambda_handler
from tests.events import load_event
from tests.integration.conftest import Cloud, FakeLambdaContext

ALICE = "user-alice"
BOB = "user-bob"


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: Any

    @property
    def error_code(self) -> str:
        return str(self.body["error"]["code"])


def api_event(
    method: str,
    path: str,
    *,
    body: Any = None,
    raw_body: str | None = None,
    query: dict[str, str] | None = None,
    user: str | None = ALICE,
    roles: str | None = None,
) -> dict[str, Any]:
    """events/api/initiate_upload.json re-aimed: `user` None means no authorizer context and no token;
    `roles` what the authorizer's context carries (comma-separated, e.g. "reviewer")."""
    event = load_event("api/initiate_upload")
    event["httpMethod"] = event["requestContext"]["httpMethod"] = method
    event["path"] = path
    event["requestContext"]["path"] = f"/prod{path}"
    event["pathParameters"] = {"proxy": path.lstrip("/")}
    event["body"] = raw_body if raw_body is not None else (None if body is None else json.dumps(body))
    event["queryStringParameters"] = query
    event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()} if query else None
    if user is None:
        del event["requestContext"]["authorizer"]
        for headers in (event["headers"], event["multiValueHeaders"]):
            headers.pop("Authorization")
    else:
        event["requestContext"]["authorizer"].update({"user_id": user, "principalId": user})
        if roles is not None:
            event["requestContext"]["authorizer"]["roles"] = roles
    return event


def call(
    context: FakeLambdaContext,
    method: str,
    path: str,
    *,
    body: Any = None,
    raw_body: str | None = None,
    query: dict[str, str] | None = None,
    user: str | None = ALICE,
    roles: str | None = None,
) -> Answer:
    event = api_event(method, path, body=body, raw_body=raw_body, query=query, user=user, roles=roles)
    response = lambda_handler(event, context)
    text = response.get("body") or "null"
    return Answer(response["statusCode"], response["headers"], json.loads(text))


def call_with(
    context: FakeLambdaContext, method: str, path: str, *, headers: dict[str, str], **kwargs: Any
) -> Answer:
    """`call` with extra request headers (If-None-Match, Authorization, ...)."""
    event = api_event(method, path, **kwargs)
    event["headers"].update(headers)
    event["multiValueHeaders"].update({name: [value] for name, value in headers.items()})
    response = lambda_handler(event, context)
    return Answer(response["statusCode"], response["headers"], json.loads(response.get("body") or "null"))


@pytest.fixture
def signing_secret(cloud: Cloud) -> str:
    """The ARN of the API's token key, which the `cloud` fixture put in (moto's) Secrets Manager."""
    return os.environ["TOKEN_SECRET_ARN"]
