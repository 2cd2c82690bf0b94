"""Lambda entry point: API Gateway REST proxy event -> FastAPI (through Mangum)."""

from functools import cache
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from mangum import Mangum
from mangum.types import LambdaContext

from fileflow_api.app import create_app
from fileflow_api.dependencies import ApiDependencies
from fileflow_api.probes import BucketProbe, QueueProbe, TableProbe
from fileflow_api.settings import ApiSettings
from fileflow_common.aws import dynamodb_client, s3_client, sqs_client
from fileflow_common.observability import logger, metrics, tracer


@cache
def asgi_handler() -> Mangum:
    """Built (and its settings validated) once per execution environment; tests cache_clear() it.

    A REST API proxy event's `path` has no stage prefix ("/health", not "/prod/health"),
    so Mangum's default base path "/" is right.
    """
    settings = ApiSettings()  # type: ignore[call-arg]  # fields come from the environment
    dependencies = ApiDependencies(
        probes=(
            BucketProbe(s3_client(), settings.bucket_name),
            TableProbe(dynamodb_client(), settings.table_name),
            QueueProbe(sqs_client(), settings.queue_url),
        )
    )
    app = create_app(dependencies, allowed_origins=settings.allowed_origins)
    return Mangum(app, lifespan="off")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return asgi_handler()(event, context)
