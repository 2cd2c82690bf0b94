"""The video stage's limits: what it refuses to probe or transcode, and the wall-clock budget of ffmpeg."""

from __future__ import annotations

from dataclasses import dataclass

GIB = 1024 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class VideoLimits:
    max_input_bytes: int = 2 * GIB
    max_duration_s: float = 15 * 60.0
    # Longest side and pixel count of one displayed frame: a portrait 2160x3840 passes, 8K does not.
    max_dimension: int = 4096
    max_pixels: int = 4096 * 2160
    # Shared by all ffmpeg runs of one video (probe, ladder, poster): a hostile file cannot hang the stage.
    ffmpeg_timeout_s: float = 600.0

    def __post_init__(self) -> None:
        if min(self.max_input_bytes, self.max_dimension, self.max_pixels) < 1:
            raise ValueError("video limits must be positive")
        if self.max_duration_s <= 0 or self.ffmpeg_timeout_s <= 0:
            raise ValueError("video limits must be positive")
