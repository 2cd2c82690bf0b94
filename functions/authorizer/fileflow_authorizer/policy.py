"""What the authorizer answers API Gateway: an IAM policy for a verified user. No AWS calls here."""

from typing import Any

from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerResponse,
)

from fileflow_common.tokens import TokenClaims


def allow_policy(claims: TokenClaims, method_arn: str) -> dict[str, Any]:
    """Allow every method and path of the calling API's stage, as the verified user with their roles.

    The policy is not scoped to the called route: API Gateway caches it (per token) and applies it to
    every route of the stage, so a narrower policy would deny the user's next, different request.
    """
    context = {"user_id": claims.user_id}
    if claims.roles:
        # Context values are strings, numbers or booleans only: the roles travel comma-separated.
        context["roles"] = ",".join(claims.roles)
    response = APIGatewayAuthorizerResponse.from_route_arn(
        method_arn, principal_id=claims.user_id, context=context
    )
    response.allow_all_routes()
    return response.asdict()
