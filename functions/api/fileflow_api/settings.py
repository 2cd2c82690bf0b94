from typing import Annotated

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from fileflow_api.uploads.part_plan import (
    S3_MAX_OBJECT_SIZE,
    S3_MAX_PART_SIZE,
    S3_MAX_SINGLE_PUT_SIZE,
    S3_MIN_PART_SIZE,
    GiB,
    MiB,
)
from fileflow_api.webhooks.policy import DEFAULT_ROTATION_OVERLAP_SECONDS, MAX_ROTATION_OVERLAP_SECONDS
from fileflow_common.audit import AUDIT_RETENTION_DAYS
from fileflow_common.files import MEDIA_TYPE_REGEX
from fileflow_common.settings_types import BucketName, QueueUrl, TableName
from fileflow_common.token_config import TokenSettings
from fileflow_common.webhooks.targets import TargetPolicy

# A media type without parameters, lower case (what the allow-list holds).
MediaType = Annotated[str, Field(pattern=f"^{MEDIA_TYPE_REGEX}$")]
# Images, documents, text and archives; application/octet-stream is what browsers and CLIs send for
# anything they cannot name, so refusing it would refuse ordinary files.
DEFAULT_ALLOWED_CONTENT_TYPES: tuple[str, ...] = (
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    # Not HEIC, HEIF, AVIF or TIFF: the image stage does not process them (detection names and rejects
    # them), so a user learns it at initiate (415), not from a file that always ends rejected.
    "application/pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "text/plain",
    "text/csv",
    "text/markdown",
    "application/json",
    "application/zip",
    "application/x-tar",
    "application/gzip",
    "application/x-gzip",
    "video/mp4",
    "video/quicktime",
    "video/x-m4v",
    "video/webm",
    "application/octet-stream",
)

# An exact browser origin: scheme and host (and port), no path, no trailing slash, no wildcard.
Origin = Annotated[str, Field(pattern=r"^https?://[A-Za-z0-9.-]+(:\d{1,5})?$")]


class ApiSettings(TokenSettings):
    """Environment of the API function, validated once per execution environment.

    ALLOWED_ORIGINS is a JSON list, e.g. ``["https://app.example.com"]``. The token fields
    (TOKEN_SECRET_ARN, TOKEN_ISSUER, JWKS_*) come from TokenSettings.
    """

    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    bucket_name: BucketName
    table_name: TableName
    queue_url: QueueUrl
    allowed_origins: tuple[Origin, ...]
    # Access limits (fileflow_api.auth.access): upload-token lifetime, per-user rate limit and quotas.
    upload_token_ttl_seconds: Annotated[int, Field(ge=60, le=86_400)] = 3600
    rate_limit_requests: Annotated[int, Field(ge=1)] = 300
    rate_limit_window_seconds: Annotated[int, Field(ge=1, le=3600)] = 60
    quota_max_bytes: Annotated[int, Field(ge=0)] = 10 * 1024**3
    quota_max_files: Annotated[int, Field(ge=0)] = 10_000
    # The AI budgets GET /v1/usage reports (the AI stage enforces them; the same context sets both).
    ai_user_daily_budget_usd: Annotated[float, Field(ge=0)] = 1.0
    ai_monthly_budget_usd: Annotated[float, Field(ge=0)] = 100.0
    # Uploads (fileflow_api.uploads.policy): limits, part planning, lifetimes of URLs and sessions.
    max_upload_size: Annotated[int, Field(gt=0, le=S3_MAX_OBJECT_SIZE)] = 100 * GiB
    allowed_content_types: tuple[MediaType, ...] = DEFAULT_ALLOWED_CONTENT_TYPES
    single_put_threshold: Annotated[int, Field(gt=0, le=S3_MAX_SINGLE_PUT_SIZE)] = 16 * MiB
    part_size: Annotated[int, Field(ge=S3_MIN_PART_SIZE, le=S3_MAX_PART_SIZE)] = 8 * MiB
    presigned_url_ttl_seconds: Annotated[int, Field(ge=60, le=12 * 3600)] = 900
    # At most 36 h: the bucket's lifecycle rule aborts multipart uploads 2 days old (the backstop).
    upload_session_ttl_seconds: Annotated[int, Field(ge=900, le=36 * 3600)] = 86_400
    # Files and audit (fileflow_api.files.service, fileflow_api.audit.trail).
    audit_table_name: TableName
    download_url_ttl_seconds: Annotated[int, Field(ge=60, le=3600)] = 300
    audit_retention_days: Annotated[int, Field(ge=1, le=3650)] = AUDIT_RETENTION_DAYS
    # GET /v1/files/{id}/events (fileflow_api.events.service): how often a waiting request reads the events.
    events_poll_interval_seconds: Annotated[float, Field(ge=0.05, le=1.0)] = 0.25
    # HLS segment URLs live the download TTL plus the playlist's duration, at most this long.
    hls_max_url_ttl_seconds: Annotated[int, Field(ge=60, le=12 * 3600)] = 3600
    # Webhooks (fileflow_api.webhooks): the sender's queue (a redelivery is a message on it; unset: 503),
    # http://127.0.0.1 and localhost targets for local development only (the stack refuses it on AWS), and
    # how long a rotated-out secret still signs by default.
    webhook_queue_url: QueueUrl | None = None
    webhooks_allow_local_http: bool = False
    webhook_rotation_overlap_seconds: Annotated[int, Field(ge=0, le=MAX_ROTATION_OVERLAP_SECONDS)] = (
        DEFAULT_ROTATION_OVERLAP_SECONDS
    )
    # Set by LocalStack in every function it runs, never on AWS: the API's URLs are then local ones.
    local_cloud_endpoint: Annotated[str | None, Field(validation_alias="AWS_ENDPOINT_URL")] = None

    @property
    def webhook_targets(self) -> TargetPolicy:
        return TargetPolicy(allow_local_http=self.webhooks_allow_local_http)
