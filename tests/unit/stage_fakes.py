"""In-memory adapters of the stages (S3ObjectStore, DynamoRecords, the webhook queue) with the same
conditions, and stage payloads shaped as the state machine sends them."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, cast

import pytest
from botocore.exceptions import ClientError

from fileflow_common.errors import FileDeletedError
from fileflow_common.keys import UploadKey
from fileflow_common.pipeline import ObjectVersion, Stage, StageEvent, StageState
from fileflow_common.webhooks.events import EventMessage
from fileflow_intake.starter import execution_input
from fileflow_intake.stored_objects import StoredObject
from fileflow_stages._runtime import stage as stage_runtime
from fileflow_stages._runtime.content import Derivative
from fileflow_stages._runtime.jobs import Job, JobError, JobStatus, Task
from fileflow_stages._runtime.object_store import S3ObjectStore, StoredContent
from fileflow_stages._runtime.records import DynamoRecords
from fileflow_stages._runtime.settings import StageSettings
from fileflow_stages._runtime.stage import Services, run_stage
from fileflow_stages._runtime.state import DeclaredFile, FileProcessingState, ObjectGoneError
from fileflow_stages.analysis import handler as analysis_handler
from fileflow_stages.analysis.duplicates import HashEntry
from fileflow_stages.analysis.features import OriginalRead, Ports
from fileflow_stages.analysis.handler import analyze as summarize_job
from fileflow_stages.analysis.ocr import default_reader
from fileflow_stages.detect.handler import detect_file
from fileflow_stages.finalize.handler import finalize
from fileflow_stages.image.handler import render
from fileflow_stages.notify.handler import notify

NOW = datetime(2026, 5, 4, 10, 20, tzinfo=UTC)
UPLOAD = UploadKey("user-alice", "file-0001")
STORED = StoredObject(
    upload=UPLOAD,
    bucket="fileflow-uploads-example",
    size=0,
    etag="etag-1",
    version_id="v1",
    sequencer="0" * 64,
    stored_at=NOW,
)
SOURCE = STORED.version
EXECUTION_ARN = f"arn:aws:states:us-east-1:123456789012:execution:fileflow-pipeline:{SOURCE.job_id}"


class FakeStore:
    """S3ObjectStore in memory: `data` None is a version that is gone."""

    def __init__(self, data: bytes | None, content_type: str | None = None) -> None:
        self.data = data
        self.content_type = content_type
        # S3's FULL_OBJECT SHA-256 of the version (hex): what a signed single PUT leaves.
        self.stored_sha256: str | None = None
        self.written: dict[str, Derivative] = {}
        self.writes = 0
        self.fail_reads: Exception | None = None

    def read(self, source: ObjectVersion, *, max_bytes: int) -> StoredContent:
        if self.fail_reads is not None:
            raise self.fail_reads
        if self.data is None:
            raise ObjectGoneError("gone")
        if len(self.data) > max_bytes:
            return StoredContent(self.data[:65536], len(self.data), complete=False)
        return StoredContent(
            self.data,
            len(self.data),
            complete=True,
            content_type=self.content_type,
            stored_sha256=self.stored_sha256,
        )

    def write_derivative(self, key: str, derivative: Derivative, *, source: ObjectVersion) -> None:
        self.writes += 1
        self.written[key] = derivative

    def delete_derivatives(self, keys: list[str]) -> None:
        for key in keys:
            self.written.pop(key, None)


@dataclass
class FakeRecords:
    """DynamoRecords in memory, with its conditions; `deleted` is the file's tombstone."""

    declared_file: DeclaredFile = field(default_factory=DeclaredFile)
    source_tag: str = SOURCE.source_tag
    deleted: bool = False
    jobs: dict[str, Job] = field(default_factory=dict)
    states: list[FileProcessingState] = field(default_factory=list)
    events: list[StageEvent] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    fail_failed_events: bool = False
    # Review items by id, and the file item's `review` as the owner sees it.
    reviews: dict[str, dict[str, Any]] = field(default_factory=dict)
    file_review: dict[str, Any] | None = None

    def queue(self, source: ObjectVersion = SOURCE) -> Job:
        """What the starter's queue_job writes."""
        job = Job(
            job_id=source.job_id,
            task=Task.DETECTION,
            status=JobStatus.QUEUED,
            user_id=UPLOAD.user_id,
            file_id=UPLOAD.file_id,
            source=source,
            detected_type="application/octet-stream",
            queued_at=NOW,
        )
        self.jobs[job.job_id] = job
        return job

    def declared(self, upload: UploadKey) -> DeclaredFile:
        if self.deleted:
            raise FileDeletedError("deleted")
        return self.declared_file

    def record_processing(self, upload: UploadKey, source: ObjectVersion, state: FileProcessingState) -> bool:
        self.calls.append(f"record_processing:{state.status.value}")
        if self.deleted:
            raise FileDeletedError("deleted")
        if source.source_tag != self.source_tag:
            return False
        self.states.append(state)
        return True

    def record_stage(
        self,
        upload: UploadKey,
        event: StageEvent,
        *,
        execution_arn: str | None,
        source: ObjectVersion | None = None,
    ) -> None:
        if self.deleted:
            raise FileDeletedError("deleted")
        if self.fail_failed_events and event.state is StageState.FAILED:
            raise ClientError({"Error": {"Code": "ThrottlingException"}}, "TransactWriteItems")
        assert execution_arn == event.execution_arn
        self.events.append(event)

    def get_job(self, file_id: str, job_id: str) -> Job | None:
        return self.jobs.get(job_id)

    def start_job(self, job: Job, *, task: Task, detected_type: str, at: datetime) -> Job | None:
        current = self.jobs.get(job.job_id)
        if current is None or not current.restartable:
            return None
        started = replace(
            current,
            status=JobStatus.RUNNING,
            task=task,
            detected_type=detected_type,
            started_at=at,
            ended_at=None,
            attempts=current.attempts + 1,
            error=None,
        )
        self.jobs[job.job_id] = started
        return started

    def merge_job_result(self, job: Job, result: dict[str, Any]) -> None:
        current = self.jobs.get(job.job_id)
        if current is None or current.status is not JobStatus.RUNNING:
            raise FileDeletedError(f"job {job.job_id} is no longer running")
        self.jobs[job.job_id] = replace(current, result={**current.result, **result})

    def finish_job(
        self, job: Job, *, status: JobStatus, at: datetime, result: dict[str, Any], error: JobError | None
    ) -> None:
        self.calls.append(f"finish_job:{status.value}")
        current = self.jobs.get(job.job_id)
        if current is not None and current.status in (JobStatus.RUNNING, JobStatus.QUEUED):
            self.jobs[job.job_id] = replace(current, status=status, ended_at=at, result=result, error=error)

    def record_review(self, upload: UploadKey, source: ObjectVersion, review: dict[str, Any]) -> bool:
        if self.deleted:
            raise FileDeletedError("deleted")
        if source.source_tag != self.source_tag:
            return False
        self.file_review = dict(review)
        return True

    def open_review(self, item: dict[str, Any], *, task_token: str) -> bool:
        current = self.reviews.get(item["review_id"])
        if current is not None and current["status"] != "pending":
            return False
        kept = {"created_at": current["created_at"], "gsi1sk": current["gsi1sk"]} if current else {}
        self.reviews[item["review_id"]] = {**item, **kept, "task_token": task_token}
        return True

    def escalate_review(self, review_id: str, *, task_token: str, at: str) -> bool:
        current = self.reviews.get(review_id)
        if current is None or current["status"] == "expired":
            return False
        self.reviews[review_id] = {
            **current,
            "status": "escalated",
            "task_token": task_token,
            "escalated_at": at,
        }
        return True

    def expire_review(
        self, review_id: str, *, decision: str, reviewer: str, at: str
    ) -> dict[str, Any] | None:
        current = self.reviews.get(review_id)
        if current is None:
            return None
        expired = {
            **current,
            "status": "expired",
            "decision": decision,
            "reviewer": reviewer,
            "decided_at": at,
        }
        expired.pop("task_token", None)
        self.reviews[review_id] = expired
        return expired

    def get_review(self, review_id: str) -> dict[str, Any] | None:
        return self.reviews.get(review_id)

    @property
    def job(self) -> Job:
        [job] = self.jobs.values()
        return job

    def stage_events(self) -> list[tuple[str, str]]:
        return [(event.stage.value, event.state.value) for event in self.events]


