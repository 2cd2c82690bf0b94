from typing import Annotated

from pydantic import Field, PositiveInt
from pydantic_settings import BaseSettings, SettingsConfigDict

from fileflow_common.settings_types import BucketName, QueueUrl, TableName
from fileflow_processor.limits import Limits

_DEFAULTS = Limits()
DAY = 24 * 3600


class ProcessorSettings(BaseSettings):
    """Environment of the processor function, validated once per execution environment.

    THUMBNAIL_SIZES is a JSON list, e.g. ``[1024, 512, 128]``.
    """

    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    table_name: TableName
    bucket_name: BucketName
    idempotency_table_name: TableName
    # The processing queue: failed messages get a short, growing visibility timeout (retry backoff).
    queue_url: QueueUrl
    # The queue's redrive policy: the last attempt marks the job failed before the message is dead-lettered.
    max_receive_count: Annotated[int, Field(ge=1, le=1000)] = 3
    # A failed message is retried after base x 2^(receive count - 1) seconds.
    retry_backoff_seconds: Annotated[int, Field(ge=0, le=3600)] = 10
    # Idempotency records outlive the DLQ's retention: a redrive within it never repeats a side effect.
    idempotency_expiry_seconds: PositiveInt = 14 * DAY
    # A record is not started with less time left than this (it is retried instead of cut short).
    min_remaining_time_ms: PositiveInt = 20_000

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
