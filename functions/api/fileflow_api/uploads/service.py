"""Upload sessions, domain logic: initiate, sign parts, list parts, complete, abort, status. No boto3.

Every lookup is by (user, upload id): another user's upload is "not found", never "forbidden".
S3 is the truth about bytes (ListParts, HeadObject); the table is the truth about the session's state,
changed only by conditional writes. A refused request never aborts or deletes anything.
"""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from fileflow_api.uploads.filenames import sanitize_filename
from fileflow_api.uploads.part_plan import S3_MAX_PARTS, S3_MAX_SINGLE_PUT_SIZE, S3_MIN_PART_SIZE, plan_parts
from fileflow_api.uploads.session import (
    Checksum,
    ChecksumAlgorithm,
    FileCatalog,
    MultipartUploadGoneError,
    ObjectStore,
    PartsPage,
    PresignedPost,
    PresignedRequest,
    StoredObject,
    StoredPart,
    UploadMode,
    UploadNotFoundError,
    UploadSession,
    UploadSessionStore,
    UploadStatus,
    finish_completed,
    state_error,
)
from fileflow_api.usage.quotas import QuotaPolicy
from fileflow_common.clock import utc_now
from fileflow_common.errors import FileflowError
from fileflow_common.files import MEDIA_TYPE
from fileflow_common.keys import ID_PATTERN, upload_key

# --- errors (mapped to HTTP in fileflow_api.errors) -------------------------------------------------------


class UploadTooLargeError(FileflowError):
    code = "UploadTooLarge"


class UnsupportedContentTypeError(FileflowError):
    code = "UnsupportedContentType"


class InvalidContentTypeError(FileflowError):
    code = "InvalidContentType"


class PartNumberOutOfRangeError(FileflowError):
    code = "PartNumberOutOfRange"


class InvalidPartRequestError(FileflowError):
    """Duplicate part numbers, too many at once, or a checksum of another algorithm than the upload's."""

    code = "InvalidPartRequest"


class InvalidChecksumError(FileflowError):
    """A checksum that cannot be one: not hex/base64, or not the algorithm's digest length."""

    code = "InvalidChecksum"


class NotMultipartUploadError(FileflowError):
    code = "NotMultipartUpload"


class NotUploadedError(FileflowError):
    """Complete of a single-PUT upload whose object S3 does not hold yet."""

    code = "NotUploaded"


class MissingPartsError(FileflowError):
    code = "MissingParts"


class PartSizeMismatchError(FileflowError):
    code = "PartSizeMismatch"


class PartMismatchError(FileflowError):
    """A part the client lists is not the one S3 holds (another ETag)."""

    code = "PartMismatch"


class SizeMismatchError(FileflowError):
    code = "SizeMismatch"


# --- policy and ports ---------------------------------------------------------------------------------------

_HEADER_SAFE = re.compile(r"[\x20-\x7e]*")
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_CHECKSUM_BYTES = {ChecksumAlgorithm.SHA256: 32, ChecksumAlgorithm.CRC32C: 4}
# Listing more than this many part numbers in one example of a refusal helps nobody.
_LISTED_IN_ERRORS = 20


@dataclass(frozen=True, slots=True)
class UploadPolicy:
    max_upload_size: int
    allowed_content_types: frozenset[str]
    single_put_threshold: int  # below it: one presigned PUT; from it on: multipart
    part_size: int  # the preferred part size (larger when 10,000 parts would not hold the file)
    url_ttl: timedelta
    session_ttl: timedelta
    max_parts_per_request: int = 100


