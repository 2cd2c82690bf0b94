"""boto3 adapter for the S3 side of uploads: presigned requests, multipart operations, HEAD.

Presigned URLs are SigV4 query-signed. Every header that is signed (Content-Length, Content-Type,
x-amz-checksum-*) must be sent exactly as returned, so S3 itself rejects a PUT of another size
(SignatureDoesNotMatch) or whose bytes do not match the signed checksum (BadDigest).

The upload's correlation id goes with the object (``x-amz-meta-correlation-id``) where it costs the
client nothing: on CreateMultipartUpload (a server-side call), and as a presigned POST form field (form
clients, Uppy included, send every field). Never as a signed PUT header: that would be one more header
every single-PUT client must send.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote, urlsplit

from botocore.exceptions import ClientError

from fileflow_api.uploads.errors import MultipartUploadGoneError
from fileflow_api.uploads.model import (
    Checksum,
    ChecksumAlgorithm,
    CompletedObject,
    PartsPage,
    PresignedPost,
    PresignedRequest,
    StoredPart,
)
from fileflow_common.keys import UPLOADS_PREFIX

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# S3's own names for each algorithm's checksum field (responses, CompletedPart) and request header.
_CHECKSUM_FIELDS: Mapping[ChecksumAlgorithm, str] = {
    ChecksumAlgorithm.SHA256: "ChecksumSHA256",
    ChecksumAlgorithm.CRC32C: "ChecksumCRC32C",
}
CHECKSUM_HEADERS: Mapping[ChecksumAlgorithm, str] = {
    ChecksumAlgorithm.SHA256: "x-amz-checksum-sha256",
    ChecksumAlgorithm.CRC32C: "x-amz-checksum-crc32c",
}
# User metadata of an original: S3 stores it as `x-amz-meta-correlation-id`.
CORRELATION_ID_METADATA = "correlation-id"


def _strip_quotes(etag: str) -> str:
    return etag.strip('"')


def _stored_part(part: Mapping[str, Any]) -> StoredPart:
    return StoredPart(
        part_number=part["PartNumber"],
        size=part["Size"],
        etag=_strip_quotes(part["ETag"]),
        checksum=_checksum_of(part),
    )


def _checksum_of(response: Mapping[str, Any]) -> Checksum | None:
    for algorithm, field in _CHECKSUM_FIELDS.items():
        value = response.get(field)
        if value:
            return Checksum(algorithm=algorithm, value=str(value), type=response.get("ChecksumType"))
    return None


class S3UploadStorage:
    """All S3 calls of the upload flow, on one bucket. `presigner` signs URLs (aws.s3_presigner)."""

    def __init__(self, s3: S3Client, bucket_name: str, *, presigner: S3Client | None = None) -> None:
        self._s3 = s3
        self._presigner = presigner or s3
        self._bucket = bucket_name

    @property
    def bucket_name(self) -> str:
        return self._bucket

    def object_url(self, key: str) -> str:
        """Where the object lives (path style); the bucket is private, so this is a name, not a link."""
        endpoint = self._s3.meta.endpoint_url.rstrip("/")
        return f"{endpoint}/{self._bucket}/{quote(key)}"

    def presigned_url_origins(self) -> tuple[str, ...]:
        """The origins (scheme://host[:port]) browsers reach with this storage's presigned URLs.

        Asked of the presigner itself (signing is local: no request is made), so a web page's CSP
        `connect-src` names exactly the S3 endpoint the URLs use: the bucket's virtual-hosted endpoint
        on AWS, the local cloud's endpoint there.
        """
        key = f"{UPLOADS_PREFIX}origin-probe"
        urls = (
            self._presigner.generate_presigned_url(
                "put_object", Params={"Bucket": self._bucket, "Key": key}, ExpiresIn=60
            ),
            self._presigner.generate_presigned_post(self._bucket, key, ExpiresIn=60)["url"],
        )
        return tuple(sorted({f"{parts.scheme}://{parts.netloc}" for parts in map(urlsplit, urls)}))

    def create_multipart_upload(
        self,
        key: str,
        *,
        content_type: str,
        checksum_algorithm: ChecksumAlgorithm | None,
        correlation_id: str | None = None,
    ) -> str:
        params: dict[str, Any] = {"Bucket": self._bucket, "Key": key, "ContentType": content_type}
        if checksum_algorithm is not None:
            params["ChecksumAlgorithm"] = checksum_algorithm.value
        if correlation_id is not None:
            params["Metadata"] = {CORRELATION_ID_METADATA: correlation_id}
        return self._s3.create_multipart_upload(**params)["UploadId"]

    def presign_put(
        self, key: str, *, size: int, content_type: str, checksum: Checksum | None, expires_in: int
    ) -> PresignedRequest:
        params: dict[str, Any] = {
            "Bucket": self._bucket,
            "Key": key,
            "ContentLength": size,
            "ContentType": content_type,
        }
        headers = {"Content-Length": str(size), "Content-Type": content_type}
        return self._presign("put_object", params, headers, checksum, expires_in)

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
        params: dict[str, Any] = {
            "Bucket": self._bucket,
            "Key": key,
            "UploadId": s3_upload_id,
            "PartNumber": part_number,
        }
        headers: dict[str, str] = {}
        if size is not None:
            params["ContentLength"] = size
            headers["Content-Length"] = str(size)
        return self._presign("upload_part", params, headers, checksum, expires_in)

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
        fields = {"Content-Type": content_type, "success_action_status": "201"}
        if correlation_id is not None:
            fields[f"x-amz-meta-{CORRELATION_ID_METADATA}"] = correlation_id
        conditions: list[Any] = [
            *({name: value} for name, value in fields.items()),
            ["content-length-range", min_size, max_size],
        ]
        post = self._presigner.generate_presigned_post(
            self._bucket, key, Fields=fields, Conditions=conditions, ExpiresIn=expires_in
        )
        url = post["url"]
        # Form uploads go to the bucket's URL; with a trailing slash, url + key is the object's URL.
        return PresignedPost(url=url if url.endswith("/") else url + "/", fields=dict(post["fields"]))

    def list_parts(self, key: str, s3_upload_id: str, *, after: int = 0, limit: int = 1000) -> PartsPage:
        with self._multipart_upload(key):
            response = self._s3.list_parts(
                Bucket=self._bucket, Key=key, UploadId=s3_upload_id, PartNumberMarker=after, MaxParts=limit
            )
        next_marker = response.get("NextPartNumberMarker") if response.get("IsTruncated") else None
        return PartsPage(
            parts=[_stored_part(part) for part in response.get("Parts", [])],
            next_marker=int(next_marker) if next_marker is not None else None,
        )

    def all_parts(self, key: str, s3_upload_id: str) -> list[StoredPart]:
        pages = self._s3.get_paginator("list_parts").paginate(
            Bucket=self._bucket, Key=key, UploadId=s3_upload_id
        )
        with self._multipart_upload(key):
            return [_stored_part(part) for page in pages for part in page.get("Parts", [])]

    def complete_multipart_upload(
        self, key: str, s3_upload_id: str, parts: Sequence[StoredPart]
    ) -> CompletedObject:
        completed_parts: list[Any] = []
        for part in parts:
            entry: dict[str, Any] = {"PartNumber": part.part_number, "ETag": f'"{part.etag}"'}
            if part.checksum is not None:
                entry[_CHECKSUM_FIELDS[part.checksum.algorithm]] = part.checksum.value
            completed_parts.append(entry)
        with self._multipart_upload(key):
            response = self._s3.complete_multipart_upload(
                Bucket=self._bucket,
                Key=key,
                UploadId=s3_upload_id,
                MultipartUpload={"Parts": completed_parts},
            )
        return CompletedObject(
            size=sum(part.size for part in parts),
            etag=_strip_quotes(response["ETag"]),
            checksum=_checksum_of(response),
            version_id=response.get("VersionId"),
        )

    def abort_multipart_upload(self, key: str, s3_upload_id: str) -> None:
        with suppress(self._s3.exceptions.NoSuchUpload):
            self._s3.abort_multipart_upload(Bucket=self._bucket, Key=key, UploadId=s3_upload_id)

    def head(self, key: str) -> CompletedObject | None:
        try:
            response = self._s3.head_object(Bucket=self._bucket, Key=key, ChecksumMode="ENABLED")
        except ClientError as exc:
            # A HEAD response has no body, so S3's 404 comes without a modelled error: its status says it.
            if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == HTTPStatus.NOT_FOUND:
                return None
            raise
        return CompletedObject(
            size=response["ContentLength"],
            etag=_strip_quotes(response["ETag"]),
            checksum=_checksum_of(response),
            version_id=response.get("VersionId"),
        )

    @contextmanager
    def _multipart_upload(self, key: str) -> Iterator[None]:
        """S3's NoSuchUpload as the domain's error: the multipart upload was completed, aborted or swept."""
        try:
            yield
        except self._s3.exceptions.NoSuchUpload as exc:
            raise MultipartUploadGoneError(f"S3 holds no multipart upload for {key}") from exc

    def _presign(
        self,
        operation: Literal["put_object", "upload_part"],
        params: dict[str, Any],
        headers: dict[str, str],
        checksum: Checksum | None,
        expires_in: int,
    ) -> PresignedRequest:
        """A query-signed PUT; a checksum is signed both as a parameter and as the header to send."""
        if checksum is not None:
            params[_CHECKSUM_FIELDS[checksum.algorithm]] = checksum.value
            headers[CHECKSUM_HEADERS[checksum.algorithm]] = checksum.value
        url = self._presigner.generate_presigned_url(operation, Params=params, ExpiresIn=expires_in)
        return PresignedRequest(url=url, headers=headers)
