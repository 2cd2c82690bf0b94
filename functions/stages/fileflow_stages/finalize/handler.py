"""Finalize stage: the file record (status, derivatives, analysis) and the job's terminal status.

A file with findings (or whose content contradicts its declared type or extension) needs review; any
other ends processed. A file that went through the human review (`$.review`) gets the reviewer's decision
applied to its AI analysis (docs/reviews.md). The job is finished last: a terminal job means the file
item is in place.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from fileflow_common.files import FileStatus
from fileflow_common.observability import logger, metrics
from fileflow_common.pipeline import Stage
from fileflow_common.reviews import apply_decision
from fileflow_stages._runtime.integrity import Integrity
from fileflow_stages._runtime.jobs import Job, JobStatus
from fileflow_stages._runtime.stage import StageContext, StageResult, stage_handler
from fileflow_stages._runtime.state import FileProcessingState
from fileflow_stages.review.items import outcome_of

_JOB_METRICS = {JobStatus.SUCCEEDED: "JobsSucceeded", JobStatus.NEEDS_REVIEW: "JobsNeedingReview"}
_FILE_STATUS = {JobStatus.SUCCEEDED: FileStatus.PROCESSED, JobStatus.NEEDS_REVIEW: FileStatus.NEEDS_REVIEW}


def _finished_status(job: Job) -> FileStatus:
    if job.status in _FILE_STATUS:
        return _FILE_STATUS[job.status]
    unsupported = job.error is not None and job.error.code == "UnsupportedType"
    return FileStatus.REJECTED if unsupported else FileStatus.FAILED


def apply_review(context: StageContext, result: dict[str, Any]) -> dict[str, Any] | None:
    """A reviewed file: the decision applied to its AI analysis (`$.review` names the review)."""
    review = getattr(context.invocation.state, "review", None)
    if not isinstance(review, dict) or not isinstance(review.get("review_id"), str):
        return None
    review_id = review["review_id"]
    item = context.services.records.get_review(review_id)
    outcome = outcome_of(item, review_id=review_id, decision=str(review.get("decision")))
    result["ai"] = apply_decision(result.get("ai"), outcome)
    described = outcome.describe()
    result["review"] = described
    return described


def finalize(context: StageContext) -> StageResult:
    detected = context.invocation.state.detect
    if detected is None:
        raise ValueError("the detect stage's output ($.detect) is missing")
    file = context.file
    job = context.job()
    if job.status.terminal:
        # Run again (a retry after the job finished, a replayed execution): the recorded outcome stands;
        # recording it again would drop the derivatives (`derivative_records` leaves the job's result).
        return StageResult(output={"status": _finished_status(job).value, "already_finished": True})
    result = dict(job.result)
    review = bool(result.get("findings")) or bool(detected.mismatch)
    job_status = JobStatus.NEEDS_REVIEW if review else JobStatus.SUCCEEDED
    file_status = FileStatus.NEEDS_REVIEW if review else FileStatus.PROCESSED
    records = result.pop("derivative_records", [])
    if detected.mismatch:
        result["type_mismatch"] = detected.mismatch
    review_state = apply_review(context, result)
    analysis = {**(result.get("analysis") or {}), "summary": result.get("summary", {})}
    if result.get("ai") is not None:
        analysis["ai"] = result["ai"]
    if result.get("features"):
        analysis["features"] = result["features"]
    if review_state is not None:
        analysis["review"] = review_state
    integrity = result.get("integrity")
    recorded = context.services.records.record_processing(
        file.upload,
        file.source,
        FileProcessingState(
            status=file_status,
            job_id=file.job_id,
            detected_type=result.get("detected_type") or detected.mime,
            detected_kind=detected.kind,
            at=context.clock(),
            final=True,
            type_mismatch=detected.mismatch,
            derivatives=records,
            analysis=analysis,
            integrity=Integrity(integrity) if integrity else None,
            review=review_state,
        ),
    )
    if not recorded:
        logger.info("file item describes a newer version: results kept on the job only")
    context.services.records.finish_job(job, status=job_status, at=context.clock(), result=result, error=None)
    metrics.add_metric(name=_JOB_METRICS[job_status], unit=MetricUnit.Count, value=1)
    detail = {"status": file_status.value}
    if review_state is not None:
        detail["review"] = review_state["decision"]
    return StageResult(output={"status": file_status.value}, detail=detail)


lambda_handler = stage_handler(Stage.FINALIZE, finalize)
