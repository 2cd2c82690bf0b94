"""Detect stage: the content's type from its bytes (never the declared type or the extension).

Reads the head of the object (the whole object for a ZIP, to tell a Word document from an archive),
starts the job and routes the file: the workflow's Choice reads `$.detect.kind`. A type Fileflow does not
process is rejected here, before any other stage runs.
"""

from __future__ import annotations

from fileflow_common.files import FileStatus
from fileflow_common.observability import logger
from fileflow_common.pipeline import Stage
from fileflow_stages._runtime.content import ContentKind, UnsupportedTypeError
from fileflow_stages._runtime.jobs import task_for
from fileflow_stages._runtime.object_store import DETECTION_BYTES
from fileflow_stages._runtime.stage import StageContext, StageResult, stage_handler
from fileflow_stages._runtime.state import FileProcessingState
from fileflow_stages.detect.detection import ZIP, declared_mismatch, detect

SUPPORTED = (
    "JPEG, PNG, WEBP and GIF images, PDF and DOCX documents, text (plain, CSV, JSON, Markdown), "
    "ZIP and TAR archives, MP4, MOV/M4V and WebM videos"
)


def detect_file(context: StageContext) -> StageResult:
    file = context.file
    store, records = context.services.store, context.services.records
    limits = context.services.settings.limits
    head = store.read(file.source, max_bytes=DETECTION_BYTES)
    detected = detect(head.data)
    if detected is ZIP and not head.complete and file.size <= limits.max_object_bytes:
        # A DOCX is a ZIP whose entries say so: its central directory is at the end.
        detected = detect(store.read(file.source, max_bytes=limits.max_object_bytes).data)
    task = task_for(detected.kind)
    declared = records.declared(file.upload)
    mismatch = declared_mismatch(detected, declared.content_type or head.content_type, declared.filename)
    job = context.job()
    started = records.start_job(job, task=task, detected_type=detected.mime, at=context.clock())
    if started is None:
        # The file item keeps the finished job's outcome (never back to "processing").
        logger.info("job already finished: nothing repeated", extra={"status": job.status})
    else:
        records.record_processing(
            file.upload,
            file.source,
            FileProcessingState(
                status=FileStatus.PROCESSING,
                job_id=file.job_id,
                detected_type=detected.mime,
                detected_kind=detected.kind,
                at=context.clock(),
                type_mismatch=mismatch,
            ),
        )
    if detected.kind is ContentKind.UNKNOWN:
        raise UnsupportedTypeError(
            f"content is {detected.label} ({detected.mime}); Fileflow processes {SUPPORTED}"
        )
    output = {
        "kind": detected.kind.value,
        "mime": detected.mime,
        "label": detected.label,
        "task": task.value,
        "mismatch": mismatch,
        "already_finished": started is None,
    }
    return StageResult(output=output, detail={"kind": detected.kind.value, "type": detected.mime})


lambda_handler = stage_handler(Stage.DETECT, detect_file)
