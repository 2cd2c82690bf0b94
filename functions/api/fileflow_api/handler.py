"""Lambda entry point: API Gateway REST proxy event -> FastAPI (through Mangum)."""

import time
from collections.abc import Callable
from datetime import timedelta
from functools import cache
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from mangum import Mangum
from mangum.adapter import DEFAULT_TEXT_MIME_TYPES
from mangum.types import LambdaContext

from fileflow_api.app import create_app
from fileflow_api.audit.table import DynamoAuditLog
from fileflow_api.audit.trail import AuditTrail
from fileflow_api.auth.access import AccessControl, UploadTokens
from fileflow_api.auth.ratelimit import RateLimit, RateLimiter
from fileflow_api.core.cursors import CursorCodec, derive_cursor_key
from fileflow_api.dependencies import ApiDependencies
from fileflow_api.events.service import EventsPolicy, FileEventsService
from fileflow_api.events.table import DynamoEventLog
from fileflow_api.files.policy import FilesPolicy
from fileflow_api.files.service import FileService
from fileflow_api.files.storage import S3FileObjects
from fileflow_api.files.table import DynamoFileIndex
from fileflow_api.health.probes import BucketProbe, QueueProbe, TableProbe
from fileflow_api.hls.service import HLS_CONTENT_TYPE, HlsPolicy, HlsService
from fileflow_api.page.assets import WebPage
from fileflow_api.reviews.adapters import S3Thumbnails, SfnTaskTokens
from fileflow_api.reviews.routes import NDJSON
from fileflow_api.reviews.service import ReviewService
from fileflow_api.reviews.table import DynamoReviewStore
from fileflow_api.settings import ApiSettings
from fileflow_api.uploads.callbacks import CallbackPolicy
from fileflow_api.uploads.policy import UploadPolicy
from fileflow_api.uploads.service import UploadService
from fileflow_api.uploads.storage import S3UploadStorage
from fileflow_api.uploads.table import DynamoFileCatalog, DynamoUploadSessionStore, DynamoWebhookEndpoints
from fileflow_api.usage.counters import DynamoUsageCounters, DynamoWindowCounter
from fileflow_api.usage.quotas import Quota, QuotaPolicy, UserQuotas
from fileflow_api.usage.service import AiBudgets, UsageService
from fileflow_api.usage.table import DynamoAiUsageReader
from fileflow_api.webhooks.policy import WebhooksPolicy
from fileflow_api.webhooks.queue import UnconfiguredAttemptQueue
from fileflow_api.webhooks.service import AttemptQueue, WebhookService
from fileflow_api.webhooks.table import DynamoWebhookStore
from fileflow_common.aws import (
    aws_calls,
    dynamodb_client,
    dynamodb_resource,
    s3_client,
    s3_presigner,
    sqs_client,
    stepfunctions_client,
)
from fileflow_common.clock import utc_now
from fileflow_common.observability import logger, metrics, tracer
from fileflow_common.token_config import (
    access_token_verifier,
    signing_key,
    token_minter,
    upload_token_verifier,
)
from fileflow_common.webhooks.queue import SqsAttemptQueue
from fileflow_web import STATIC_FILES, read_static_files


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


def usage_service(settings: ApiSettings, quotas: QuotaPolicy) -> UsageService:
    return UsageService(
        quotas,
        Quota(max_bytes=settings.quota_max_bytes, max_files=settings.quota_max_files),
        DynamoAiUsageReader(dynamodb_resource().Table(settings.table_name)),
        AiBudgets(
            user_daily_micro=round(settings.ai_user_daily_budget_usd * 1_000_000),
            monthly_micro=round(settings.ai_monthly_budget_usd * 1_000_000),
        ),
        utc_now,
    )


def upload_service(settings: ApiSettings, quotas: QuotaPolicy) -> UploadService:
    table = dynamodb_resource().Table(settings.table_name)
    return UploadService(
        sessions=DynamoUploadSessionStore(table),
        storage=S3UploadStorage(s3_client(), settings.bucket_name, presigner=s3_presigner()),
        files=DynamoFileCatalog(table),
        quotas=quotas,
        callbacks=CallbackPolicy(endpoints=DynamoWebhookEndpoints(table), targets=settings.webhook_targets),
        policy=UploadPolicy(
            max_upload_size=settings.max_upload_size,
            allowed_content_types=frozenset(settings.allowed_content_types),
            single_put_threshold=settings.single_put_threshold,
            part_size=settings.part_size,
            url_ttl=timedelta(seconds=settings.presigned_url_ttl_seconds),
            session_ttl=timedelta(seconds=settings.upload_session_ttl_seconds),
        ),
    )


def web_page_loader(settings: ApiSettings) -> Callable[[], WebPage]:
    """The upload page, read from the `web` layer on its first request (the API never waits for it)."""

    @cache
    def load() -> WebPage:
        storage = S3UploadStorage(s3_client(), settings.bucket_name, presigner=s3_presigner())
        return WebPage.build(
            read_static_files(), STATIC_FILES, connect_origins=storage.presigned_url_origins()
        )

    return load


def cursor_codec(settings: ApiSettings) -> CursorCodec:
    """Cursors are signed with a key derived from the token signing secret (cached like the secret)."""
    secret = signing_key(settings)
    return CursorCodec(lambda: derive_cursor_key(secret()))