class FakeWebhookEvents:
    """The webhook queue: the message bodies SqsWebhookEvents would send; `fail` makes a send raise."""

    def __init__(self) -> None:
        self.bodies: list[str] = []
        self.fail: Exception | None = None

    def publish(self, event: EventMessage) -> None:
        if self.fail is not None:
            raise self.fail
        self.bodies.append(event.model_dump_json())

    @property
    def sent(self) -> list[EventMessage]:
        return [EventMessage.model_validate_json(body) for body in self.bodies]


def install(
    monkeypatch: pytest.MonkeyPatch,
    store: FakeStore,
    records: FakeRecords,
    webhooks: FakeWebhookEvents | None = None,
    **settings: Any,
) -> None:
    """The fakes as the stages' services (what `services()` builds from the environment)."""
    stage_settings = StageSettings(
        table_name="fileflow-metadata",
        bucket_name="fileflow-uploads",
        **{"thumbnail_sizes": [128], **settings},
    )
    services = Services(
        settings=stage_settings,
        records=cast(DynamoRecords, records),
        store=cast(S3ObjectStore, store),
        webhooks=webhooks or FakeWebhookEvents(),
    )
    monkeypatch.setattr(stage_runtime, "services", lambda: services)
    index = FakeHashIndex()
    monkeypatch.setattr(
        analysis_handler,
        "ports_for",
        lambda context: Ports(FakeAnalysisSources(store), index, default_reader("tiny"), (ObjectGoneError,)),
    )


