from typing import Annotated

from pydantic import Field, PositiveFloat, PositiveInt
from pydantic_settings import BaseSettings, SettingsConfigDict

from fileflow_common.settings_types import BucketName, TableName
from fileflow_stages._runtime.limits import Limits
from fileflow_stages.video.limits import VideoLimits

_DEFAULTS = Limits()
_VIDEO = VideoLimits()


class StageSettings(BaseSettings):
    """Environment of every stage function, validated once per execution environment.

    THUMBNAIL_SIZES is a JSON list, e.g. ``[1024, 512, 128]``.
    """

    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    table_name: TableName
    bucket_name: BucketName
    max_object_bytes: PositiveInt = _DEFAULTS.max_object_bytes
    max_image_pixels: PositiveInt = _DEFAULTS.max_image_pixels
    max_animation_frames: PositiveInt = _DEFAULTS.max_animation_frames
    thumbnail_sizes: Annotated[list[PositiveInt], Field(min_length=1, max_length=8)] = list(
        _DEFAULTS.thumbnail_sizes
    )
    max_pdf_pages: PositiveInt = _DEFAULTS.max_pdf_pages
    max_text_bytes: PositiveInt = _DEFAULTS.max_text_bytes
    max_archive_entries: PositiveInt = _DEFAULTS.max_archive_entries
    max_archive_uncompressed_bytes: PositiveInt = _DEFAULTS.max_archive_uncompressed_bytes
    max_compression_ratio: PositiveInt = _DEFAULTS.max_compression_ratio

    # The video stage: its original goes to this directory (Lambda's ephemeral storage), in a fresh folder.
    work_dir: str = "/tmp"  # noqa: S108 - Lambda's only writable directory
    max_video_bytes: PositiveInt = _VIDEO.max_input_bytes
    max_video_seconds: PositiveFloat = _VIDEO.max_duration_s
    max_video_dimension: PositiveInt = _VIDEO.max_dimension
    max_video_pixels: PositiveInt = _VIDEO.max_pixels
    # Below the function's 10-minute timeout, leaving time to upload the renditions.
    video_ffmpeg_timeout_seconds: PositiveFloat = 480.0
    # The notify stage queues its webhook event here; unset (before webhooks, `sam local`): none is sent.
    webhook_queue_url: str | None = None

    @property
    def video_limits(self) -> VideoLimits:
        return VideoLimits(
            max_input_bytes=self.max_video_bytes,
            max_duration_s=self.max_video_seconds,
            max_dimension=self.max_video_dimension,
            max_pixels=self.max_video_pixels,
            ffmpeg_timeout_s=self.video_ffmpeg_timeout_seconds,
        )

    @property
    def limits(self) -> Limits:
        return Limits(
            max_object_bytes=self.max_object_bytes,
            max_image_pixels=self.max_image_pixels,
            max_animation_frames=self.max_animation_frames,
            thumbnail_sizes=tuple(self.thumbnail_sizes),
            max_pdf_pages=self.max_pdf_pages,
            max_text_bytes=self.max_text_bytes,
            max_archive_entries=self.max_archive_entries,
            max_archive_uncompressed_bytes=self.max_archive_uncompressed_bytes,
            max_compression_ratio=self.max_compression_ratio,
        )
