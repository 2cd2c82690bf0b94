"""Analysis stage: a metadata summary of the file from its content stage's result (local, offline)."""

from __future__ import annotations

from fileflow_common.pipeline import Stage
from fileflow_stages._runtime.stage import StageContext, StageResult, stage_handler
from fileflow_stages.analysis.summary import summarize


def analyze(context: StageContext) -> StageResult:
    detected = context.invocation.state.detect
    if detected is None:
        raise ValueError("the detect stage's output ($.detect) is missing")
    job = context.job()
    if job.status.terminal:  # run again for a finished job: its summary stands
        summary = job.result.get("summary") or {}
        return StageResult(output={"findings": len(summary.get("findings") or []), "already_finished": True})
    summary = summarize(
        kind=detected.kind.value, detected_type=detected.mime, size=context.file.size, result=job.result
    )
    context.services.records.merge_job_result(job, {"summary": summary})
    return StageResult(
        output={"findings": len(summary["findings"])}, detail={"highlights": len(summary["highlights"])}
    )


lambda_handler = stage_handler(Stage.ANALYSIS, analyze)
