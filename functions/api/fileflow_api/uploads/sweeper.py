"""The upload sweeper, domain logic: finish every initiated session past its expiry. No boto3.

For each one: abort its multipart upload (S3 frees the parts; an upload S3 no longer knows is fine),
then look at the key. An object there means the upload did finish (a single PUT or form POST that
was never completed through the API, or a complete that raced the sweep): it is recorded as
completed. Otherwise the session is marked expired, its file item (metadata only, no object) deleted,
and its quota reservation given back. Every
transition is conditional, so a sweep racing the API, or a second sweep, changes nothing twice.
Sessions are swept `grace` after their expiry, so a complete that started just in time can finish.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from fileflow_api.uploads.model import UploadSession, UploadStatus
from fileflow_api.uploads.ports import FileCatalog, ObjectStore, UploadSessionStore, finish_completed
from fileflow_common.clock import utc_now
from fileflow_common.observability import logger

# Stop starting new sessions when less than this is left of the invocation; the next run goes on.
TIME_RESERVE = timedelta(seconds=10)


class UsageRelease(Protocol):
    """What the sweeper needs of fileflow_api.usage.quotas.UsageCounters: give back an expired reservation."""

    def subtract(self, user_id: str, *, size: int, files: int) -> None: ...


class SweepOutcome(StrEnum):
    EXPIRED = "expired"
    COMPLETED = "completed"
    SKIPPED = "skipped"  # another writer finished it first


@dataclass(slots=True)
class SweepReport:
    expired: int = 0
    completed: int = 0
    skipped: int = 0
    failed: int = 0
    stopped_early: bool = False

    def count(self, outcome: SweepOutcome) -> None:
        match outcome:
            case SweepOutcome.EXPIRED:
                self.expired += 1
            case SweepOutcome.COMPLETED:
                self.completed += 1
            case SweepOutcome.SKIPPED:
                self.skipped += 1


class UploadSweeper:
    def __init__(
        self,
        *,
        sessions: UploadSessionStore,
        storage: ObjectStore,
        files: FileCatalog,
        usage: UsageRelease,
        grace: timedelta,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._sessions = sessions
        self._storage = storage
        self._files = files
        self._usage = usage
        self._grace = grace
        self._clock = clock

    def sweep(self, *, time_left: Callable[[], timedelta] | None = None) -> SweepReport:
        report = SweepReport()
        for session in self._sessions.expired(before=self._clock() - self._grace):
            if time_left is not None and time_left() < TIME_RESERVE:
                report.stopped_early = True
                break
            try:
                outcome = self.sweep_one(session)
            except Exception:  # one broken session must not stop the sweep of the others
                logger.exception(
                    "upload sweep failed", extra={"upload_id": session.upload_id, "user_id": session.user_id}
                )
                report.failed += 1
                continue
            report.count(outcome)
            logger.info(
                "upload swept",
                extra={"upload_id": session.upload_id, "user_id": session.user_id, "outcome": outcome},
            )
        return report

    def sweep_one(self, session: UploadSession) -> SweepOutcome:
        if session.s3_upload_id is not None:
            self._storage.abort_multipart_upload(session.key, session.s3_upload_id)
        found = self._storage.head(session.key)
        now = self._clock()
        if found is not None:
            finished, _ = finish_completed(self._sessions, self._files, session, found, at=now)
            if finished.status is UploadStatus.COMPLETED:
                return SweepOutcome.COMPLETED
            return SweepOutcome.SKIPPED
        if not self._sessions.finish(session.finished(UploadStatus.EXPIRED, now)):
            return SweepOutcome.SKIPPED
        self._files.forget(session)
        self._usage.subtract(session.user_id, size=session.size.quota_bytes, files=1)
        return SweepOutcome.EXPIRED
