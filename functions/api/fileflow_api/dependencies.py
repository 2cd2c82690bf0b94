"""What the API needs from the outside world: small interfaces, injected into `create_app`."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from fastapi import Request

from fileflow_api.audit.trail import AuditTrail
from fileflow_api.auth.access import AccessControl
from fileflow_api.core.cursors import CursorCodec
from fileflow_api.events.service import FileEventsService
from fileflow_api.files.service import FileService
from fileflow_api.hls.service import HlsService
from fileflow_api.uploads.service import UploadService

if TYPE_CHECKING:
    from fileflow_api.page.routes import WebPage


class DependencyUnavailableError(Exception):
    """Raised by a probe; `code` is the AWS error code (or exception name), never a stack trace."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class DependencyProbe(Protocol):
    @property
    def name(self) -> str: ...

    def probe(self) -> None:
        """Return when the dependency is usable; raise DependencyUnavailableError otherwise."""
        ...


@dataclass(frozen=True, slots=True)
class ApiDependencies:
    probes: Sequence[DependencyProbe]
    # None (tests of other routes): bearer tokens are refused and nothing is rate limited.
    access: AccessControl | None = field(default=None, kw_only=True)
    # The local cloud's endpoint (AWS_ENDPOINT_URL) when running there; None on AWS.
    local_endpoint: str | None = field(default=None, kw_only=True)
    # None (tests of other routes): the upload routes answer 500.
    uploads: UploadService | None = field(default=None, kw_only=True)
    # None (tests of other routes): the files routes answer 500, and nothing is audited.
    files: FileService | None = field(default=None, kw_only=True)
    audit: AuditTrail | None = field(default=None, kw_only=True)
    # None (tests of other routes): GET /v1/files/{id} and its /events answer 500.
    events: FileEventsService | None = field(default=None, kw_only=True)
    # None (tests of other routes): /v1/files/{id}/hls/... answers 500.
    hls: HlsService | None = field(default=None, kw_only=True)
    # Signs pagination cursors (GET /v1/files, /v1/files/search, /v1/audit).
    cursors: CursorCodec | None = field(default=None, kw_only=True)
    # Loads the upload page's files (the `web` layer) on first use; None: /app answers 404.
    web_page: Callable[[], "WebPage"] | None = field(default=None, kw_only=True)


def get_dependencies(request: Request) -> ApiDependencies:
    dependencies: ApiDependencies = request.app.state.dependencies
    return dependencies
