"""What /health checks: a dependency probe, and the error a probe raises for an unusable dependency."""

from typing import Protocol


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
