"""The failure path: every stage's `Catch` leads here. Records why the file failed, on the file and its job.

- `FileRejected` (a bad file: corrupt, a bomb, unsafe, over a limit, an unsupported type, bytes other than
  the declared SHA-256's, which also records `integrity: mismatch`): the file ends
  `failed` (`rejected` for an unsupported type) with the stage's code and message; the workflow succeeds,
  since it did its job.
- `FileDeleted`: the file was deleted meanwhile; nothing is recorded, the workflow ends quietly.
- anything else (a dependency still failing after the retries, a timeout, a bug): the file ends `failed`
  with `retryable: true`, and the workflow then fails, so the operator's alarm sees it.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from fileflow_common.errors import FileDeletedError
from fileflow_common.files import FileStatus
from fileflow_common.observability import logger, metrics
from fileflow_common.pipeline import Stage
from fileflow_stages._runtime.content import ContentKind
from fileflow_stages._runtime.integrity import Integrity, IntegrityMismatchError
from fileflow_stages._runtime.jobs import JobError, JobStatus
from fileflow_stages._runtime.stage import StageContext, StageResult, stage_handler
from fileflow_stages._runtime.state import CaughtError, FileProcessingState

REJECTED = "FileRejected"
DELETED = "FileDeleted"
UNSUPPORTED = "UnsupportedType"


def job_error(caught: CaughtError) -> JobError:
    """The error as the job and the file item show it: the stage's code for a bad file, else the name."""
    cause: dict[str, Any] = {}
    if caught.cause:
        try:
            parsed = json.loads(caught.cause)
            cause = parsed if isinstance(parsed, dict) else {}
        except json.JSONDecodeError:
            cause = {"errorMessage": caught.cause}
    message = str(cause.get("errorMessage") or caught.cause or caught.error)
    if caught.error == REJECTED:
        try:
            rejected = json.loads(message)
            return JobError(str(rejected["code"]), str(rejected["message"])[:1000], retryable=False)
        except (json.JSONDecodeError, KeyError, TypeError):
            return JobError("RejectedContent", message[:1000], retryable=False)
    return JobError(caught.error, message[:1000], retryable=True)


def record_failure(context: StageContext) -> StageResult:
    state = context.invocation.state
    caught = state.error or CaughtError(Error="Unknown", Cause=None)
    if caught.error == DELETED:
        return StageResult(output={"outcome": "deleted", "fatal": False})
    error = job_error(caught)
    file = context.file
    detected = state.detect
    status = FileStatus.REJECTED if error.code == UNSUPPORTED else FileStatus.FAILED
    try:
        job = context.job()
        context.services.records.record_processing(
            file.upload,
            file.source,
            FileProcessingState(
                status=status,
                job_id=file.job_id,
                # Rejected at detection, there is no `$.detect`: the type the detect stage put on the job.
                detected_type=detected.mime if detected else job.detected_type,
                detected_kind=detected.kind if detected else ContentKind.UNKNOWN,
                at=context.clock(),
                final=True,
                type_mismatch=detected.mismatch if detected else {},
                error=error,
                integrity=Integrity.MISMATCH if error.code == IntegrityMismatchError.code else None,
            ),
        )
        context.services.records.finish_job(
            job, status=JobStatus.FAILED, at=context.clock(), result={}, error=error
        )
    except FileDeletedError:
        return StageResult(output={"outcome": "deleted", "fatal": False})
    metrics.add_metric(name="JobsFailed", unit=MetricUnit.Count, value=1)
    logger.info(
        "file failed", extra={"code": error.code, "status": status.value, "retryable": error.retryable}
    )
    outcome = "rejected" if not error.retryable else "error"
    return StageResult(
        output={"outcome": outcome, "fatal": error.retryable, "code": error.code, "status": status.value},
        # On the stage's `succeeded` event (run_stage writes it: one event per failure).
        detail={"code": error.code, "message": error.message},
    )


# Its own `failed` event is the record it writes (`started` would only repeat the stage that failed); a
# file deleted meanwhile (its event could not be written either) ends the workflow quietly.
lambda_handler = stage_handler(
    Stage.FAILED, record_failure, record_started=False, deleted_output={"outcome": "deleted", "fatal": False}
)
