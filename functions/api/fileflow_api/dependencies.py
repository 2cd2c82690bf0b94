"""What the API needs from the outside world: small interfaces, injected into `create_app`."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from fastapi import Request

from fileflow_api.audit.trail import AuditTrail
from fileflow_api.auth.access import AccessControl
from fileflow_api.core.cursors import CursorCodec
from fileflow_api.events.service import FileEventsService
from fileflow_api.files.service import FileService
from fileflow_api.health.model import DependencyProbe
from fileflow_api.hls.service import HlsService
from fileflow_api.page.assets import WebPage
from fileflow_api.reviews.service import ReviewService
from fileflow_api.uploads.service import UploadService
from fileflow_api.usage.service import UsageService
from fileflow_api.webhooks.service import WebhookService


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiDependencies:
    probes: Sequence[DependencyProbe]
    access: AccessControl
    uploads: UploadService
    files: FileService
    events: FileEventsService
    hls: HlsService
    audit: AuditTrail
    webhooks: WebhookService
    # The human review queue (reviewers only); its decisions resume executions (SendTaskSuccess).
    reviews: ReviewService
    usage: UsageService
    # Signs pagination cursors (GET /v1/files, /v1/files/search, /v1/audit).
    cursors: CursorCodec
    # Loads the upload page's files (the `web` layer) on its first request: the API never waits for it.
    web_page: Callable[[], WebPage]
    # The local cloud's endpoint (AWS_ENDPOINT_URL) when running there; None on AWS, where URLs are AWS's.
    local_endpoint: str | None = None


def get_dependencies(request: Request) -> ApiDependencies:
    dependencies: ApiDependencies = request.app.state.dependencies
    return dependencies
