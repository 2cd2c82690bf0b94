"""Who is calling: the user id the API Gateway Lambda authorizer verified, or a token checked here.

Every route that touches a user's resources depends on `current_user`. On AWS the authorizer has
verified the bearer token and put the user id in the request context. Where no authorizer ran
(LocalStack's community edition accepts authorizers but never invokes them; a direct invoke; a
misconfigured route) the function verifies the `Authorization: Bearer` token itself: a request is
never served as somebody without a verified token. Uppy's routes depend on `uppy_user`, which
verifies the upload token in the `{token}` path segment.

Both count the request against the user's rate limit.
"""

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Path, Request
from fastapi.security import HTTPBearer

from fileflow_api.dependencies import get_dependencies
from fileflow_common.errors import FileflowError, InvalidIdentifierError
from fileflow_common.keys import validate_id
from fileflow_common.observability import logger
from fileflow_common.tokens import InvalidTokenError, bearer_token, parse_roles

# Declares the scheme in the OpenAPI document; the token itself is checked by the API Gateway
# authorizer or by `current_user`, so a missing header is not refused here.
BEARER_AUTH = HTTPBearer(
    scheme_name="BearerAuth",
    bearerFormat="JWT",
    description="A Fileflow access token (JWT)",
    auto_error=False,
)


class UnauthenticatedError(FileflowError):
    """No verified identity came with the request."""

    code = "Unauthenticated"


class ForbiddenError(FileflowError):
    """The caller is authenticated but lacks the role the route needs."""

    code = "Forbidden"


@dataclass(frozen=True, slots=True)
class User:
    user_id: str
    # From the token's `roles` claim (through the authorizer's context on AWS): e.g. `reviewer`.
    roles: frozenset[str] = frozenset()

    def has_role(self, role: str) -> bool:
        return role in self.roles


def authorizer_context(request: Request) -> dict[str, Any]:
    event = request.scope.get("aws.event") or {}
    context = (event.get("requestContext") or {}).get("authorizer") or {}
    return context if isinstance(context, dict) else {}


def _authorizer_user(request: Request) -> User | None:
    """The user API Gateway's authorizer verified, if one ran (only API Gateway sets this context)."""
    context = authorizer_context(request)
    user_id = context.get("user_id") or context.get("principalId")
    if not isinstance(user_id, str) or not user_id:
        return None
    raw_roles = context.get("roles") or ""
    try:
        roles = parse_roles(raw_roles if isinstance(raw_roles, str) else None)
        return User(user_id=validate_id(user_id, kind="user id"), roles=frozenset(roles))
    except (InvalidIdentifierError, ValueError) as exc:
        raise UnauthenticatedError("authentication required") from exc


def _bearer_user(request: Request) -> User:
    verifier = get_dependencies(request).access.access_tokens
    try:
        claims = verifier.verify(bearer_token(request.headers.get("authorization")))
    except InvalidTokenError as exc:
        logger.info("bearer token rejected", extra={"reason": str(exc)})
        raise UnauthenticatedError("a valid bearer token is required") from exc
    return User(user_id=claims.user_id, roles=frozenset(claims.roles))


def _count_request(request: Request, user: User) -> User:
    # Every line the request logs from here on (its closing `request` line too) names the caller.
    logger.append_keys(user_id=user.user_id)
    get_dependencies(request).access.rate_limiter.hit(user.user_id)
    return user


def current_user(request: Request) -> User:
    """The authenticated caller of a /v1 route (401 otherwise), counted against their rate limit."""
    user = _authorizer_user(request) or _bearer_user(request)
    return _count_request(request, user)


def uppy_user(
    request: Request,
    token: Annotated[str, Path(description="upload token from POST /v1/upload-tokens")],
) -> User:
    """The owner of the upload token in the `/uppy/{token}/...` path (401 otherwise), rate limited."""
    try:
        claims = get_dependencies(request).access.upload_tokens.verify(token)
    except InvalidTokenError as exc:
        logger.info("upload token rejected", extra={"reason": str(exc)})
        raise UnauthenticatedError("a valid upload token is required") from exc
    return _count_request(request, User(user_id=claims.user_id))