def file_service(settings: ApiSettings, quotas: QuotaPolicy, cursors: CursorCodec) -> FileService:
    return FileService(
        index=DynamoFileIndex(dynamodb_resource().Table(settings.table_name)),
        objects=S3FileObjects(s3_client(), settings.bucket_name, presigner=s3_presigner()),
        cursors=cursors,
        quotas=quotas,
        policy=FilesPolicy(download_ttl=timedelta(seconds=settings.download_url_ttl_seconds)),
    )


def file_events_service(settings: ApiSettings) -> FileEventsService:
    table = dynamodb_resource().Table(settings.table_name)
    return FileEventsService(
        files=DynamoFileIndex(table),
        events=DynamoEventLog(table),
        policy=EventsPolicy(poll_interval=settings.events_poll_interval_seconds),
    )


def hls_service(settings: ApiSettings) -> HlsService:
    return HlsService(
        files=DynamoFileIndex(dynamodb_resource().Table(settings.table_name)),
        objects=S3FileObjects(s3_client(), settings.bucket_name, presigner=s3_presigner()),
        policy=HlsPolicy(
            url_ttl=timedelta(seconds=settings.download_url_ttl_seconds),
            max_url_ttl=timedelta(seconds=settings.hls_max_url_ttl_seconds),
        ),
    )


def audit_trail(settings: ApiSettings) -> AuditTrail:
    table = dynamodb_resource().Table(settings.audit_table_name)
    return AuditTrail(DynamoAuditLog(table, retention=timedelta(days=settings.audit_retention_days)))


def webhook_service(settings: ApiSettings, cursors: CursorCodec) -> WebhookService:
    queue: AttemptQueue = (
        SqsAttemptQueue(sqs_client(), settings.webhook_queue_url)
        if settings.webhook_queue_url
        else UnconfiguredAttemptQueue()
    )
    return WebhookService(
        store=DynamoWebhookStore(dynamodb_resource().Table(settings.table_name)),
        queue=queue,
        cursors=cursors,
        policy=WebhooksPolicy(
            rotation_overlap=timedelta(seconds=settings.webhook_rotation_overlap_seconds),
            targets=settings.webhook_targets,
        ),
    )


def review_service(settings: ApiSettings, cursors: CursorCodec) -> ReviewService:
    objects = S3FileObjects(s3_client(), settings.bucket_name, presigner=s3_presigner())
    return ReviewService(
        store=DynamoReviewStore(dynamodb_resource().Table(settings.table_name)),
        tokens=SfnTaskTokens(stepfunctions_client),
        thumbnails=S3Thumbnails(objects),
        cursors=cursors,
    )


@cache
def asgi_handler() -> Mangum:
    """Built (and its settings validated) once per execution environment; tests cache_clear() it.

    A REST API proxy event's `path` has no stage prefix ("/health", not "/prod/health"),
    so Mangum's default base path "/" is right.
    """
    settings = ApiSettings()  # type: ignore[call-arg]  # fields come from the environment
    access = access_control(settings)
    cursors = cursor_codec(settings)
    dependencies = ApiDependencies(
        probes=(
            BucketProbe(s3_client(), settings.bucket_name),
            TableProbe(dynamodb_client(), settings.table_name),
            QueueProbe(sqs_client(), settings.queue_url),
        ),
        access=access,
        local_endpoint=settings.local_cloud_endpoint,
        uploads=upload_service(settings, access.quotas),
        files=file_service(settings, access.quotas, cursors),
        events=file_events_service(settings),
        hls=hls_service(settings),
        audit=audit_trail(settings),
        webhooks=webhook_service(settings, cursors),
        reviews=review_service(settings, cursors),
        usage=usage_service(settings, access.quotas),
        cursors=cursors,
        web_page=web_page_loader(settings),
    )
    app = create_app(dependencies, allowed_origins=settings.allowed_origins)
    # Playlists and the feedback export are text: sent as they are, not base64 (which API Gateway passes on
    # without binary types).
    return Mangum(app, lifespan="off", text_mime_types=[*DEFAULT_TEXT_MIME_TYPES, HLS_CONTENT_TYPE, NDJSON])


# clear_state: the keys a request appends (its caller's `user_id`) never leak into the next request's lines.
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    started = time.perf_counter()
    aws_calls.take()  # this request's calls only
    response: dict[str, Any] = asgi_handler()(event, context)
    calls = aws_calls.take()
    # One line per request, with the request's correlation id (the upload's, for its initiate): what
    # `make trace` finds of the API. The path names the file; an upload token in Uppy's paths is not logged.
    # Its AWS calls by operation are what `make bench-cost` prices (docs/cost.md).
    logger.info(
        "request",
        extra={
            "method": event.get("httpMethod"),
            "path": loggable_path(str(event.get("path") or "")),
            "status": response.get("statusCode"),
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            "aws_calls": calls.total,
            "aws_operations": calls.calls,
            "aws_items": calls.items,
        },
    )
    return response


def loggable_path(path: str) -> str:
    """The request's path, with the upload token of `/uppy/{token}/...` replaced: tokens never reach logs."""
    if path.startswith("/uppy/"):
        rest = path.removeprefix("/uppy/").partition("/")[2]
        return f"/uppy/<token>/{rest}"
    return path
