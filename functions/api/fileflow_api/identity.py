"""Who is calling: the user id the API Gateway Lambda authorizer put in the request context.

Every route that touches a user's resources depends on `current_user`; a request that reached the
function without an authorizer context (a misconfigured route, a direct invoke) is refused with 401,
never served as somebody.
"""

from dataclasses import dataclass
from typing import Any

from fastapi import Request

from fileflow_common.errors import FileflowError
from fileflow_common.keys import validate_id


class UnauthenticatedError(FileflowError):
    """No verified identity came with the request."""

    code = "Unauthenticated"


@dataclass(frozen=True, slots=True)
class User:
    user_id: str


def authorizer_context(request: Request) -> dict[str, Any]:
    event = request.scope.get("aws.event") or {}
    context = (event.get("requestContext") or {}).get("authorizer") or {}
    return context if isinstance(context, dict) else {}


def current_user(request: Request) -> User:
    context = authorizer_context(request)
    user_id = context.get("user_id") or context.get("principalId")
    if not isinstance(user_id, str) or not user_id:
        raise UnauthenticatedError("authentication required")
    return User(user_id=validate_id(user_id, kind="user id"))
