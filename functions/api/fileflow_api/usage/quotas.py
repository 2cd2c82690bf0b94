"""Per-user quotas (bytes stored, files stored): the QuotaPolicy the upload routes call. No AWS code.

The upload initiate route reserves the declared size before it signs anything; the reservation is
released when the upload is aborted or expires, or the file is deleted. An upload of unknown size
(Uppy's multipart) reserves the file only: complete charges the bytes S3 holds (`charge`).
"""

from dataclasses import dataclass
from typing import Protocol

from fileflow_common.errors import FileflowError


class QuotaExceededError(FileflowError):
    """Accepting the upload would take the user over one of their quotas."""

    code = "QuotaExceeded"


@dataclass(frozen=True, slots=True)
class Quota:
    max_bytes: int
    max_files: int

    def __post_init__(self) -> None:
        if self.max_bytes < 0 or self.max_files < 0:
            raise ValueError("quotas are non-negative")


@dataclass(frozen=True, slots=True)
class Usage:
    bytes: int = 0
    files: int = 0


class QuotaPolicy(Protocol):
    def reserve(self, user_id: str, *, size: int) -> None:
        """Count one more file of `size` bytes; raise QuotaExceededError (counting nothing) if over."""
        ...

    def release(self, user_id: str, *, size: int) -> None:
        """Give back what `reserve` counted (upload aborted or expired, file deleted)."""
        ...

    def charge(self, user_id: str, *, size: int) -> None:
        """Count `size` more bytes of a file already reserved; raise QuotaExceededError (counting
        nothing) if over."""
        ...

    def refund(self, user_id: str, *, size: int) -> None:
        """Give back bytes that `charge` counted (the file itself stays counted)."""
        ...

    def usage(self, user_id: str) -> Usage: ...


class UsageCounters(Protocol):
    def add_within(self, user_id: str, *, size: int, files: int, quota: Quota) -> bool:
        """Atomically add to the user's counters if both stay within `quota`; else False, unchanged."""
        ...

    def subtract(self, user_id: str, *, size: int, files: int) -> None:
        """Atomically subtract (never below zero)."""
        ...

    def get(self, user_id: str) -> Usage: ...


class UserQuotas:
    """The QuotaPolicy of the API: one quota for every user, counted by UsageCounters."""

    def __init__(self, counters: UsageCounters, quota: Quota) -> None:
        self._counters = counters
        self._quota = quota

    @property
    def quota(self) -> Quota:
        return self._quota

    def reserve(self, user_id: str, *, size: int) -> None:
        if size < 0:
            raise ValueError("size is a byte count")
        if size > self._quota.max_bytes:
            raise QuotaExceededError(
                f"a file of {size} bytes exceeds the quota of {self._quota.max_bytes} bytes"
            )
        if not self._counters.add_within(user_id, size=size, files=1, quota=self._quota):
            usage = self._counters.get(user_id)
            raise QuotaExceededError(
                f"quota exceeded: {usage.files} of {self._quota.max_files} files, "
                f"{usage.bytes} of {self._quota.max_bytes} bytes in use; this upload needs {size} bytes more"
            )

    def release(self, user_id: str, *, size: int) -> None:
        if size < 0:
            raise ValueError("size is a byte count")
        self._counters.subtract(user_id, size=size, files=1)

    def charge(self, user_id: str, *, size: int) -> None:
        if size < 0:
            raise ValueError("size is a byte count")
        # The same conditional counters as `reserve`: concurrent charges never pass the quota.
        if not self._counters.add_within(user_id, size=size, files=0, quota=self._quota):
            usage = self._counters.get(user_id)
            raise QuotaExceededError(
                f"quota exceeded: {usage.bytes} of {self._quota.max_bytes} bytes in use;"
                f" this upload holds {size} bytes more"
            )

    def refund(self, user_id: str, *, size: int) -> None:
        if size < 0:
            raise ValueError("size is a byte count")
        self._counters.subtract(user_id, size=size, files=0)

    def usage(self, user_id: str) -> Usage:
        return self._counters.get(user_id)
