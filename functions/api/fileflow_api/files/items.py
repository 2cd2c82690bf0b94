"""The file table's items as the files capability's records (the item layout: fileflow_common.table)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fileflow_api.files.model import DerivativeRecord, FileRecord, JobRecord
from fileflow_common.dynamo import from_dynamo
from fileflow_common.files import FileStatus


def _optional_str(item: Mapping[str, Any], name: str) -> str | None:
    value = item.get(name)
    return None if value is None else str(value)


def _optional_int(item: Mapping[str, Any], name: str) -> int | None:
    value = item.get(name)
    return None if value is None else int(value)


def _optional_map(item: Mapping[str, Any], name: str) -> Any:
    """The attribute's map with plain numbers; None when absent or empty."""
    return from_dynamo(item[name]) if item.get(name) else None


def _derivative(entry: Mapping[str, Any]) -> DerivativeRecord:
    return DerivativeRecord(
        name=str(entry.get("name", "")),
        key=str(entry.get("key", "")),
        content_type=_optional_str(entry, "content_type"),
        size=_optional_int(entry, "size"),
        width=_optional_int(entry, "width"),
        height=_optional_int(entry, "height"),
    )


def file_from_item(item: Mapping[str, Any]) -> FileRecord:
    created = item.get("created_at") or item.get("declared_at") or item.get("stored_at")
    return FileRecord(
        user_id=str(item["user_id"]),
        file_id=str(item["file_id"]),
        key=str(item.get("key", "")),
        filename=_optional_str(item, "filename"),
        content_type=_optional_str(item, "content_type"),
        status=str(item.get("status", FileStatus.UPLOADED.value)),
        created_at=None if created is None else str(created),
        updated_at=_optional_str(item, "updated_at"),
        uploaded_at=_optional_str(item, "uploaded_at"),
        size=_optional_int(item, "size"),
        etag=_optional_str(item, "etag"),
        version_id=_optional_str(item, "version_id"),
        sha256=_optional_str(item, "sha256"),
        integrity=_optional_str(item, "integrity"),
        integrity_source_object=_optional_str(item, "integrity_source_object"),
        source_object=_optional_str(item, "source_object"),
        upload_id=_optional_str(item, "upload_id"),
        detected_type=_optional_str(item, "detected_type"),
        detected_kind=_optional_str(item, "detected_kind"),
        type_mismatch=_optional_map(item, "type_mismatch"),
        processing_error=_optional_map(item, "processing_error"),
        processing_job_id=_optional_str(item, "processing_job_id"),
        analysis=from_dynamo(item.get("analysis") or {}),
        derivatives=tuple(_derivative(entry) for entry in item.get("derivatives") or []),
        tags=tuple(str(tag) for tag in item.get("tags") or []),
        tags_version=int(item.get("tags_version", 0)),
        quota_bytes=_optional_int(item, "quota_bytes"),
        stage=_optional_str(item, "stage"),
        stage_state=_optional_str(item, "stage_state"),
        stage_updated_at=_optional_str(item, "stage_updated_at"),
        execution_arn=_optional_str(item, "execution_arn"),
        correlation_id=_optional_str(item, "correlation_id"),
        priority=_optional_int(item, "priority"),
        callback_url=_optional_str(item, "callback_url"),
        review=_optional_map(item, "review"),
        analysis_mode=_optional_str(item, "analysis_mode"),
    )


def job_from_item(item: Mapping[str, Any]) -> JobRecord:
    result = from_dynamo(item.get("result") or {})
    return JobRecord(
        job_id=str(item["job_id"]),
        task=str(item.get("task", "")),
        status=str(item.get("status", "")),
        user_id=str(item.get("user_id", "")),
        source_key=str(item.get("key", "")),
        source_version_id=_optional_str(item, "version_id"),
        source_etag=_optional_str(item, "etag"),
        queued_at=_optional_str(item, "queued_at"),
        started_at=_optional_str(item, "started_at"),
        ended_at=_optional_str(item, "ended_at"),
        attempts=int(item.get("attempts", 0)),
        error=_optional_map(item, "error"),
        derivatives=tuple(str(name) for name in result.get("derivatives", [])),
        findings=tuple(result.get("findings", [])),
    )
