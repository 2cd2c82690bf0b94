"""How each kind of upload starts in S3: a presigned PUT, planned parts, Uppy's parts, or a form POST."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fileflow_api.uploads.model import (
    BrowserUpload,
    ChecksumAlgorithm,
    NewUpload,
    PresignedPost,
    PresignedRequest,
    UploadMode,
)
from fileflow_api.uploads.part_plan import PartPlan, plan_parts
from fileflow_api.uploads.policy import UploadPolicy, sha256_checksum
from fileflow_api.uploads.ports import UploadStorage


@dataclass(frozen=True, slots=True)
class StartedUpload:
    """What S3 was asked for on initiate, and how the session records it."""

    mode: UploadMode
    expires_at: datetime
    plan: PartPlan | None = None  # the server's; None when the browser sizes the parts
    s3_upload_id: str | None = None
    checksum_algorithm: ChecksumAlgorithm | None = None  # of the parts S3 will verify
    single: PresignedRequest | None = None
    post: PresignedPost | None = None


def start_upload(
    storage: UploadStorage,
    policy: UploadPolicy,
    key: str,
    new: NewUpload | BrowserUpload,
    content_type: str,
    sha256: str | None,
    now: datetime,
) -> StartedUpload:
    """Ask S3 for what `new` needs; the caller records the session before handing anything out."""
    url_expiry, session_expiry = now + policy.url_ttl, now + policy.session_ttl
    url_ttl = int(policy.url_ttl.total_seconds())
    match new:
        case NewUpload(size=size) if size < policy.single_put_threshold:
            # The URL is the whole session: it cannot be re-signed.
            checksum = sha256_checksum(sha256) if sha256 else None
            single = storage.presign_put(
                key, size=size, content_type=content_type, checksum=checksum, expires_in=url_ttl
            )
            whole = PartPlan(size=size, part_size=size, part_count=1)
            return StartedUpload(UploadMode.SINGLE, url_expiry, plan=whole, single=single)
        case NewUpload(size=size, checksum_algorithm=algorithm):
            plan = plan_parts(size, preferred_part_size=policy.part_size)
            s3_upload_id = storage.create_multipart_upload(
                key,
                content_type=content_type,
                checksum_algorithm=algorithm,
                correlation_id=new.correlation_id,
            )
            return StartedUpload(
                UploadMode.MULTIPART,
                session_expiry,
                plan=plan,
                s3_upload_id=s3_upload_id,
                checksum_algorithm=algorithm,
            )
        case BrowserUpload(form_post=True, size=size):
            smallest, largest = policy.form_post_range(size)
            post = storage.presign_post(
                key,
                content_type=content_type,
                min_size=smallest,
                max_size=largest,
                expires_in=url_ttl,
                correlation_id=new.correlation_id,
            )
            return StartedUpload(UploadMode.SINGLE, url_expiry, post=post)
        case BrowserUpload():
            s3_upload_id = storage.create_multipart_upload(
                key, content_type=content_type, checksum_algorithm=None, correlation_id=new.correlation_id
            )
            return StartedUpload(UploadMode.MULTIPART, session_expiry, s3_upload_id=s3_upload_id)
