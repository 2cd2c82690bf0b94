"""In-memory fakes of the upload ports (sessions, S3, file catalog, quotas) for unit tests."""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from itertools import count

from fileflow_api.uploads.callbacks import CallbackPolicy
from fileflow_api.uploads.errors import MultipartUploadGoneError
from fileflow_api.uploads.model import (
    Checksum,
    ChecksumAlgorithm,
    CompletedObject,
    PartsPage,
    PresignedPost,
    PresignedRequest,
    StoredPart,
    UploadSession,
    UploadStatus,
)
from fileflow_api.uploads.part_plan import MiB
from fileflow_api.uploads.policy import UploadPolicy
from fileflow_api.uploads.service import UploadService
from fileflow_api.usage.quotas import Quota, QuotaExceededError, Usage
from fileflow_common.webhooks.targets import TargetPolicy

T0 = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


class InMemorySessions:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], UploadSession] = {}
        # Expired sessions whose upload.expired is not queued yet (the table's unannounced partition).
        self.unannounced_keys: set[tuple[str, str]] = set()

    def create(self, session: UploadSession) -> None:
        key = (session.user_id, session.upload_id)
        assert key not in self.items, "a session was overwritten"
        self.items[key] = session

    def get(self, user_id: str, upload_id: str) -> UploadSession | None:
        return self.items.get((user_id, upload_id))

    def finish(self, session: UploadSession) -> bool:
        key = (session.user_id, session.upload_id)
        current = self.items.get(key)
        if current is None or current.status is not UploadStatus.INITIATED:
            return False
        self.items[key] = session
        if session.status is UploadStatus.EXPIRED:
            self.unannounced_keys.add(key)
        return True

    def declare_sha256(self, session: UploadSession, sha256: str, *, at: datetime) -> bool:
        key = (session.user_id, session.upload_id)
        current = self.items.get(key)
        if current is None or current.status is not UploadStatus.INITIATED:
            return False
        if current.sha256 not in (None, sha256):
            return False
        self.items[key] = replace(current, sha256=sha256)
        return True

    def expired(self, *, before: datetime) -> Iterator[UploadSession]:
        due = [s for s in self.items.values() if s.status is UploadStatus.INITIATED and s.expires_at < before]
        return iter(sorted(due, key=lambda s: s.expires_at))

    def unannounced(self) -> Iterator[UploadSession]:
        return iter(sorted((self.items[key] for key in self.unannounced_keys), key=lambda s: s.expires_at))

    def announced(self, session: UploadSession) -> None:
        self.unannounced_keys.discard((session.user_id, session.upload_id))


@dataclass
class FakeWebhookEndpoints:
    """The users with an enabled webhook endpoint."""

    def __init__(self) -> None:
        self.enabled_users: set[str] = set()

    def has_enabled_endpoint(self, user_id: str) -> bool:
        return user_id in self.enabled_users


@dataclass
class FakeMultipart:
    key: str
    algorithm: ChecksumAlgorithm | None
    parts: dict[int, StoredPart] = field(default_factory=dict)


