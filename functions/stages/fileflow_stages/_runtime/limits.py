"""The processor's limits: what it refuses to load, decode or list (docs/processing.md, "Limits")."""

from __future__ import annotations

from dataclasses import dataclass

MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Limits:
    # Objects larger than this are never read into memory: their job fails with LimitExceeded.
    max_object_bytes: int = 100 * MIB
    # width x height of one frame; Pillow's own default bomb threshold is ~89.5 MP.
    max_image_pixels: int = 50_000_000
    max_animation_frames: int = 1000
    # Longest edge of each thumbnail, in pixels (each is written as WEBP and as JPEG, or PNG with alpha).
    thumbnail_sizes: tuple[int, ...] = (1024, 512, 128)
    max_pdf_pages: int = 2000
    # Extracted text kept as the text.txt derivative; the file item keeps a short preview only.
    max_text_chars: int = 2_000_000
    # Text files (plain, CSV, JSON, Markdown) analysed whole; larger ones are refused.
    max_text_bytes: int = 32 * MIB
    max_archive_entries: int = 10_000
    max_archive_uncompressed_bytes: int = 1024 * MIB
    # Per entry (entries over 1 MiB) and for the whole archive.
    max_compression_ratio: int = 100
    # Entries listed on the file item; the full listing is the listing.json derivative.
    listing_preview_entries: int = 20

    def __post_init__(self) -> None:
        if not self.thumbnail_sizes or any(size < 1 for size in self.thumbnail_sizes):
            raise ValueError("thumbnail_sizes must list positive sizes")
