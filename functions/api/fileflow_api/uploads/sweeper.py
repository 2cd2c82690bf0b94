"""The upload sweeper, domain logic: finish every initiated session past its expiry. No boto3.

For each one: abort its multipart upload (S3 frees the parts; an upload S3 no longer knows is fine),
then look at the key. An object there means the upload did finish (a single PUT or form POST that
was never completed through the API, or a complete that raced the sweep): it is recorded as
completed. Otherwise the session is marked expired, its file item (metadata only, no object) deleted,
and its quota reservation given back. Every
transition is conditional, so a sweep racing the API, or a second sweep, changes nothing twice.
Sessions are swept `grace` after their expiry, so a complete that started just in time can finish.

An expired session is then announced: `upload.expired` queued to the webhook sender. The session is
marked expired and "unannounced" in one write, and announced only once the event is queued, so a failed
send loses nothing: the next sweep announces it first (the same event id, which the sender delivers
once), without expiring anything twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from fileflow_api.uploads.model import UploadSession, UploadStatus
from fileflow_api.uploads.ports import FileCatalog, ObjectStore, UploadSessionStore, finish_completed
from fileflow_common.clock import utc_now
from fileflow_common.observability import logger
from fileflow_common.webhooks.events import EventData, EventMessage, EventType, new_event
from fileflow_common.webhooks.queue import WebhookEvents

# Stop starting new sessions when less than this is left of the invocation; the next run goes on.
TIME_RESERVE = timedelta(seconds=10)


class UsageRelease(Protocol):
    """What the sweeper needs of fileflow_api.usage.quotas.UsageCounters: give back an expired reservation."""

    def subtract(self, user_id: str, *, size: int, files: int) -> None: ...


class SweptSessions(UploadSessionStore, Protocol):
    """The sessions, with the expiries whose `upload.expired` is not queued yet."""

    def unannounced(self) -> Iterator[UploadSession]:
        """Expired sessions whose event was not queued (a send failed), oldest first."""
        ...

    def announced(self, session: UploadSession) -> None:
        """The session's `upload.expired` is queued: it leaves the unannounced ones."""
        ...


class ExpiryNotAnnouncedError(Exception):
    """The session expired, but its `upload.expired` could not be queued: the next sweep sends it."""


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
    # `upload.expired` events queued: this run's expiries, and earlier ones whose send had failed.
    announced: int = 0
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
        sessions: SweptSessions,
        storage: ObjectStore,
        files: FileCatalog,
        usage: UsageRelease,
        webhooks: WebhookEvents,
        grace: timedelta,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._sessions = sessions
        self._storage = storage
        self._files = files
        self._usage = usage
        self._webhooks = webhooks
        self._grace = grace
        self._clock = clock

    def sweep(self, *, time_left: Callable[[], timedelta] | None = None) -> SweepReport:
        report = SweepReport()

        def out_of_time() -> bool:
            if time_left is not None and time_left() < TIME_RESERVE:
                report.stopped_early = True
            return report.stopped_early

        # First the expiries an earlier run could not announce.
        for session in self._sessions.unannounced():
            if out_of_time():
                return report
            try:
                self.announce(session)
            except Exception:
                logger.exception("upload.expired not queued", extra=_ids(session))
                report.failed += 1
                continue
            report.announced += 1
        for session in self._sessions.expired(before=self._clock() - self._grace):
            if out_of_time():
                break
            try:
                outcome = self.sweep_one(session)
            except ExpiryNotAnnouncedError:
                logger.exception("upload expired, upload.expired not queued", extra=_ids(session))
                report.expired += 1
                report.failed += 1
                continue
            except Exception:  # one broken session must not stop the sweep of the others
                logger.exception("upload sweep failed", extra=_ids(session))
                report.failed += 1
                continue
            report.count(outcome)
            if outcome is SweepOutcome.EXPIRED:
                report.announced += 1
            logger.info("upload swept", extra={**_ids(session), "outcome": outcome})
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
        expired = session.finished(UploadStatus.EXPIRED, now)
        if not self._sessions.finish(expired):
            return SweepOutcome.SKIPPED
        self._files.forget(session)
        self._usage.subtract(session.user_id, size=session.size.quota_bytes, files=1)
        try:
            self.announce(expired)
        except Exception as exc:
            raise ExpiryNotAnnouncedError(str(exc)) from exc
        return SweepOutcome.EXPIRED

    def announce(self, session: UploadSession) -> None:
        """Queue the expired session's `upload.expired`, then mark it announced; raises when not queued."""
        self._webhooks.publish(expiry_event(session))
        self._sessions.announced(session)


def expiry_event(session: UploadSession) -> EventMessage:
    return new_event(
        user_id=session.user_id,
        type=EventType.UPLOAD_EXPIRED,
        data=EventData(
            upload_id=session.upload_id, file_id=session.file_id, status=UploadStatus.EXPIRED.value
        ),
        identity=(session.upload_id,),
        # The upload's one-off target hears of its expiry too: it gets the same events as the endpoints.
        callback_url=session.callback_url,
        occurred_at=session.finished_at,
    )


def _ids(session: UploadSession) -> dict[str, str]:
    return {"upload_id": session.upload_id, "user_id": session.user_id}