class FakeS3:
    """One bucket: multipart uploads and objects, and a log of what was presigned."""

    bucket_name = "uploads-bucket"

    def __init__(self) -> None:
        self.multipart: dict[str, FakeMultipart] = {}
        self.objects: dict[str, CompletedObject] = {}
        self.presigned: list[dict[str, object]] = []
        self.aborted: list[str] = []
        self.completed: list[str] = []
        self.correlation_ids: dict[str, str | None] = {}  # by key: what the object's metadata would hold
        self._ids = count(1)

    # --- what clients do with the presigned URLs ---
    def put_part(self, s3_upload_id: str, number: int, size: int, *, checksum: Checksum | None = None) -> str:
        etag = hashlib.md5(f"{s3_upload_id}/{number}/{size}".encode(), usedforsecurity=False).hexdigest()
        self.multipart[s3_upload_id].parts[number] = StoredPart(number, size, etag, checksum)
        return etag

    def put_object(self, key: str, size: int) -> None:
        self.objects[key] = CompletedObject(size=size, etag=f"etag-{size}")

    # --- the UploadStorage port ---
    def object_url(self, key: str) -> str:
        return f"https://s3.test/{self.bucket_name}/{key}"

    def create_multipart_upload(
        self,
        key: str,
        *,
        content_type: str,
        checksum_algorithm: ChecksumAlgorithm | None,
        correlation_id: str | None = None,
    ) -> str:
        s3_upload_id = f"s3-upload-{next(self._ids)}"
        self.multipart[s3_upload_id] = FakeMultipart(key, checksum_algorithm)
        self.correlation_ids[key] = correlation_id
        return s3_upload_id

    def presign_put(
        self, key: str, *, size: int, content_type: str, checksum: Checksum | None, expires_in: int
    ) -> PresignedRequest:
        self.presigned.append(
            {"op": "put", "key": key, "size": size, "checksum": checksum, "ttl": expires_in}
        )
        headers = {"Content-Length": str(size), "Content-Type": content_type}
        if checksum:
            headers["x-amz-checksum-sha256"] = checksum.value
        return PresignedRequest(url=f"https://s3.test/{key}?put", headers=headers)

    def presign_part(
        self,
        key: str,
        s3_upload_id: str,
        part_number: int,
        *,
        size: int | None,
        checksum: Checksum | None,
        expires_in: int,
    ) -> PresignedRequest:
        self.presigned.append(
            {
                "op": "part",
                "key": key,
                "part": part_number,
                "size": size,
                "checksum": checksum,
                "ttl": expires_in,
            }
        )
        headers = {"Content-Length": str(size)} if size is not None else {}
        return PresignedRequest(
            url=f"https://s3.test/{key}?uploadId={s3_upload_id}&partNumber={part_number}", headers=headers
        )

    def presign_post(
        self,
        key: str,
        *,
        content_type: str,
        min_size: int,
        max_size: int,
        expires_in: int,
        correlation_id: str | None = None,
    ) -> PresignedPost:
        self.presigned.append({"op": "post", "key": key, "range": (min_size, max_size), "ttl": expires_in})
        self.correlation_ids[key] = correlation_id
        return PresignedPost(
            url="https://s3.test/uploads-bucket/", fields={"key": key, "Content-Type": content_type}
        )

    def _upload(self, key: str, s3_upload_id: str) -> FakeMultipart:
        upload = self.multipart.get(s3_upload_id)
        if upload is None or upload.key != key:
            raise MultipartUploadGoneError(f"no upload {s3_upload_id}")
        return upload

    def list_parts(self, key: str, s3_upload_id: str, *, after: int = 0, limit: int = 1000) -> PartsPage:
        parts = sorted(
            (p for p in self._upload(key, s3_upload_id).parts.values() if p.part_number > after),
            key=lambda p: p.part_number,
        )
        page = parts[:limit]
        return PartsPage(parts=page, next_marker=page[-1].part_number if len(parts) > limit else None)

    def all_parts(self, key: str, s3_upload_id: str) -> list[StoredPart]:
        return sorted(self._upload(key, s3_upload_id).parts.values(), key=lambda p: p.part_number)

    def complete_multipart_upload(
        self, key: str, s3_upload_id: str, parts: Sequence[StoredPart]
    ) -> CompletedObject:
        self._upload(key, s3_upload_id)
        del self.multipart[s3_upload_id]
        self.completed.append(s3_upload_id)
        stored = CompletedObject(size=sum(p.size for p in parts), etag=f"final-{len(parts)}")
        self.objects[key] = stored
        return stored

    def abort_multipart_upload(self, key: str, s3_upload_id: str) -> None:
        self.aborted.append(s3_upload_id)
        self.multipart.pop(s3_upload_id, None)

    def head(self, key: str) -> CompletedObject | None:
        return self.objects.get(key)


