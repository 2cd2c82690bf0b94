"""Lambda entry point: API Gateway TOKEN authorizer event -> IAM policy, or 401."""

from functools import cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import event_source
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerTokenEvent,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from fileflow_authorizer.policy import allow_policy
from fileflow_authorizer.settings import AuthorizerSettings
from fileflow_common.observability import logger, metrics, tracer
from fileflow_common.token_config import access_token_verifier
from fileflow_common.tokens import InvalidTokenError, TokenVerifier, bearer_token

# The exact error message API Gateway turns into 401 Unauthorized (any other error is a 500).
UNAUTHORIZED = "Unauthorized"


@cache
def verifier() -> TokenVerifier:
    """Built (and its settings validated) once per execution environment; tests cache_clear() it."""
    return access_token_verifier(AuthorizerSettings())  # type: ignore[call-arg]  # from the environment


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_source(data_class=APIGatewayAuthorizerTokenEvent)
def lambda_handler(event: APIGatewayAuthorizerTokenEvent, context: LambdaContext) -> dict[str, Any]:
    try:
        claims = verifier().verify(bearer_token(event.authorization_token))
    except InvalidTokenError as exc:
        # Keys that cannot be fetched (TokenKeysUnavailableError) are not the caller's fault: they fail
        # the invocation, which API Gateway answers with 500, never 401.
        logger.info("token rejected", extra={"reason": str(exc)})
        metrics.add_metric(name="TokensRejected", unit=MetricUnit.Count, value=1)
        raise Exception(UNAUTHORIZED) from None
    logger.info("token accepted", extra={"user_id": claims.user_id})
    metrics.add_metric(name="TokensAccepted", unit=MetricUnit.Count, value=1)
    return allow_policy(claims, event.method_arn)