class UploadStorage(ObjectStore, Protocol):
    @property
    def bucket_name(self) -> str: ...

    def object_url(self, key: str) -> str: ...

    def create_multipart_upload(
        self,
        key: str,
        *,
        content_type: str,
        checksum_algorithm: ChecksumAlgorithm | None,
        correlation_id: str | None = None,
    ) -> str: ...

    def presign_put(
        self, key: str, *, size: int, content_type: str, checksum: Checksum | None, expires_in: int
    ) -> PresignedRequest: ...

    def presign_part(
        self,
        key: str,
        s3_upload_id: str,
        part_number: int,
        *,
        size: int | None,
        checksum: Checksum | None,
        expires_in: int,
    ) -> PresignedRequest: ...

    def presign_post(
        self,
        key: str,
        *,
        content_type: str,
        min_size: int,
        max_size: int,
        expires_in: int,
        correlation_id: str | None = None,
    ) -> PresignedPost: ...

    def list_parts(self, key: str, s3_upload_id: str, *, after: int = 0, limit: int = 1000) -> PartsPage: ...

    def all_parts(self, key: str, s3_upload_id: str) -> list[StoredPart]: ...

    def complete_multipart_upload(
        self, key: str, s3_upload_id: str, parts: Sequence[StoredPart]
    ) -> StoredObject: ...


# --- requests and results ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NewUpload:
    filename: str
    size: int
    content_type: str
    sha256: str | None = None  # hex
    checksum_algorithm: ChecksumAlgorithm | None = None  # per-part checksums the client will send
    correlation_id: str | None = None  # the initiating API request's (fileflow_api.core.correlation)


@dataclass(frozen=True, slots=True)
class InitiatedUpload:
    session: UploadSession
    single: PresignedRequest | None  # mode "single": where to PUT the whole file


@dataclass(frozen=True, slots=True)
class PartRequest:
    part_number: int
    checksum: Checksum | None = None


@dataclass(frozen=True, slots=True)
class SignedPart:
    part_number: int
    size: int | None  # None for Uppy sessions, whose part sizes the browser chooses
    request: PresignedRequest


@dataclass(frozen=True, slots=True)
class SignedParts:
    parts: list[SignedPart]
    expires_at: datetime
    expires_in: int  # seconds


@dataclass(frozen=True, slots=True)
class ClientPart:
    """A part as a client lists it on complete (Uppy): its number and the ETag S3 gave it."""

    part_number: int
    etag: str


@dataclass(frozen=True, slots=True)
class UploadProgress:
    session: UploadSession
    bytes_received: int
    parts_received: int | None  # None when it cannot be known (a completed Uppy upload)


def new_id() -> str:
    return uuid.uuid4().hex


def sha256_checksum(hex_digest: str) -> Checksum:
    """The whole-file SHA-256 (hex, as clients declare it) as S3 wants it: base64 of the digest."""
    return Checksum(ChecksumAlgorithm.SHA256, base64.b64encode(bytes.fromhex(hex_digest)).decode())


def normalize_sha256(value: str) -> str:
    digest = value.strip().lower()
    if not _SHA256_HEX.fullmatch(digest):
        raise InvalidChecksumError("sha256 must be the 64 hex digits of the file's SHA-256")
    return digest


def validate_checksum(checksum: Checksum) -> Checksum:
    """A part checksum must be the base64 of a digest of the algorithm's size."""
    try:
        raw = base64.b64decode(checksum.value, validate=True)
    except ValueError as exc:
        raise InvalidChecksumError(f"{checksum.algorithm} checksum is not base64") from exc
    if len(raw) != _CHECKSUM_BYTES[checksum.algorithm]:
        raise InvalidChecksumError(
            f"{checksum.algorithm} checksum must encode {_CHECKSUM_BYTES[checksum.algorithm]} bytes"
        )
    return checksum


