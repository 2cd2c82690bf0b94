"""What the API needs from the outside world: small interfaces, injected into `create_app`."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from fastapi import Request


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


def get_dependencies(request: Request) -> ApiDependencies:
    dependencies: ApiDependencies = request.app.state.dependencies
    return dependencies