@dataclass
class FakeAnalysisSources:
    """The analysis stage's reads, from the fake store: the derivatives written, the original."""

    store: FakeStore

    def derivative(self, key: str, *, max_bytes: int) -> bytes:
        return self.store.written[key].body

    def original(self, *, head_bytes: int) -> OriginalRead:
        data = self.store.data
        if data is None:
            raise ObjectGoneError("gone")
        return OriginalRead(data[:head_bytes], len(data), hashlib.sha256(data).hexdigest())


@dataclass
class FakeHashIndex:
    entries_by_user: dict[str, list[HashEntry]] = field(default_factory=dict)

    def entries(self, user_id: str) -> list[HashEntry]:
        return list(self.entries_by_user.get(user_id, []))

    def put(self, user_id: str, entry: HashEntry) -> None:
        kept = [other for other in self.entries_by_user.get(user_id, []) if other.file_id != entry.file_id]
        self.entries_by_user[user_id] = [*kept, entry]


def payload(**state: Any) -> dict[str, Any]:
    """The stage payload, the state starting from the starter's execution input."""
    return {
        "state": {**execution_input(replace(STORED, size=len(state.pop("data", b""))), "corr-1"), **state},
        "execution_arn": EXECUTION_ARN,
        "retry_count": 0,
    }


def detected(**fields: Any) -> dict[str, Any]:
    base = {
        "kind": "image",
        "mime": "image/jpeg",
        "label": "jpeg",
        "task": "image_renditions",
        "mismatch": {},
    }
    return base | fields


def run_pipeline(**state: Any) -> dict[str, Any]:
    """detect -> image -> analysis -> finalize -> notify, the way the state machine chains them."""
    current: dict[str, Any] = payload(**state)["state"]
    for stage, work, path in (
        (Stage.DETECT, detect_file, "detect"),
        (Stage.IMAGE, render, "content"),
        (Stage.ANALYSIS, summarize_job, "analysis"),
        (Stage.FINALIZE, finalize, "finalize"),
        (Stage.NOTIFY, notify, "notify"),
    ):
        current = {**current, path: run_stage(stage, {**payload(), "state": current}, work)}
    return current
