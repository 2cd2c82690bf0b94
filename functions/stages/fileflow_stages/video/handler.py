"""Video stage: MP4, MOV/M4V and WebM -> an HLS ladder (H.264 + AAC), a poster and a thumbnail.

The original streams to /tmp (never into memory; hashed on the way, integrity.py), ffmpeg (the static
build of the `imageio-ffmpeg` wheel, in the `video` layer) works in a fresh directory there, and every
output is uploaded as a derivative.
Limits on size, duration and resolution come from the settings; over one, or for a truncated or corrupt
video, the file fails with the reason (video/probe.py, video/transcode.py).
"""

from __future__ import annotations

import tempfile
from functools import cache
from pathlib import Path
from typing import Any

from fileflow_common.keys import derived_key
from fileflow_common.observability import logger
from fileflow_common.pipeline import Stage
from fileflow_stages._runtime.content import Analysis, LimitExceededError
from fileflow_stages._runtime.content_stage import finished_result, store_analysis, verified_integrity
from fileflow_stages._runtime.stage import StageContext, StageResult, stage_handler
from fileflow_stages.video.limits import VideoLimits
from fileflow_stages.video.transcode import transcode_video


@cache
def ffmpeg_executable() -> str:
    """The bundled ffmpeg; imported lazily: only this stage's layer has the package."""
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def transcode(context: StageContext) -> StageResult:
    settings = context.services.settings
    limits: VideoLimits = settings.video_limits
    file = context.file
    finished = finished_result(context.job())
    if finished is not None:
        return finished
    if file.size > limits.max_input_bytes:
        raise LimitExceededError(
            f"video of {file.size} bytes exceeds the {limits.max_input_bytes}-byte limit"
        )
    with tempfile.TemporaryDirectory(prefix="fileflow-video-", dir=settings.work_dir) as work:
        work_dir = Path(work)
        source = work_dir / "source"
        downloaded = context.services.store.download(file.source, source, max_bytes=limits.max_input_bytes)
        if downloaded.size > limits.max_input_bytes:
            raise LimitExceededError(f"video exceeds the {limits.max_input_bytes}-byte limit")
        integrity = verified_integrity(
            context, read_sha256=downloaded.sha256, stored_sha256=downloaded.stored_sha256
        )
        output_dir = work_dir / "out"
        output_dir.mkdir()
        result = transcode_video(ffmpeg_executable(), source, output_dir, limits)
        derivatives: list[dict[str, Any]] = []
        for output in result.files:
            key = derived_key(file.user_id, file.file_id, output.name)
            context.services.store.write_file(
                key, output.path, content_type=output.content_type, source=file.source
            )
            derivatives.append(
                {
                    "name": output.name,
                    "content_type": output.content_type,
                    "size": output.path.stat().st_size,
                    "key": key,
                }
            )
    described = result.describe()
    analysis = Analysis(
        result={
            **described["video"],
            "hls": described["hls"],
            "poster": result.poster,
            "thumbnail": result.thumbnail,
        }
    )
    logger.info("video transcoded", extra={"renditions": len(result.renditions), "files": len(derivatives)})
    return store_analysis(context, analysis, derivatives, integrity=integrity)


lambda_handler = stage_handler(Stage.VIDEO, transcode)
