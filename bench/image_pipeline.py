"""Images per second: our image pipeline vs the naive Pillow pipeline vs libvips, same images and run.

    make bench-images   # = PYTHONPATH=functions/common:functions/processor python -m bench.image_pipeline

Every pipeline turns each image into the same outputs: for each thumbnail size (1024, 512, 128), a
WEBP (quality 80) and a JPEG (quality 85), EXIF orientation applied.
- ours:   fileflow_stages.image.images.render_image (draft() for JPEG, reducing_gap, each size from the
          previous one, colour conversion on the largest thumbnail only)
- naive:  per size: Image.open, exif_transpose, resize(LANCZOS) from the full image, save
- libvips: per size: pyvips.Image.thumbnail_buffer (shrink-on-load), save; Debian's libvips
          (apt-get install libvips42), one thread (VIPS_CONCURRENCY=1: Pillow uses one core too),
          operation cache off (the same inputs repeat)
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
from collections.abc import Callable

from PIL import Image, ImageOps
from rich.console import Console
from rich.table import Table

from bench.figures import record
from fileflow_stages._runtime.limits import Limits
from fileflow_stages.image.images import JPEG_OPTIONS, WEBP_OPTIONS, render_image
from tests import samples

LIMITS = Limits()
SIZES = sorted(LIMITS.thumbnail_sizes, reverse=True)
type Pipeline = Callable[[bytes], int]


def images() -> list[tuple[str, bytes]]:
    """Camera-sized JPEGs (the common upload), plus a PNG and a WEBP."""
    return [
        ("jpeg 4000x3000", samples.jpeg(4000, 3000)),
        ("jpeg 4000x3000 rotated", samples.jpeg(4000, 3000, orientation=6)),
        ("jpeg 3000x2000", samples.jpeg(3000, 2000)),
        ("jpeg 1920x1080", samples.jpeg(1920, 1080)),
        ("png 2400x1600", samples.png(2400, 1600, mode="RGB")),
        ("webp 2000x2000", samples.webp(2000, 2000)),
    ]


def ours(data: bytes) -> int:
    return len(render_image(data, LIMITS).derivatives)


def naive(data: bytes) -> int:
    outputs = 0
    for size in SIZES:
        image = ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")
        scale = min(1.0, size / max(image.size))
        resized = image.resize(
            (max(1, round(image.width * scale)), max(1, round(image.height * scale))),
            Image.Resampling.LANCZOS,
        )
        for image_format, options in (("WEBP", WEBP_OPTIONS), ("JPEG", JPEG_OPTIONS)):
            resized.save(io.BytesIO(), image_format, **options)
            outputs += 1
    return outputs


def vips_pipeline() -> tuple[Pipeline | None, str]:
    # Read when libvips starts: one worker thread, like Pillow's one core.
    os.environ.setdefault("VIPS_CONCURRENCY", "1")
    try:
        import pyvips
    except (ImportError, OSError) as exc:  # pyvips missing, or libvips not installed
        return None, f"libvips unavailable ({exc}); apt-get install libvips42 and pip install pyvips"
    pyvips.cache_set_max(0)

    def vips(data: bytes) -> int:
        outputs = 0
        for size in SIZES:
            # Rendered once into memory, then encoded twice (a sequential pipeline cannot be read twice)
            thumbnail = pyvips.Image.thumbnail_buffer(data, size, size=pyvips.enums.Size.DOWN).copy_memory()
            thumbnail.write_to_buffer(".webp", Q=WEBP_OPTIONS["quality"], strip=True)
            thumbnail.write_to_buffer(".jpg", Q=JPEG_OPTIONS["quality"], strip=True)
            outputs += 2
        return outputs

    return (
        vips,
        f"libvips {pyvips.version(0)}.{pyvips.version(1)}.{pyvips.version(2)} (pyvips {pyvips.__version__})",
    )


def measure(pipeline: Pipeline, inputs: list[tuple[str, bytes]], rounds: int) -> float:
    """Images per second over `rounds` passes, after one warm-up pass."""
    for _, data in inputs:
        pipeline(data)
    started = time.perf_counter()
    for _ in range(rounds):
        for _, data in inputs:
            pipeline(data)
    return rounds * len(inputs) / (time.perf_counter() - started)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    console = Console()
    inputs = images()
    pipelines: dict[str, Pipeline] = {"ours (Pillow, fast paths)": ours, "naive Pillow": naive}
    vips, vips_note = vips_pipeline()
    console.print(
        f"[bold]{len(inputs)} images x {args.rounds} rounds[/], sizes {SIZES}, WEBP + JPEG each; {vips_note}"
    )
    if vips is not None:
        pipelines["libvips"] = vips
    rates = {name: measure(pipeline, inputs, args.rounds) for name, pipeline in pipelines.items()}

    table = Table(title="Image pipeline throughput (one core)")
    table.add_column("pipeline")
    table.add_column("images/s", justify="right")
    table.add_column("ours / this", justify="right")
    mine = rates["ours (Pillow, fast paths)"]
    for name, rate in rates.items():
        table.add_row(name, f"{rate:.2f}", f"{mine / rate:.2f}x")
    console.print(table)
    for name, rate in rates.items():
        if rate is not mine:
            record("image pipeline, images/s", f"{mine:.2f}/s", f"{name} {rate:.2f}/s", mine / rate)
    return 0


if __name__ == "__main__":
    sys.exit(main())