class UploadService:
    def __init__(
        self,
        *,
        sessions: UploadSessionStore,
        storage: UploadStorage,
        files: FileCatalog,
        policy: UploadPolicy,
        quotas: QuotaPolicy | None = None,
        clock: Callable[[], datetime] = utc_now,
        ids: Callable[[], str] = new_id,
    ) -> None:
        self._sessions = sessions
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

    # --- initiate ------------------------------------------------------------------------------------------

    def initiate(self, user_id: str, new: NewUpload) -> InitiatedUpload:
        """A presigned PUT below the single-PUT threshold, else a planned multipart upload."""
        filename, content_type = self._check_file(new.filename, new.content_type, new.size)
        sha256 = normalize_sha256(new.sha256) if new.sha256 is not None else None
        with self._quota_reserved(user_id, new.size):
            return self._initiate(user_id, new, filename, content_type, sha256)

    def _initiate(
        self, user_id: str, new: NewUpload, filename: str, content_type: str, sha256: str | None
    ) -> InitiatedUpload:
        now, file_id = self._clock(), self._ids()
        key = upload_key(user_id, file_id)
        correlation_id = new.correlation_id
        if new.size < self._policy.single_put_threshold:
            expires_at = now + self._policy.url_ttl  # the URL is the whole session: it cannot be re-signed
            single = self._storage.presign_put(
                key,
                size=new.size,
                content_type=content_type,
                checksum=sha256_checksum(sha256) if sha256 else None,
                expires_in=self._seconds(self._policy.url_ttl),
            )
            session = self._new_session(
                user_id=user_id,
                file_id=file_id,
                mode=UploadMode.SINGLE,
                filename=filename,
                content_type=content_type,
                size=new.size,
                now=now,
                expires_at=expires_at,
                part_size=new.size,
                part_count=1,
                sha256=sha256,
                correlation_id=correlation_id,
            )
            self._create(session)
            return InitiatedUpload(session=session, single=single)
        plan = plan_parts(new.size, preferred_part_size=self._policy.part_size)
        s3_upload_id = self._storage.create_multipart_upload(
            key,
            content_type=content_type,
            checksum_algorithm=new.checksum_algorithm,
            correlation_id=correlation_id,
        )
        session = self._new_session(
            user_id=user_id,
            file_id=file_id,
            mode=UploadMode.MULTIPART,
            filename=filename,
            content_type=content_type,
            size=new.size,
            now=now,
            expires_at=now + self._policy.session_ttl,
            part_size=plan.part_size,
            part_count=plan.part_count,
            s3_upload_id=s3_upload_id,
            sha256=sha256,
            checksum_algorithm=new.checksum_algorithm,
            correlation_id=correlation_id,
        )
        self._create(session)
        return InitiatedUpload(session=session, single=None)

    def initiate_unplanned_multipart(
        self,
        user_id: str,
        *,
        filename: str,
        content_type: str,
        size: int | None,
        correlation_id: str | None = None,
    ) -> UploadSession:
        """Uppy's multipart flow: the browser chooses the part size and never declares the file's size."""
        filename, content_type = self._check_file(filename, content_type, size)
        now, file_id = self._clock(), self._ids()
        key = upload_key(user_id, file_id)
        with self._quota_reserved(user_id, size or 0):
            s3_upload_id = self._storage.create_multipart_upload(
                key, content_type=content_type, checksum_algorithm=None, correlation_id=correlation_id
            )
            session = self._new_session(
                user_id=user_id,
                file_id=file_id,
                mode=UploadMode.MULTIPART,
                filename=filename,
                content_type=content_type,
                size=size,
                now=now,
                expires_at=now + self._policy.session_ttl,
                s3_upload_id=s3_upload_id,
                correlation_id=correlation_id,
            )
            self._create(session)
        return session

    def initiate_form_post(
        self,
        user_id: str,
        *,
        filename: str,
        content_type: str,
        size: int | None,
        correlation_id: str | None = None,
    ) -> tuple[UploadSession, PresignedPost]:
        """Uppy's simple flow: one presigned POST (form upload) bounded by the size policy."""
        filename, content_type = self._check_file(filename, content_type, size)
        now, file_id = self._clock(), self._ids()
        key = upload_key(user_id, file_id)
        largest = min(self._policy.max_upload_size, S3_MAX_SINGLE_PUT_SIZE)
        with self._quota_reserved(user_id, size or 0):
            post = self._storage.presign_post(
                key,
                content_type=content_type,
                min_size=size if size is not None else 0,
                max_size=size if size is not None else largest,
                expires_in=self._seconds(self._policy.url_ttl),
                correlation_id=correlation_id,
            )
            session = self._new_session(
                user_id=user_id,
                file_id=file_id,
                mode=UploadMode.SINGLE,
                filename=filename,
                content_type=content_type,
                size=size,
                now=now,
                expires_at=now + self._policy.url_ttl,
                part_count=1,
                correlation_id=correlation_id,
            )
            self._create(session)
        return session, post

    # --- parts ---------------------------------------------------------------------------------------------

    def sign_parts(
        self, user_id: str, upload_id: str, requests: Sequence[PartRequest], *, key: str | None = None
    ) -> SignedParts:
        session = self._active_multipart(user_id, upload_id, key, action="sign parts")
        now = self._clock()
        if now >= session.expires_at:
            raise state_error(session.finished(UploadStatus.EXPIRED, now), "sign parts")
        if not requests or len(requests) > self._policy.max_parts_per_request:
            raise InvalidPartRequestError(
                f"sign 1 to {self._policy.max_parts_per_request} parts per request, not {len(requests)}"
            )
        numbers = [request.part_number for request in requests]
        if len(set(numbers)) != len(numbers):
            raise InvalidPartRequestError("each part number may appear once per request")
        highest = session.part_count if session.is_planned and session.part_count else S3_MAX_PARTS
        out_of_range = [number for number in numbers if not 1 <= number <= highest]
        if out_of_range:
            raise PartNumberOutOfRangeError(
                f"part number {out_of_range[0]} is out of range: this upload has parts 1 to {highest}"
            )
        # No URL outlives its session: an expired session's parts can be swept safely.
        ttl = min(self._policy.url_ttl, session.expires_at - now)
        expires_in = max(1, int(ttl.total_seconds()))
        assert session.s3_upload_id is not None
        signed = []
        for request in requests:
            size = session.planned_part_size(request.part_number) if session.is_planned else None
            presigned = self._storage.presign_part(
                session.key,
                session.s3_upload_id,
                request.part_number,
                size=size,
                checksum=self._part_checksum(session, request),
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
    ) -> UploadSession:
        """Check what S3 holds against the plan (or the client's list), then complete. Repeatable."""
        session = self._load(user_id, upload_id, key)
        if session.status is UploadStatus.COMPLETED:
            return session
        if session.status is not UploadStatus.INITIATED:
            raise state_error(session, "complete")
        if session.mode is UploadMode.SINGLE:
            stored = self._storage.head(session.key)
            if stored is None:
                raise NotUploadedError(f"nothing has been uploaded for upload {upload_id} yet")
            self._check_total(session, stored.size)
            return self._finish(session, stored)
        assert session.s3_upload_id is not None
        try:
            held = self._storage.all_parts(session.key, session.s3_upload_id)
            parts = self._parts_to_complete(session, held, client_parts)
            self._check_total(session, sum(part.size for part in parts))
            stored = self._storage.complete_multipart_upload(session.key, session.s3_upload_id, parts)
        except MultipartUploadGoneError:
            return self._after_multipart_gone(session)
        return self._finish(session, stored)

    def abort(self, user_id: str, upload_id: str, *, key: str | None = None) -> UploadSession:
        """Abort the multipart upload (S3 frees its parts) and mark the session aborted. Repeatable."""
        session = self._load(user_id, upload_id, key)
        if session.status is UploadStatus.ABORTED:
            return session
        if session.status is not UploadStatus.INITIATED:
            raise state_error(session, "abort")
        if session.s3_upload_id is not None:
            self._storage.abort_multipart_upload(session.key, session.s3_upload_id)
        stored = self._storage.head(session.key)
        if stored is not None:  # it was completed in S3 meanwhile: record it, and say so
            raise state_error(self._finish(session, stored), "abort")
        aborted = session.finished(UploadStatus.ABORTED, self._clock())
        if self._sessions.finish(aborted):
            self._files.forget(session)
            if self._quotas is not None:
                self._quotas.release(user_id, size=session.size or 0)
            return aborted
        current = self._load(user_id, upload_id, key)
        if current.status is UploadStatus.ABORTED:
            return current
        raise state_error(current, "abort")

    def progress(self, user_id: str, upload_id: str) -> UploadProgress:
        session = self._load(user_id, upload_id, None)
        if session.status is UploadStatus.COMPLETED:
            size = session.result.size if session.result else session.size or 0
            return UploadProgress(session, bytes_received=size, parts_received=session.part_count)
        if session.status is not UploadStatus.INITIATED:
            return UploadProgress(session, bytes_received=0, parts_received=0)
        if session.s3_upload_id is None:
            stored = self._storage.head(session.key)
            received = 0 if stored is None else stored.size
            return UploadProgress(session, bytes_received=received, parts_received=int(stored is not None))
        try:
            parts = self._storage.all_parts(session.key, session.s3_upload_id)
        except MultipartUploadGoneError:
            parts = []
        return UploadProgress(
            session, bytes_received=sum(part.size for part in parts), parts_received=len(parts)
        )

    # --- internals -----------------------------------------------------------------------------------------

    def _create(self, session: UploadSession) -> None:
        """The session, then the file item's metadata: both exist before any URL is handed out."""
        self._sessions.create(session)
        self._files.declare(session, at=session.created_at)

    @contextmanager
    def _quota_reserved(self, user_id: str, size: int) -> Iterator[None]:
        """Count the upload against the user's quota; give it back if the upload cannot be created."""
        if self._quotas is None:
            yield
            return
        self._quotas.reserve(user_id, size=size)
        try:
            yield
        except BaseException:
            self._quotas.release(user_id, size=size)
            raise

    def _check_file(self, filename: str, content_type: str, size: int | None) -> tuple[str, str]:
        name = sanitize_filename(filename)
        media_type = self._check_content_type(content_type)
        if size is not None:
            self._check_max_size(size)
        return name, media_type

    def _check_content_type(self, raw: str) -> str:
        essence, _, parameters = raw.partition(";")
        essence = essence.strip().lower()
        parameters = parameters.strip()
        if not MEDIA_TYPE.fullmatch(essence) or not _HEADER_SAFE.fullmatch(parameters):
            raise InvalidContentTypeError("content type must be a media type such as image/png")
        if essence not in self._policy.allowed_content_types:
            raise UnsupportedContentTypeError(f"content type {essence} is not allowed")
        return f"{essence}; {parameters}" if parameters else essence

    def _check_max_size(self, size: int) -> None:
        if size > self._policy.max_upload_size:
            raise UploadTooLargeError(
                f"{size} bytes is more than the {self._policy.max_upload_size} bytes an upload may hold"
            )

    def _check_total(self, session: UploadSession, total: int) -> None:
        self._check_max_size(total)
        if session.size is not None and total != session.size:
            raise SizeMismatchError(f"the parts hold {total} bytes; the upload declared {session.size}")

    def _parts_to_complete(
        self, session: UploadSession, held: list[StoredPart], client_parts: Sequence[ClientPart] | None
    ) -> list[StoredPart]:
        by_number = {part.part_number: part for part in held}
        if client_parts is not None:
            chosen = self._match_client_parts(by_number, client_parts)
        else:
            chosen = sorted(held, key=lambda part: part.part_number)
        if session.is_planned:
            self._check_plan(session, chosen)
        else:
            if not chosen:
                raise MissingPartsError("no part has been uploaded")
            small = [part.part_number for part in chosen[:-1] if part.size < S3_MIN_PART_SIZE]
            if small:
                raise PartSizeMismatchError(
                    f"every part but the last must hold at least 5 MiB; these do not: {_listed(small)}"
                )
        return chosen

    @staticmethod
    def _match_client_parts(
        by_number: dict[int, StoredPart], client_parts: Sequence[ClientPart]
    ) -> list[StoredPart]:
        numbers = [part.part_number for part in client_parts]
        if len(set(numbers)) != len(numbers):
            raise InvalidPartRequestError("each part number may appear once")
        missing = sorted(number for number in numbers if number not in by_number)
        if missing:
            raise MissingPartsError(f"S3 holds none of these parts: {_listed(missing)}")
        differing = sorted(
            part.part_number
            for part in client_parts
            if by_number[part.part_number].etag != part.etag.strip('"')
        )
        if differing:
            raise PartMismatchError(f"S3 holds other content (another ETag) for parts {_listed(differing)}")
        return [by_number[number] for number in sorted(numbers)]

    @staticmethod
    def _check_plan(session: UploadSession, parts: list[StoredPart]) -> None:
        assert session.part_count is not None
        present = {part.part_number for part in parts}
        missing = [number for number in range(1, session.part_count + 1) if number not in present]
        if missing:
            raise MissingPartsError(
                f"{len(missing)} of {session.part_count} parts are missing: {_listed(missing)}"
            )
        wrong = []
        for part in parts:
            if part.part_number > session.part_count:
                wrong.append(f"part {part.part_number} is beyond the {session.part_count} planned parts")
            elif part.size != (planned := session.planned_part_size(part.part_number)):
                wrong.append(f"part {part.part_number} holds {part.size} bytes, not {planned}")
        if wrong:
            raise PartSizeMismatchError("; ".join(wrong[:_LISTED_IN_ERRORS]))

    def _after_multipart_gone(self, session: UploadSession) -> UploadSession:
        """S3 no longer holds the multipart upload: completed by a concurrent call, or aborted/swept."""
        stored = self._storage.head(session.key)
        if stored is not None:
            return self._finish(session, stored)
        current = self._load(session.user_id, session.upload_id, None)
        if current.status is UploadStatus.COMPLETED:
            return current
        if current.status is not UploadStatus.INITIATED:
            raise state_error(current, "complete")
        raise MultipartUploadGoneError(
            f"S3 no longer holds the parts of upload {session.upload_id} (aborted or expired)"
        )

    def _finish(self, session: UploadSession, stored: StoredObject) -> UploadSession:
        finished = finish_completed(self._sessions, self._files, session, stored, at=self._clock())
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

    @staticmethod
    def _part_checksum(session: UploadSession, request: PartRequest) -> Checksum | None:
        expected = session.checksum_algorithm
        given = request.checksum
        if expected is None and given is not None:
            raise InvalidPartRequestError(
                "this upload was initiated without checksum_algorithm, so its parts take no checksum"
            )
        if expected is not None and (given is None or given.algorithm is not expected):
            raise InvalidPartRequestError(
                f"part {request.part_number} needs its {expected} checksum (the upload's checksum_algorithm)"
            )
        return validate_checksum(given) if given is not None else None

    def _new_session(
        self,
        *,
        user_id: str,
        file_id: str,
        mode: UploadMode,
        filename: str,
        content_type: str,
        size: int | None,
        now: datetime,
        expires_at: datetime,
        part_size: int | None = None,
        part_count: int | None = None,
        s3_upload_id: str | None = None,
        sha256: str | None = None,
        checksum_algorithm: ChecksumAlgorithm | None = None,
        correlation_id: str | None = None,
    ) -> UploadSession:
        return UploadSession(
            user_id=user_id,
            upload_id=self._ids(),
            file_id=file_id,
            key=upload_key(user_id, file_id),
            mode=mode,
            filename=filename,
            content_type=content_type,
            size=size,
            part_size=part_size,
            part_count=part_count,
            status=UploadStatus.INITIATED,
            created_at=now,
            expires_at=expires_at,
            s3_upload_id=s3_upload_id,
            sha256=sha256,
            checksum_algorithm=checksum_algorithm,
            correlation_id=correlation_id,
        )

    @staticmethod
    def _seconds(delta: timedelta) -> int:
        return int(delta.total_seconds())


def _listed(numbers: Sequence[int]) -> str:
    shown = ", ".join(str(number) for number in numbers[:_LISTED_IN_ERRORS])
    hidden = len(numbers) - _LISTED_IN_ERRORS
    return shown + (f" and {hidden} more" if hidden > 0 else "")
