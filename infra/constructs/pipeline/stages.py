"""The workflow's stages: one Lambda function each, with its own layers, memory size and timeout.

Sizing (docs/processing.md, "Stages"): Lambda's CPU grows with memory (1769 MB is one vCPU); the content
stages hold the file in memory (at most the 100 MiB object limit) and decode it; the video stage streams
the original to /tmp and runs ffmpeg, so it has the most memory, time and ephemeral storage.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from aws_cdk import Duration

# "crypto" beside "documents": pypdf opens AES-encrypted PDFs with cryptography.
type LayerName = Literal["images", "documents", "crypto", "video", "analysis", "ai"]
# What a stage may do with the bucket: read originals, write derivatives.
type BucketAccess = Literal["none", "read", "read_write"]


@dataclass(frozen=True)
class StageSpec:
    name: str  # the package fileflow_stages.<name>, and the function's service name
    construct_id: str  # the function's logical id (sam local invoke -t ... <construct_id>)
    description: str
    memory_mb: int
    timeout: Duration
    layers: tuple[LayerName, ...] = ()
    bucket: BucketAccess = "none"
    ephemeral_storage_mib: int | None = None
    # How many copies may run at once (times the context's stage_concurrency_scale); more wait in the
    # workflow's throttle retry (definition.py).
    reserved_concurrency: int = 4

    @property
    def handler(self) -> str:
        return f"fileflow_stages.{self.name}.handler.lambda_handler"


STAGES: tuple[StageSpec, ...] = (
    StageSpec(
        "detect",
        "DetectStageFunction",
        "Detects a stored file's type from its bytes and routes it",
        memory_mb=512,
        timeout=Duration.seconds(30),
        layers=("documents", "crypto"),
        bucket="read",
        reserved_concurrency=6,
    ),
    StageSpec(
        "image",
        "ImageStageFunction",
        "Image renditions and thumbnails (Pillow)",
        # A 50 MP RGBA frame is 200 MB and resizing holds a few; 2048 MB is also more than one vCPU.
        memory_mb=2048,
        timeout=Duration.seconds(60),
        layers=("images",),
        bucket="read_write",
    ),
    StageSpec(
        "document",
        "DocumentStageFunction",
        "Text of PDF and DOCX documents, statistics of text files",
        memory_mb=1024,
        timeout=Duration.seconds(60),
        layers=("documents", "crypto"),
        bucket="read_write",
    ),
    StageSpec(
        "archive",
        "ArchiveStageFunction",
        "Listings of ZIP and TAR archives (inspected, never extracted)",
        memory_mb=1024,
        timeout=Duration.seconds(60),
        layers=("documents", "crypto"),
        bucket="read_write",
    ),
    StageSpec(
        "video",
        "VideoStageFunction",
        "Transcodes MP4, MOV/M4V and WebM videos to an HLS ladder, a poster and a thumbnail (ffmpeg)",
        # ffmpeg's x264 uses every vCPU it gets: 3008 MB is ~1.7 vCPUs.
        memory_mb=3008,
        timeout=Duration.minutes(10),
        layers=("video",),
        bucket="read_write",
        # The original (up to the 2 GiB limit) plus its renditions.
        ephemeral_storage_mib=6144,
        reserved_concurrency=2,
    ),
    StageSpec(
        "analysis",
        "AnalysisStageFunction",
        "A metadata summary and the local features: hashes, duplicates, EXIF, OCR, text (offline)",
        # OCR (faster-paddle, ONNX Runtime) uses every vCPU it gets, and an original of up to 8 MiB is
        # decoded whole for it: 2048 MB is ~1.2 vCPUs. The OCR budget (15 s) leaves room under 60 s.
        memory_mb=2048,
        timeout=Duration.seconds(60),
        # Pillow from "images"; numpy, faster-paddle, langdetect, yake from "analysis": 177 MiB with
        # runtime and common, under Lambda's 250 MiB (docs/processing.md, "Local analysis").
        layers=("images", "analysis"),
        # The original (EXIF, SHA-256) and its derivatives (thumbnail, text, poster); writes nothing.
        bucket="read",
    ),
    StageSpec(
        "ai",
        "AiStageFunction",
        "Claude's analysis where the routing policy says it pays (cached, costed, budgeted)",
        memory_mb=512,
        # Claude's calls, their retries and a long document's chunks; the stage keeps within this itself.
        timeout=Duration.seconds(120),
        layers=("ai",),
        # Reads what it sends (the 1024-px thumbnail, a document's text, a text file's original).
        bucket="read",
    ),
    StageSpec(
        "review",
        "ReviewStageFunction",
        "Opens a human review of a low-confidence AI result (the workflow waits); applies its timeout rule",
        memory_mb=256,
        timeout=Duration.seconds(30),
    ),
    StageSpec(
        "finalize",
        "FinalizeStageFunction",
        "Writes the file record (status, derivatives, analysis) and ends the job",
        memory_mb=256,
        timeout=Duration.seconds(30),
    ),
    StageSpec(
        "notify",
        "NotifyStageFunction",
        "Records the file's outcome event (file.processed, file.needs_review, file.failed)",
        memory_mb=256,
        timeout=Duration.seconds(30),
    ),
    StageSpec(
        "failure",
        "FailureStageFunction",
        "The failure path: records why a file failed on the file and its job",
        memory_mb=256,
        timeout=Duration.seconds(30),
        reserved_concurrency=2,
    ),
)

STAGES_BY_NAME = {stage.name: stage for stage in STAGES}


def stage_event_name(name: str) -> str:
    """The stage as its events and metrics name it (`fileflow_common.pipeline.Stage`): the failure path's
    function records the stage `failed`; every other stage is named after its function."""
    return "failed" if name == "failure" else name