class FakeCatalog:
    def __init__(self) -> None:
        self.declared: dict[str, UploadSession] = {}  # by file id: items that exist
        self.records: list[UploadSession] = []

    def declare(self, session: UploadSession, *, at: datetime) -> None:
        self.declared[session.file_id] = session

    def declare_sha256(self, session: UploadSession, *, at: datetime) -> None:
        assert session.sha256 is not None
        self.declared[session.file_id] = session

    def record_upload(self, session: UploadSession, *, at: datetime) -> None:
        assert session.status is UploadStatus.COMPLETED
        self.records.append(session)

    def forget(self, session: UploadSession) -> None:
        if not any(record.file_id == session.file_id for record in self.records):
            self.declared.pop(session.file_id, None)


class FakeQuotas:
    """The QuotaPolicy and UsageCounters ports over one counter per user."""

    def __init__(self, quota: Quota | None = None) -> None:
        self.quota = quota or Quota(max_bytes=10**15, max_files=1000)
        self.used: dict[str, Usage] = {}

    def reserve(self, user_id: str, *, size: int) -> None:
        usage = self.usage(user_id)
        if usage.bytes + size > self.quota.max_bytes or usage.files + 1 > self.quota.max_files:
            raise QuotaExceededError("quota exceeded")
        self.used[user_id] = Usage(bytes=usage.bytes + size, files=usage.files + 1)

    def release(self, user_id: str, *, size: int) -> None:
        self.subtract(user_id, size=size, files=1)

    def charge(self, user_id: str, *, size: int) -> None:
        usage = self.usage(user_id)
        if usage.bytes + size > self.quota.max_bytes:
            raise QuotaExceededError("quota exceeded")
        self.used[user_id] = Usage(bytes=usage.bytes + size, files=usage.files)

    def refund(self, user_id: str, *, size: int) -> None:
        self.subtract(user_id, size=size, files=0)

    def subtract(self, user_id: str, *, size: int, files: int) -> None:
        usage = self.usage(user_id)
        self.used[user_id] = Usage(bytes=max(0, usage.bytes - size), files=max(0, usage.files - files))

    def usage(self, user_id: str) -> Usage:
        return self.used.get(user_id, Usage())


POLICY = UploadPolicy(
    max_upload_size=100 * 1024 * MiB,
    allowed_content_types=frozenset(
        {"image/png", "application/pdf", "application/octet-stream", "text/plain"}
    ),
    single_put_threshold=16 * MiB,
    part_size=8 * MiB,
    url_ttl=timedelta(minutes=15),
    session_ttl=timedelta(hours=24),
)


@dataclass
class World:
    service: UploadService
    sessions: InMemorySessions
    s3: FakeS3
    catalog: FakeCatalog
    quotas: FakeQuotas
    clock: Clock
    endpoints: FakeWebhookEndpoints


# What the fake resolver answers for any host: one public address (no DNS in unit tests).
PUBLIC_ADDRESS = ipaddress.ip_address("93.184.215.14")


def make_world(
    policy: UploadPolicy = POLICY, quota: Quota | None = None, *, targets: TargetPolicy | None = None
) -> World:
    sessions, s3, catalog, quotas, clock = (
        InMemorySessions(),
        FakeS3(),
        FakeCatalog(),
        FakeQuotas(quota),
        Clock(),
    )
    ids = (f"id{n:04d}" for n in count(1))
    endpoints = FakeWebhookEndpoints()
    callbacks = CallbackPolicy(
        endpoints=endpoints, targets=targets or TargetPolicy(), resolver=lambda host, port: [PUBLIC_ADDRESS]
    )
    service = UploadService(
        sessions=sessions,
        storage=s3,
        files=catalog,
        policy=policy,
        quotas=quotas,
        callbacks=callbacks,
        clock=clock,
        ids=lambda: next(ids),
    )
    return World(service, sessions, s3, catalog, quotas, clock, endpoints)
