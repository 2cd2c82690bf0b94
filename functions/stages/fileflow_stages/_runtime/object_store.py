"""S3 adapter of the ObjectStore interface: size-guarded reads of originals, writes of derivatives."""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from fileflow_common.pipeline import ObjectVersion
from fileflow_stages._runtime.content import Derivative
from fileflow_stages._runtime.state import ObjectGoneError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# The head read of an object over the size limit: enough to detect its type.
DETECTION_BYTES = 64 * 1024
# Downloads to /tmp go in pieces of this size (bounded memory whatever the object's size).
DOWNLOAD_CHUNK_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class StoredContent:
    data: bytes
    size: int
    # False when the object was larger than the limit: `data` is then only its first bytes.
    complete: bool
    content_type: str | None = None
    # S3's FULL_OBJECT SHA-256 of the version (hex), which S3 verified when it was written; or None.
    stored_sha256: str | None = None

    @property
    def sha256(self) -> str | None:
        """The hex SHA-256 of every byte of the version; None when only its first bytes were read."""
        return hashlib.sha256(self.data).hexdigest() if self.complete else None


@dataclass(frozen=True, slots=True)
class DownloadedContent:
    """A version streamed to disk: its bytes written, and their SHA-256, hashed as they streamed."""

    size: int
    sha256: str
    stored_sha256: str | None = None


def stored_sha256(response: Mapping[str, Any]) -> str | None:
    """The version's whole-object SHA-256 that S3 holds (hex), from a GetObject with ChecksumMode.

    A multipart object's SHA-256 is COMPOSITE (`<base64>-<parts>`, a hash of the parts' hashes): it says
    nothing of the whole file's, so it is not one.
    """
    value = response.get("ChecksumSHA256")
    if (
        not isinstance(value, str)
        or "-" in value
        or response.get("ChecksumType") not in (None, "FULL_OBJECT")
    ):
        return None
    try:
        digest = base64.b64decode(value, validate=True)
    except binascii.Error:
        return None
    return digest.hex() if len(digest) == hashlib.sha256().digest_size else None


# Gone too, without a modelled exception: a deleted version, a failed If-Match (the key now holds other
# content, unversioned bucket), and their bare status codes when an error response has no body.
_UNMODELLED_GONE = frozenset({"NoSuchVersion", "PreconditionFailed", "412", "404"})


def _gone(source: ObjectVersion) -> ObjectGoneError:
    return ObjectGoneError(f"{source.key} ({source.version_id or source.etag}) is gone")


class S3ObjectStore:
    def __init__(self, client: S3Client, bucket: str) -> None:
        self._client = client
        self._bucket = bucket

    def _get(self, source: ObjectVersion) -> Any:
        location = {"VersionId": source.version_id} if source.version_id else {"IfMatch": f'"{source.etag}"'}
        try:
            # ChecksumMode: the response names the checksum S3 holds for the version (stored_sha256).
            return self._client.get_object(
                Bucket=source.bucket,
                Key=source.key,
                ChecksumMode="ENABLED",
                **location,  # type: ignore[arg-type]
            )
        except self._client.exceptions.NoSuchKey as exc:
            raise _gone(source) from exc
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in _UNMODELLED_GONE:
                raise
            raise _gone(source) from exc

    def read(self, source: ObjectVersion, *, max_bytes: int) -> StoredContent:
        """Read at most max_bytes + 1 bytes: a lying Content-Length can never make it load more."""
        response = self._get(source)
        size = response["ContentLength"]
        body = response["Body"]
        try:
            if size > max_bytes:
                return StoredContent(data=body.read(DETECTION_BYTES), size=size, complete=False)
            data = body.read(max_bytes + 1)
        finally:
            body.close()
        return StoredContent(
            data=data[:max_bytes],
            size=len(data),
            complete=len(data) <= max_bytes,
            content_type=response.get("ContentType"),
            stored_sha256=stored_sha256(response),
        )

    def download(self, source: ObjectVersion, target: Path, *, max_bytes: int) -> DownloadedContent:
        """Stream the version to `target` (never more than max_bytes + 1 bytes), hashing it on the way."""
        response = self._get(source)
        body = response["Body"]
        written = 0
        digest = hashlib.sha256()
        try:
            with target.open("wb") as out:
                while written <= max_bytes:
                    chunk = body.read(min(DOWNLOAD_CHUNK_BYTES, max_bytes + 1 - written))
                    if not chunk:
                        break
                    out.write(chunk)
                    digest.update(chunk)
                    written += len(chunk)
        finally:
            body.close()
        return DownloadedContent(
            size=written, sha256=digest.hexdigest(), stored_sha256=stored_sha256(response)
        )

    def write_file(self, key: str, path: Path, *, content_type: str, source: ObjectVersion) -> None:
        """Upload a derivative from disk (video renditions: too large to hold in memory)."""
        with path.open("rb") as body:
            self._client.put_object(
                Bucket=self._bucket,
                Key=key,
                Body=body,
                ContentType=content_type,
                Metadata={"source-etag": source.etag, "source-version-id": source.version_id or "null"},
            )

    def write_derivative(self, key: str, derivative: Derivative, *, source: ObjectVersion) -> None:
        self._client.put_object(
            Bucket=self._bucket,
            Key=key,
            Body=derivative.body,
            ContentType=derivative.content_type,
            # Which version of the original this was made from (user metadata, never the original's).
            Metadata={"source-etag": source.etag, "source-version-id": source.version_id or "null"},
        )

    def delete_derivatives(self, keys: list[str]) -> None:
        for key in keys:
            self.delete_all_versions(key)

    def delete_version(self, key: str, version_id: str | None) -> None:
        """Delete one version of an original (the object of a deleted file); gone already is fine."""
        if version_id is None:
            self._client.delete_object(Bucket=self._bucket, Key=key)
        else:
            self._client.delete_object(Bucket=self._bucket, Key=key, VersionId=version_id)

    def delete_all_versions(self, key: str) -> None:
        """Every version and delete marker of exactly `key` (the bucket is versioned)."""
        paginator = self._client.get_paginator("list_object_versions")
        for page in paginator.paginate(Bucket=self._bucket, Prefix=key):
            entries = [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
            for entry in entries:
                if entry["Key"] == key:
                    self._client.delete_object(Bucket=self._bucket, Key=key, VersionId=entry["VersionId"])
