"""What the image, document and archive stages share: read the original, analyse it, store the results.

Bytes in, an `Analysis` out (the domain modules hold no boto3); the derivatives go to
`derived/{user}/{file}/{name}` (deterministic keys: a retried stage overwrites the same objects), and
the analysis goes on the job's result, where the finalize stage picks it up. The bytes are checked
against the SHA-256 the client declared before anything is made of them (integrity.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fileflow_common.errors import FileDeletedError
from fileflow_common.keys import derived_key
from fileflow_common.observability import logger
from fileflow_stages._runtime.content import Analysis, Derivative, LimitExceededError
from fileflow_stages._runtime.integrity import Integrity, verify_integrity
from fileflow_stages._runtime.jobs import Job
from fileflow_stages._runtime.limits import Limits
from fileflow_stages._runtime.stage import StageContext, StageResult, StageWork
from fileflow_stages._runtime.state import Detected

type Analyzer = Callable[[Detected, bytes, Limits], Analysis]


def verified_integrity(
    context: StageContext, *, read_sha256: str, stored_sha256: str | None
) -> Integrity | None:
    """Every byte of the version was read: check it against the upload's declared SHA-256 (if any)."""
    declared = context.services.records.declared(context.file.upload).sha256
    return verify_integrity(declared, read_sha256=read_sha256, stored_sha256=stored_sha256)


def store_analysis(
    context: StageContext,
    analysis: Analysis,
    derivatives: list[dict[str, Any]],
    *,
    integrity: Integrity | None,
) -> StageResult:
    """Record the analysis, the written derivatives and the integrity on the job; the workflow gets names."""
    detected = context.invocation.state.detect
    result: dict[str, Any] = {
        "detected_type": analysis.content_type or (detected.mime if detected else None),
        "derivatives": [entry["name"] for entry in derivatives],
        "derivative_records": derivatives,
        "analysis": analysis.result,
        "findings": [finding.describe() for finding in analysis.findings],
    }
    if integrity is not None:
        result["integrity"] = integrity.value
    try:
        context.services.records.merge_job_result(context.job(), result)
    except FileDeletedError:
        # Deleted meanwhile: the API's clean-up may have listed derived/ before these were written.
        context.services.store.delete_derivatives([entry["key"] for entry in derivatives])
        raise
    return StageResult(
        output={"derivatives": len(derivatives), "findings": len(analysis.findings)},
        detail={"derivatives": len(derivatives), "findings": len(analysis.findings)},
    )


def finished_result(job: Job) -> StageResult | None:
    """A stage run again for a finished job (a replayed execution): nothing is read or written again."""
    if not job.status.terminal:
        return None
    logger.info("job already finished: nothing repeated", extra={"status": job.status})
    derivatives, findings = job.result.get("derivatives") or [], job.result.get("findings") or []
    return StageResult(
        output={"derivatives": len(derivatives), "findings": len(findings), "already_finished": True}
    )


def write_derivatives(context: StageContext, derivatives: list[Derivative]) -> list[dict[str, Any]]:
    file = context.file
    written: list[dict[str, Any]] = []
    for derivative in derivatives:
        key = derived_key(file.user_id, file.file_id, derivative.name)
        context.services.store.write_derivative(key, derivative, source=file.source)
        written.append({**derivative.describe(), "key": key})
    return written


def analyzer_stage(analyze: Analyzer) -> StageWork:
    """The work of a stage that reads the whole original and stores what `analyze` made of its bytes."""

    def work(context: StageContext) -> StageResult:
        return run_analyzer(context, analyze)

    return work


def run_analyzer(context: StageContext, analyze: Analyzer) -> StageResult:
    detected = context.invocation.state.detect
    if detected is None:
        raise ValueError("the detect stage's output ($.detect) is missing")
    finished = finished_result(context.job())
    if finished is not None:
        return finished
    limits = context.services.settings.limits
    content = context.services.store.read(context.file.source, max_bytes=limits.max_object_bytes)
    if not content.complete or content.sha256 is None:
        raise LimitExceededError(
            f"object of {content.size} bytes exceeds the {limits.max_object_bytes}-byte limit"
        )
    integrity = verified_integrity(context, read_sha256=content.sha256, stored_sha256=content.stored_sha256)
    analysis = analyze(detected, content.data, limits)
    derivatives = write_derivatives(context, analysis.derivatives)
    return store_analysis(context, analysis, derivatives, integrity=integrity)
