"""S3 adapter of FileObjects: short-lived presigned GETs, reading a small derivative (an HLS playlist),
and deleting every version of a file's objects."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from botocore.exceptions import ClientError

from fileflow_common.keys import DERIVED_PREFIX, upload_key, validate_id

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# DeleteObjects takes at most 1,000 keys a request.
_DELETE_BATCH = 1000
_RANGE_NOT_SATISFIABLE = 416


class FileDeletionError(Exception):
    """S3 refused to delete some versions (the request can be repeated: deleting is idempotent)."""


class S3FileObjects:
    def __init__(self, client: S3Client, bucket: str, *, presigner: S3Client) -> None:
        self._client = client
        self._bucket = bucket
        self._presigner = presigner  # SigV4 (fileflow_common.aws.s3_presigner)

    def presign_get(self, key: str, *, version_id: str | None, expires_in: int, filename: str | None) -> str:
        params: dict[str, Any] = {"Bucket": self._bucket, "Key": key}
        if version_id is not None:
            params["VersionId"] = version_id
        if filename:
            # RFC 6266/5987: the stored name, percent-encoded, whatever characters it holds.
            params["ResponseContentDisposition"] = f"attachment; filename*=UTF-8''{quote(filename, safe='')}"
        return self._presigner.generate_presigned_url("get_object", Params=params, ExpiresIn=expires_in)

    def read_object(self, key: str, *, max_bytes: int) -> bytes | None:
        """The object's first `max_bytes` + 1 bytes (more than `max_bytes`: too large); None if missing."""
        try:
            response = self._client.get_object(Bucket=self._bucket, Key=key, Range=f"bytes=0-{max_bytes}")
        except self._client.exceptions.NoSuchKey:
            return None
        except ClientError as exc:
            # 416: an empty object has no byte 0 (S3 models no exception for it: its status tells).
            if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == _RANGE_NOT_SATISFIABLE:
                return b""
            raise
        return response["Body"].read(max_bytes + 1)

    def delete_file_objects(self, user_id: str, file_id: str) -> int:
        validate_id(user_id, kind="user_id")
        validate_id(file_id, kind="file_id")
        original = upload_key(user_id, file_id)
        versions = [entry for entry in self._versions(original) if entry["Key"] == original]
        versions += self._versions(f"{DERIVED_PREFIX}{user_id}/{file_id}/")
        for start in range(0, len(versions), _DELETE_BATCH):
            batch = versions[start : start + _DELETE_BATCH]
            response = self._client.delete_objects(
                Bucket=self._bucket,
                Delete={"Objects": batch, "Quiet": True},  # type: ignore[typeddict-item]
            )
            errors = [error for error in response.get("Errors", []) if error.get("Code") != "NoSuchVersion"]
            if errors:
                raise FileDeletionError(f"S3 kept {len(errors)} object versions: {errors[0].get('Code')}")
        return len(versions)

    def _versions(self, prefix: str) -> list[dict[str, str]]:
        """Every version and delete marker under the prefix, as DeleteObjects wants them."""
        found: list[dict[str, str]] = []
        paginator = self._client.get_paginator("list_object_versions")
        for page in paginator.paginate(Bucket=self._bucket, Prefix=prefix):
            for entry in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
                found.append({"Key": entry["Key"], "VersionId": entry["VersionId"]})
        return found
