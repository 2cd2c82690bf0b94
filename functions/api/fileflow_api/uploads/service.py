"""Upload sessions, domain logic: initiate, sign parts, list parts, complete, abort, status. No boto3.

Every lookup is by (user, upload id): another user's upload is "not found", never "forbidden".
S3 is the truth about bytes (ListParts, HeadObject); the table is the truth about the session's state,
changed only by conditional writes. A refused request never aborts or deletes anything.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta

from fileflow_api.uploads.callbacks import CallbackPolicy, check_priority
from fileflow_api.uploads.errors import (
    MultipartUploadGoneError,
    NotMultipartUploadError,
    NotUploadedError,
    PartNumberOutOfRangeError,
    UploadNotFoundError,
    state_error,
)
from fileflow_api.uploads.initiate import start_upload
from fileflow_api.uploads.model import (
    BrowserUpload,
    ClientPart,
    CompletedObject,
    DeclaredSize,
    InitiatedUpload,
    NewUpload,
    PartRequest,
    PartsPage,
    SignedPart,
    SignedParts,
    StoredPart,
    UnknownSize,
    UploadMode,
    UploadProgress,
    UploadSession,
    UploadStatus,
)
from fileflow_api.uploads.part_plan import S3_MAX_PARTS
from fileflow_api.uploads.policy import (
    UploadPolicy,
    normalize_sha256,
    part_checksum,
    parts_to_complete,
    sha256_at_complete,
)
from fileflow_api.uploads.ports import FileCatalog, UploadSessionStore, UploadStorage, finish_completed
from fileflow_api.usage.quotas import QuotaExceededError, QuotaPolicy
from fileflow_common.clock import utc_now
from fileflow_common.keys import ID_PATTERN, upload_key


def new_id() -> str:
    return uuid.uuid4().hex


class UploadService:
    def __init__(
        self,
        *,
        sessions: UploadSessionStore,
        storage: UploadStorage,
        files: FileCatalog,
        policy: UploadPolicy,
        quotas: QuotaPolicy,
        callbacks: CallbackPolicy,
        clock: Callable[[], datetime] = utc_now,
        ids: Callable[[], str] = new_id,
    ) -> None:
        self._sessions = sessions
        self._callbacks = callbacks
        self._storage = storage
        self._files = files
        self._policy = policy
        self._quotas = quotas
        self._clock = clock
        self._ids = ids

    @property
    def bucket_name(self) -> str:
        return self._storage.bucket_name

    def object_url(self, key: str) -> str:
        return self._storage.object_url(key)

    # --- initiate: one path for every kind of upload --------------------------------------------------------

    def initiate(self, user_id: str, new: NewUpload | BrowserUpload) -> InitiatedUpload:
        """A presigned PUT below the single-PUT threshold, else planned parts; Uppy's as it asks."""
        size = new.declared_size
        filename, content_type = self._policy.check_file(new.filename, new.content_type, size)
        sha256 = None
        if isinstance(new, NewUpload) and new.sha256 is not None:
            sha256 = normalize_sha256(new.sha256)
        priority = check_priority(new.priority)
        callback_url = None if new.callback_url is None else self._callbacks.check(user_id, new.callback_url)
        with self._quota_reserved(user_id, size.quota_bytes):
            now, file_id = self._clock(), self._ids()
            key = upload_key(user_id, file_id)
            started = start_upload(self._storage, self._policy, key, new, content_type, sha256, now)
            session = UploadSession(
                user_id=user_id,
                upload_id=self._ids(),
                file_id=file_id,
                key=key,
                mode=started.mode,
                filename=filename,
                content_type=content_type,
                size=size,
                plan=started.plan,
                status=UploadStatus.INITIATED,
                created_at=now,
                expires_at=started.expires_at,
                s3_upload_id=started.s3_upload_id,
                sha256=sha256,
                checksum_algorithm=started.checksum_algorithm,
                correlation_id=new.correlation_id,
                priority=priority,
                callback_url=callback_url,
                analysis=new.analysis,
            )
            # The session, then the file item's metadata: both exist before any URL is handed out.
            self._sessions.create(session)
            self._files.declare(session, at=session.created_at)
        return InitiatedUpload(session=session, single=started.single, post=started.post)

    # --- parts ---------------------------------------------------------------------------------------------

    def sign_parts(
        self, user_id: str, upload_id: str, requests: Sequence[PartRequest], *, key: str | None = None
    ) -> SignedParts:
        session = self._active_multipart(user_id, upload_id, key, action="sign parts")
        now = self._clock()
        if now >= session.expires_at:
            raise state_error(session.finished(UploadStatus.EXPIRED, now), "sign parts")
        plan = session.plan
        self._policy.check_part_requests(plan, requests)
        # No URL outlives its session: an expired session's parts can be swept safely.
        ttl = min(self._policy.url_ttl, session.expires_at - now)
        expires_in = max(1, int(ttl.total_seconds()))
        assert session.s3_upload_id is not None
        signed = []
        for request in requests:
            size = plan.part_length(request.part_number) if plan is not None else None
            presigned = self._storage.presign_part(
                session.key,
                session.s3_upload_id,
                request.part_number,
                size=size,
                checksum=part_checksum(session, request),
                expires_in=expires_in,
            )
            signed.append(SignedPart(part_number=request.part_number, size=size, request=presigned))
        return SignedParts(
            parts=signed, expires_at=now + timedelta(seconds=expires_in), expires_in=expires_in
        )

    def list_parts(
        self, user_id: str, upload_id: str, *, after: int = 0, key: str | None = None
    ) -> PartsPage:
        """One page of the parts S3 holds (up to 1,000): what a resuming client need not send again."""
        session = self._active_multipart(user_id, upload_id, key, action="list parts")
        assert session.s3_upload_id is not None
        if not 0 <= after < S3_MAX_PARTS:
            raise PartNumberOutOfRangeError(f"cursor must be a part number from 0 to {S3_MAX_PARTS - 1}")
        return self._storage.list_parts(session.key, session.s3_upload_id, after=after)

    def all_parts(self, user_id: str, upload_id: str, *, key: str | None = None) -> list[StoredPart]:
        session = self._active_multipart(user_id, upload_id, key, action="list parts")
        assert session.s3_upload_id is not None
        return self._storage.all_parts(session.key, session.s3_upload_id)

    # --- complete, abort, status ---------------------------------------------------------------------------

    def complete(
        self,
        user_id: str,
        upload_id: str,
        *,
        key: str | None = None,
        client_parts: Sequence[ClientPart] | None = None,
        sha256: str | None = None,
    ) -> UploadSession:
        """Check what S3 holds against the plan (or the client's list), then complete. Repeatable.

        `sha256`: the whole file's, declared here instead of at initiate (a client that hashed while
        sending). Stored on the session and the file item before S3 completes the object, so the
        processor, which starts from the object, verifies the bytes against it."""
        session = self._load(user_id, upload_id, key)
        declared = sha256_at_complete(session, sha256) if sha256 is not None else None
        if session.status is UploadStatus.COMPLETED:
            return session
        if session.status is not UploadStatus.INITIATED:
            raise state_error(session, "complete")
        if session.mode is UploadMode.SINGLE:
            found = self._storage.head(session.key)
            if found is None:
                raise NotUploadedError(f"nothing has been uploaded for upload {upload_id} yet")
            self._policy.check_total(session, found.size)
            return self._finish(session, found)
        s3_upload_id = session.s3_upload_id
        assert s3_upload_id is not None
        try:
            held = self._storage.all_parts(session.key, s3_upload_id)
            parts = parts_to_complete(session, held, client_parts)
            total = sum(part.size for part in parts)
            self._policy.check_total(session, total)
            if declared is not None:
                session = self._declare_sha256(session, declared)
            if isinstance(session.size, UnknownSize):
                return self._complete_charged(session, parts, total)
            completed = self._storage.complete_multipart_upload(session.key, s3_upload_id, parts)
        except MultipartUploadGoneError:
            return self._after_multipart_gone(session)
        return self._finish(session, completed)

    def abort(self, user_id: str, upload_id: str, *, key: str | None = None) -> UploadSession:
        """Abort the multipart upload (S3 frees its parts) and mark the session aborted. Repeatable."""
        session = self._load(user_id, upload_id, key)
        if session.status is UploadStatus.ABORTED:
            return session
        if session.status is not UploadStatus.INITIATED:
            raise state_error(session, "abort")
        if session.s3_upload_id is not None:
            self._storage.abort_multipart_upload(session.key, session.s3_upload_id)
        found = self._storage.head(session.key)
        if found is not None:  # it was completed in S3 meanwhile: record it, and say so
            raise state_error(self._finish(session, found), "abort")
        aborted = session.finished(UploadStatus.ABORTED, self._clock())
        if self._sessions.finish(aborted):
            self._files.forget(session)
            self._quotas.release(user_id, size=session.size.quota_bytes)
            return aborted
        current = self._load(user_id, upload_id, key)
        if current.status is UploadStatus.ABORTED:
            return current
        raise state_error(current, "abort")

    def progress(self, user_id: str, upload_id: str) -> UploadProgress:
        session = self._load(user_id, upload_id, None)
        if session.status is UploadStatus.COMPLETED:
            size = session.result.size if session.result else session.size.quota_bytes
            return UploadProgress(session, bytes_received=size, parts_received=session.part_count)
        if session.status is not UploadStatus.INITIATED:
            return UploadProgress(session, bytes_received=0, parts_received=0)
        if session.s3_upload_id is None:
            found = self._storage.head(session.key)
            received = 0 if found is None else found.size
            return UploadProgress(session, bytes_received=received, parts_received=int(found is not None))
        try:
            parts = self._storage.all_parts(session.key, session.s3_upload_id)
        except MultipartUploadGoneError:
            parts = []
        return UploadProgress(
            session, bytes_received=sum(part.size for part in parts), parts_received=len(parts)
        )

    # --- internals -----------------------------------------------------------------------------------------

    @contextmanager
    def _quota_reserved(self, user_id: str, size: int) -> Iterator[None]:
        """Count the upload against the user's quota; give it back if the upload cannot be created."""
        self._quotas.reserve(user_id, size=size)
        try:
            yield
        except BaseException:
            self._quotas.release(user_id, size=size)
            raise

    def _complete_charged(
        self, session: UploadSession, parts: Sequence[StoredPart], total: int
    ) -> UploadSession:
        """An upload of unknown size: charge the quota what S3 holds, then complete; past the quota, abort.

        Charged before S3 completes, so no object exists that the quota did not count.
        """
        assert session.s3_upload_id is not None
        extra = total - session.size.quota_bytes  # what initiate reserved: the file, no bytes
        try:
            self._quotas.charge(session.user_id, size=extra)
        except QuotaExceededError:
            self._abort_over_quota(session)
            raise
        charged = replace(session, size=DeclaredSize(total))
        try:
            completed = self._storage.complete_multipart_upload(session.key, session.s3_upload_id, parts)
        except BaseException:
            # Gone: completed by a concurrent call (which charged it) or aborted; else S3 failed.
            self._quotas.refund(session.user_id, size=extra)
            raise
        finished, won = finish_completed(self._sessions, self._files, charged, completed, at=self._clock())
        if not won:  # a concurrent complete (or the sweeper) recorded it: that one counts
            self._quotas.refund(session.user_id, size=extra)
        if finished.status is not UploadStatus.COMPLETED:
            raise state_error(finished, "complete")
        return finished

    def _abort_over_quota(self, session: UploadSession) -> None:
        """A complete the quota refused: S3 frees the parts and the session ends aborted, like an abort."""
        assert session.s3_upload_id is not None
        self._storage.abort_multipart_upload(session.key, session.s3_upload_id)
        if self._sessions.finish(session.finished(UploadStatus.ABORTED, self._clock())):
            self._files.forget(session)
            self._quotas.release(session.user_id, size=session.size.quota_bytes)

    def _after_multipart_gone(self, session: UploadSession) -> UploadSession:
        """S3 no longer holds the multipart upload: completed by a concurrent call, or aborted/swept."""
        found = self._storage.head(session.key)
        if found is not None:
            return self._finish(session, found)
        current = self._load(session.user_id, session.upload_id, None)
        if current.status is UploadStatus.COMPLETED:
            return current
        if current.status is not UploadStatus.INITIATED:
            raise state_error(current, "complete")
        raise MultipartUploadGoneError(
            f"S3 no longer holds the parts of upload {session.upload_id} (aborted or expired)"
        )

    def _declare_sha256(self, session: UploadSession, sha256: str) -> UploadSession:
        """The session, then the file item, hold `sha256` (repeatable: a retried complete rewrites it)."""
        now = self._clock()
        if session.sha256 is None and not self._sessions.declare_sha256(session, sha256, at=now):
            # A concurrent complete declared first (or finished the upload): check against that one.
            current = self._load(session.user_id, session.upload_id, None)
            sha256_at_complete(current, sha256)
            if current.status is not UploadStatus.INITIATED:
                raise state_error(current, "complete")
        declared = replace(session, sha256=sha256)
        self._files.declare_sha256(declared, at=now)
        return declared

    def _finish(self, session: UploadSession, completed: CompletedObject) -> UploadSession:
        finished, _ = finish_completed(self._sessions, self._files, session, completed, at=self._clock())
        if finished.status is not UploadStatus.COMPLETED:
            raise state_error(finished, "complete")
        return finished

    def _load(self, user_id: str, upload_id: str, key: str | None) -> UploadSession:
        session = None
        if ID_PATTERN.fullmatch(upload_id):
            session = self._sessions.get(user_id, upload_id)
        if session is None or (key is not None and key != session.key):
            raise UploadNotFoundError(f"no upload {upload_id[:64]!r}")
        return session

    def _active_multipart(
        self, user_id: str, upload_id: str, key: str | None, *, action: str
    ) -> UploadSession:
        session = self._load(user_id, upload_id, key)
        if session.status is not UploadStatus.INITIATED:
            raise state_error(session, action)
        if session.mode is not UploadMode.MULTIPART:
            raise NotMultipartUploadError(f"upload {upload_id} is a single PUT: it has no parts")
        return session
