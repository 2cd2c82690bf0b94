"""Image stage: thumbnails and renditions with Pillow (image/images.py), in the `images` layer."""

from __future__ import annotations

from fileflow_common.pipeline import Stage
from fileflow_stages._runtime.content import Analysis
from fileflow_stages._runtime.content_stage import analyzer_stage
from fileflow_stages._runtime.limits import Limits
from fileflow_stages._runtime.stage import stage_handler
from fileflow_stages._runtime.state import Detected
from fileflow_stages.image.images import render_image


def analyze(detected: Detected, data: bytes, limits: Limits) -> Analysis:
    return render_image(data, limits)


render = analyzer_stage(analyze)
lambda_handler = stage_handler(Stage.IMAGE, render)
