"""Lambda entry point: API Gateway REST proxy event -> FastAPI (through Mangum)."""

from datetime import timedelta
from functools import cache
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from mangum import Mangum
from mangum.types import LambdaContext

from fileflow_api.access import AccessControl, UploadTokens
from fileflow_api.app import create_app
from fileflow_api.counters import DynamoUsageCounters, DynamoWindowCounter
from fileflow_api.dependencies import ApiDependencies
from fileflow_api.probes import BucketProbe, QueueProbe, TableProbe
from fileflow_api.quotas import Quota, QuotaPolicy, UserQuotas
from fileflow_api.ratelimit import RateLimit, RateLimiter
from fileflow_api.settings import ApiSettings
from fileflow_api.uploads import UploadPolicy, UploadService
from fileflow_common.aws import dynamodb_client, dynamodb_resource, s3_client, s3_presigner, sqs_client
from fileflow_common.observability import logger, metrics, tracer
from fileflow_common.token_config import access_token_verifier, token_minter, upload_token_verifier
from fileflow_common.upload_storage import S3UploadStorage
from fileflow_common.upload_table import DynamoFileCatalog, DynamoUploadSessionStore


def access_control(settings: ApiSettings) -> AccessControl:
    table = dynamodb_resource().Table(settings.table_name)
    return AccessControl(
        access_tokens=access_token_verifier(settings),
        upload_tokens=UploadTokens(
            minter=token_minter(settings),
            verifier=upload_token_verifier(settings),
            ttl=timedelta(seconds=settings.upload_token_ttl_seconds),
        ),
        rate_limiter=RateLimiter(
            DynamoWindowCounter(table),
            RateLimit(
                requests=settings.rate_limit_requests, window_seconds=settings.rate_limit_window_seconds
            ),
        ),
        quotas=UserQuotas(
            DynamoUsageCounters(table),
            Quota(max_bytes=settings.quota_max_bytes, max_files=settings.quota_max_files),
        ),
    )


def upload_service(settings: ApiSettings, quotas: QuotaPolicy) -> UploadService:
    table = dynamodb_resource().Table(settings.table_name)
    return UploadService(
        sessions=DynamoUploadSessionStore(table),
        storage=S3UploadStorage(s3_client(), settings.bucket_name, presigner=s3_presigner()),
        files=DynamoFileCatalog(table),
        quotas=quotas,
        policy=UploadPolicy(
            max_upload_size=settings.max_upload_size,
            allowed_content_types=frozenset(settings.allowed_content_types),
            single_put_threshold=settings.single_put_threshold,
            part_size=settings.part_size,
            url_ttl=timedelta(seconds=settings.presigned_url_ttl_seconds),
            session_ttl=timedelta(seconds=settings.upload_session_ttl_seconds),
        ),
    )


@cache
def asgi_handler() -> Mangum:
    """Built (and its settings validated) once per execution environment; tests cache_clear() it.

    A REST API proxy event's `path` has no stage prefix ("/health", not "/prod/health"),
    so Mangum's default base path "/" is right.
    """
    settings = ApiSettings()  # type: ignore[call-arg]  # fields come from the environment
    access = access_control(settings)
    dependencies = ApiDependencies(
        probes=(
            BucketProbe(s3_client(), settings.bucket_name),
            TableProbe(dynamodb_client(), settings.table_name),
            QueueProbe(sqs_client(), settings.queue_url),
        ),
        access=access,
        local_endpoint=settings.local_cloud_endpoint,
        uploads=upload_service(settings, access.quotas),
    )
    app = create_app(dependencies, allowed_origins=settings.allowed_origins)
    return Mangum(app, lifespan="off")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return asgi_handler()(event, context)
