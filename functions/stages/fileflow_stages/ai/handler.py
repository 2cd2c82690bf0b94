"""AI stage: Claude's analysis of the file where the routing policy says it pays; never fails the file.

Thin: the state and the job in, one call into the analyzer (service.py), the outcome on the job's result
(`ai`, which finalize puts in the file's analysis) and a small `$.ai` for the workflow.
"""

from __future__ import annotations

from typing import Any

from fileflow_common.observability import logger
from fileflow_common.pipeline import Stage
from fileflow_stages._runtime.stage import StageContext, StageResult, stage_handler
from fileflow_stages.ai.adapters import ai_settings, analyzer
from fileflow_stages.ai.policy import AiStatus, mode_of
from fileflow_stages.ai.service import FileToAnalyze


def _complexity(context: StageContext) -> float | None:
    """`$.analysis.complexity`, the local analysis' score (None until it gives one)."""
    analysis = (context.invocation.state.model_extra or {}).get("analysis") or {}
    value = analysis.get("complexity") if isinstance(analysis, dict) else None
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _finished_output(record: dict[str, Any] | None) -> dict[str, Any]:
    record = record or {}
    return {
        "ai_status": record.get("status", AiStatus.NOT_REQUESTED.value),
        "confidence": record.get("confidence"),
        "review_required": False,
        "kind": record.get("kind"),
        "already_finished": True,
    }


def analyze(context: StageContext) -> StageResult:
    detected = context.invocation.state.detect
    if detected is None:
        raise ValueError("the detect stage's output ($.detect) is missing")
    job = context.job()
    if job.status.terminal:  # run again for a finished job: its outcome stands
        return StageResult(output=_finished_output(job.result.get("ai")))
    declared = context.services.records.declared(context.file.upload)
    summary = job.result.get("summary") or {}
    outcome = analyzer().analyze(
        FileToAnalyze(
            user_id=context.file.user_id,
            file_id=context.file.file_id,
            content_kind=detected.kind.value,
            mode=mode_of(declared.analysis_mode),
            complexity=_complexity(context),
            derivatives=list(job.result.get("derivative_records") or []),
            original_key=context.file.key,
            local_facts={"type": detected.mime, **(summary.get("highlights") or {})},
        )
    )
    logger.info(
        "ai outcome",
        extra={"ai_status": outcome.status.value, "reason": outcome.reason, **outcome.usage.describe()},
    )
    context.services.records.merge_job_result(job, {"ai": outcome.record()})
    output = outcome.output(ai_settings().ai_review_thresholds)
    return StageResult(output=output, detail={"ai_status": outcome.status.value, "reason": outcome.reason})


lambda_handler = stage_handler(Stage.AI, analyze)
