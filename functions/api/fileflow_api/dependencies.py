"""What the API needs from the outside world: small interfaces, injected into `create_app`."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from fastapi import Request

from fileflow_api.access import AccessControl
from fileflow_api.uploads import UploadService


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


def get_dependencies(request: Request) -> ApiDependencies:
    dependencies: ApiDependencies = request.app.state.dependencies
    return dependencies
