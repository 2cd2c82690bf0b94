"""What the processing tests do to the cloud and read back: originals, notifications, items, events."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from boto3.dynamodb.conditions import ConditionBase, Key

from fileflow_common.pipeline import ObjectVersion
from tests.integration.conftest import BUCKET_NAME, Cloud
from tests.integration.workflow import raw_message, s3_notification

USER = "user-carol"
SEQUENCER = "0065D3E5A8C9F1B2E4"


@dataclass(frozen=True)
class Uploaded:
    """An original put the way a client does, as its ObjectCreated notification describes it."""

    file_id: str
    key: str
    size: int
    etag: str
    version_id: str | None
    user_id: str = USER

    @property
    def version(self) -> ObjectVersion:
        return ObjectVersion(bucket=BUCKET_NAME, key=self.key, version_id=self.version_id, etag=self.etag)

    @property
    def job_id(self) -> str:
        return self.version.job_id

    def record(
        self, *, sequencer: str = SEQUENCER, receive_count: int = 1, message_id: str | None = None
    ) -> dict[str, Any]:
        """The SQS record carrying this object's notification."""
        body = s3_notification(
            self.key, size=self.size, etag=self.etag, version_id=self.version_id, sequencer=sequencer
        )
        return raw_message(body, receive_count=receive_count, message_id=message_id)


def new_file_id() -> str:
    return f"f{uuid.uuid4().hex[:12]}"


def upload_id_of(file_id: str) -> str:
    """The id of the upload session these helpers open for a file."""
    return f"u{file_id}"[:64]


def open_upload(cloud: Cloud, file_id: str, *, user: str = USER, status: str = "initiated") -> str:
    """The upload session of `file_id` (as POST /v1/uploads creates it), named on its file item: the
    starter accepts only objects that a live or completed upload accounts for."""
    upload_id = upload_id_of(file_id)
    cloud.table.put_item(
        Item={
            "pk": f"USER#{user}",
            "sk": f"UPLOAD#{upload_id}",
            "entity": "upload_session",
            "user_id": user,
            "upload_id": upload_id,
            "file_id": file_id,
            "key": f"uploads/{user}/{file_id}",
            "status": status,
        }
    )
    cloud.table.update_item(
        Key={"pk": f"USER#{user}", "sk": f"FILE#{file_id}"},
        UpdateExpression="SET upload_id = if_not_exists(upload_id, :upload_id)",
        ExpressionAttributeValues={":upload_id": upload_id},
    )
    return upload_id


def upload(
    cloud: Cloud,
    data: bytes,
    *,
    file_id: str | None = None,
    user: str = USER,
    content_type: str | None = None,
) -> Uploaded:
    """Put an original the way a client does: its upload initiated first (unless it was), then the PUT."""
    file_id = file_id or new_file_id()
    key = f"uploads/{user}/{file_id}"
    session = cloud.table.get_item(Key={"pk": f"USER#{user}", "sk": f"UPLOAD#{upload_id_of(file_id)}"})
    if "Item" not in session:
        open_upload(cloud, file_id, user=user)
    extra = {"ContentType": content_type} if content_type else {}
    put = cloud.s3.put_object(Bucket=BUCKET_NAME, Key=key, Body=data, **extra)  # type: ignore[arg-type]
    return Uploaded(file_id, key, len(data), put["ETag"].strip('"'), put.get("VersionId"), user)


def declare(cloud: Cloud, file_id: str, *, user: str = USER, **attributes: Any) -> None:
    """The file item as the upload API writes it before the object lands (filename, type, ...), and
    its initiated upload session."""
    cloud.table.put_item(
        Item={
            "pk": f"USER#{user}",
            "sk": f"FILE#{file_id}",
            "user_id": user,
            "file_id": file_id,
            "upload_id": upload_id_of(file_id),
            **attributes,
        }
    )
    open_upload(cloud, file_id, user=user)


def file_item(cloud: Cloud, file_id: str, *, user: str = USER) -> dict[str, Any]:
    return cloud.table.get_item(Key={"pk": f"USER#{user}", "sk": f"FILE#{file_id}"}, ConsistentRead=True)[
        "Item"
    ]


def _partition(cloud: Cloud, file_id: str, prefix: str | None = None) -> list[dict[str, Any]]:
    condition: ConditionBase = Key("pk").eq(f"FILE#{file_id}")
    if prefix:
        condition &= Key("sk").begins_with(prefix)
    return list(cloud.table.query(KeyConditionExpression=condition, ConsistentRead=True)["Items"])


def jobs_of(cloud: Cloud, file_id: str) -> list[dict[str, Any]]:
    return _partition(cloud, file_id, "JOB#")


def events_of(cloud: Cloud, file_id: str) -> list[dict[str, Any]]:
    """The file's stage events in cursor order (what GET /v1/files/{id}/events pages through)."""
    return _partition(cloud, file_id, "EVENT#")


def stage_events(cloud: Cloud, file_id: str) -> list[tuple[str, str]]:
    return [(str(event["stage"]), str(event["state"])) for event in events_of(cloud, file_id)]


def derivative_versions(cloud: Cloud, file_id: str, *, user: str = USER) -> dict[str, int]:
    """Each derivative's name and how many S3 versions of it were written."""
    listed = cloud.s3.list_object_versions(Bucket=BUCKET_NAME, Prefix=f"derived/{user}/{file_id}/")
    counts: dict[str, int] = {}
    for version in listed.get("Versions", []):
        name = version["Key"].rsplit("/", 1)[1]
        counts[name] = counts.get(name, 0) + 1
    return counts


def delete_object_versions(cloud: Cloud, prefix: str = "") -> None:
    """Every version and delete marker under `prefix` (the bucket is versioned)."""
    for page in cloud.s3.get_paginator("list_object_versions").paginate(Bucket=BUCKET_NAME, Prefix=prefix):
        for entry in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
            cloud.s3.delete_object(Bucket=BUCKET_NAME, Key=entry["Key"], VersionId=entry["VersionId"])


def delete_file(cloud: Cloud, file_id: str, *, user: str = USER) -> None:
    """What DELETE /v1/files/{id} does (fileflow_api.files.service): the tombstone first, then every object
    version of the original and its derivatives, then the file's partition (jobs and events)."""
    cloud.table.update_item(
        Key={"pk": f"USER#{user}", "sk": f"FILE#{file_id}"},
        UpdateExpression="SET #status = :deleted, deleted_at = :at REMOVE source_object, derivatives",
        ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues={":deleted": "deleted", ":at": "2026-05-04T10:20:00.000Z"},
    )
    for prefix in (f"uploads/{user}/{file_id}", f"derived/{user}/{file_id}/"):
        delete_object_versions(cloud, prefix)
    for item in _partition(cloud, file_id):
        cloud.table.delete_item(Key={"pk": item["pk"], "sk": item["sk"]})
