"""Analysis stage: the metadata summary, then the local features (offline: hashes, EXIF, OCR, text).

The features go on the job's result (`features`, beside `summary`), which finalize puts on the file
item; the workflow gets counts only (`$.analysis`). Numpy, faster-paddle, langdetect and yake come from
the `analysis` layer, Pillow from `images`.
"""

from __future__ import annotations

from functools import cache

from botocore.exceptions import BotoCoreError, ClientError

from fileflow_common.aws import dynamodb_resource, s3_client
from fileflow_common.errors import FileDeletedError
from fileflow_common.observability import logger
from fileflow_common.pipeline import Stage
from fileflow_stages._runtime.integrity import Integrity
from fileflow_stages._runtime.stage import StageContext, StageResult, stage_handler
from fileflow_stages._runtime.state import ObjectGoneError
from fileflow_stages.analysis.adapters import DynamoHashIndex, S3Sources
from fileflow_stages.analysis.features import FileFacts, LocalFeatures, Ports, local_features
from fileflow_stages.analysis.ocr import default_reader
from fileflow_stages.analysis.settings import AnalysisSettings
from fileflow_stages.analysis.summary import summarize

# Not the file's failures: the stage is retried (S3, DynamoDB) or the workflow ends (deleted).
_PLATFORM_ERRORS = (ClientError, BotoCoreError, FileDeletedError, ObjectGoneError)
_VERIFIED = frozenset({Integrity.STORAGE.value, Integrity.PIPELINE.value})


@cache
def analysis_settings() -> AnalysisSettings:
    return AnalysisSettings()


def ports_for(context: StageContext) -> Ports:
    """The adapters of one invocation (tests with fake services replace this factory)."""
    settings = context.services.settings
    return Ports(
        sources=S3Sources(s3_client(), settings.bucket_name, context.file.source),
        index=DynamoHashIndex(dynamodb_resource().Table(settings.table_name)),
        reader=default_reader(analysis_settings().ocr_model),
        passthrough=_PLATFORM_ERRORS,
    )


def analyze(context: StageContext) -> StageResult:
    detected = context.invocation.state.detect
    if detected is None:
        raise ValueError("the detect stage's output ($.detect) is missing")
    job = context.job()
    if job.status.terminal:  # run again for a finished job: its summary and features stand
        summary = job.result.get("summary") or {}
        recorded = job.result.get("features") or {}
        return StageResult(
            output={
                "findings": len(summary.get("findings") or []),
                "features": LocalFeatures(features=recorded).succeeded,
                "complexity": recorded.get("complexity"),
                "duplicates": int((recorded.get("duplicates") or {}).get("count") or 0),
                "already_finished": True,
            }
        )
    summary = summarize(
        kind=detected.kind.value, detected_type=detected.mime, size=context.file.size, result=job.result
    )
    verified = None
    if detected.kind.value == "video" and job.result.get("integrity") in _VERIFIED:
        verified = context.services.records.declared(context.file.upload).sha256
    facts = FileFacts(
        user_id=context.file.user_id,
        file_id=context.file.file_id,
        kind=detected.kind.value,
        size=context.file.size,
        job_result=job.result,
        verified_sha256=verified,
    )
    found = local_features(facts, ports_for(context), analysis_settings().limits)
    context.services.records.merge_job_result(job, {"summary": summary, "features": found.describe()})
    errors = [name for name, value in found.features.items() if isinstance(value, dict) and "error" in value]
    if errors:
        logger.warning("features not computed", extra={"features": errors})
    return StageResult(
        output={
            "findings": len(summary["findings"]),
            "features": found.succeeded,
            "complexity": found.complexity,
            "duplicates": found.duplicates,
        },
        detail={
            "highlights": len(summary["highlights"]),
            "features": found.succeeded,
            "feature_errors": len(errors),
        },
    )


lambda_handler = stage_handler(Stage.ANALYSIS, analyze)
