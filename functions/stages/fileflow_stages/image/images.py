"""Images (JPEG, PNG, WEBP, GIF): thumbnails and renditions with Pillow. No boto3 here.

Fast paths: `draft()` makes libjpeg decode JPEGs at 1/2, 1/4 or 1/8 scale (never below the largest
thumbnail); `reducing_gap` resizes in two steps (a cheap integer reduce, then LANCZOS); each smaller
thumbnail is resized from the previous one, not from the original; colour conversions run on the
largest thumbnail, not on the full image.

Guards: the pixel count is checked from the header before any pixel is decoded (decompression bombs),
as is the frame count of animations (only the first frame is rendered); truncated and corrupt files
fail with CorruptFile. Derivatives carry no metadata: no EXIF (orientation is applied to the pixels),
no XMP, no comments, and colours are converted to sRGB so no ICC profile is needed.
"""

from __future__ import annotations

import io
import struct
import warnings
import zlib
from dataclasses import dataclass
from typing import Any, Final

from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from fileflow_stages._runtime.content import (
    Analysis,
    CorruptFileError,
    DecompressionBombError,
    Derivative,
)
from fileflow_stages._runtime.limits import Limits

FORMATS: Final = ("JPEG", "PNG", "WEBP", "GIF")
REDUCING_GAP: Final = 2.0
WEBP_OPTIONS: Final[dict[str, Any]] = {"quality": 80, "method": 4}
JPEG_OPTIONS: Final[dict[str, Any]] = {"quality": 85}
PNG_OPTIONS: Final[dict[str, Any]] = {"compress_level": 6}
_ORIENTATION_TAG: Final = 0x0112
# Orientations 5 to 8 turn the image by 90 degrees: width and height swap.
_QUARTER_TURNS: Final = frozenset({5, 6, 7, 8})
# Modes LANCZOS resizes as they are; the others are converted first (Pillow resizes "P" and "1" with
# NEAREST only, and 16-bit modes need scaling to 8 bits).
_RESIZABLE_MODES: Final = frozenset({"RGB", "RGBA", "L", "CMYK"})
_DECODE_ERRORS: Final = (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error, zlib.error)
_SRGB: Final = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


@dataclass(frozen=True, slots=True)
class _Source:
    image: Image.Image
    width: int  # as displayed (orientation applied)
    height: int
    orientation: int


def _open(data: bytes, limits: Limits) -> tuple[Image.Image, dict[str, Any]]:
    """Open (header only) and check the pixel and frame counts before any pixel is decoded."""
    try:
        with warnings.catch_warnings():
            # Our own limit below is the one that counts; Pillow's global default only warns.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=FORMATS)
    except Image.DecompressionBombError as exc:
        raise DecompressionBombError(f"over the {limits.max_image_pixels}-pixel limit: {exc}") from exc
    except UnidentifiedImageError as exc:
        raise CorruptFileError("not a decodable JPEG, PNG, WEBP or GIF image") from exc
    except _DECODE_ERRORS as exc:
        raise CorruptFileError(f"corrupt image header: {exc}") from exc

    width, height = image.size
    if width * height > limits.max_image_pixels:
        raise DecompressionBombError(
            f"{width}x{height} is {width * height} pixels, over the {limits.max_image_pixels}-pixel limit"
        )
    try:
        frames = getattr(image, "n_frames", 1)
    except _DECODE_ERRORS as exc:
        raise CorruptFileError(f"corrupt animation: {exc}") from exc
    if frames > limits.max_animation_frames:
        raise DecompressionBombError(f"{frames} frames, over the {limits.max_animation_frames}-frame limit")
    described: dict[str, Any] = {
        "format": image.format,
        "mode": image.mode,
        "animated": frames > 1,
        "frames": frames,
        "bits": 16 if image.mode.startswith("I;16") or image.mode == "I" else 8,
    }
    return image, described


def _fit(width: int, height: int, size: int) -> tuple[int, int]:
    """The size that fits a size x size box, keeping the aspect ratio; never upscaled."""
    scale = min(1.0, size / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _exif(image: Image.Image) -> Image.Exif:
    try:
        # JPEG: parsed from the APP1 segment; PNG: may read the chunks after the image data.
        return image.getexif()
    except _DECODE_ERRORS as exc:
        raise CorruptFileError(f"truncated or corrupt image data: {exc}") from exc


def _decode(image: Image.Image, largest: int, orientation: int) -> _Source:
    """Decode the first frame as small as the largest thumbnail allows, orientation applied."""
    stored_width, stored_height = image.size
    turned = orientation in _QUARTER_TURNS
    width, height = (stored_height, stored_width) if turned else (stored_width, stored_height)
    target_width, target_height = _fit(width, height, largest)
    if turned:
        target_width, target_height = target_height, target_width
    # JPEG only (a no-op for the other formats): libjpeg scales by 1/2, 1/4 or 1/8 in the DCT domain
    # while decoding (a proper low-pass, like libvips' shrink-on-load), keeping at least the target size.
    image.draft(None, (target_width, target_height))
    try:
        image.load()
    except _DECODE_ERRORS as exc:
        raise CorruptFileError(f"truncated or corrupt image data: {exc}") from exc
    ImageOps.exif_transpose(image, in_place=True)
    return _Source(image=image, width=width, height=height, orientation=orientation)


def _resizable(image: Image.Image) -> Image.Image:
    """Convert the modes LANCZOS cannot resize as they are (palette, bilevel, 16-bit, two-band)."""
    mode = image.mode
    if mode in _RESIZABLE_MODES:
        return image
    if mode in ("P", "PA"):
        has_alpha = mode == "PA" or "transparency" in image.info
        return image.convert("RGBA" if has_alpha else "RGB")
    if mode.startswith("I;16") or mode in ("I", "F"):
        # 16-bit samples scaled to 8 bits (convert("L") would clip everything above 255 to white).
        return image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    if mode in ("LA", "La", "RGBa"):
        return image.convert("RGBA")
    if mode == "1":
        return image.convert("L")
    return image.convert("RGB")


def _to_srgb(image: Image.Image, icc_profile: bytes | None) -> tuple[Image.Image, str]:
    """RGB(A) or L in sRGB; an embedded ICC profile is applied, then dropped."""
    if icc_profile and image.mode in ("RGB", "RGBA", "CMYK"):
        output_mode = "RGBA" if image.mode == "RGBA" else "RGB"
        try:
            source_profile = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
            converted = ImageCms.profileToProfile(image, source_profile, _SRGB, outputMode=output_mode)
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # an invalid profile: fall back to a plain conversion below
        else:
            assert converted is not None  # profileToProfile returns None only with inPlace=True
            return converted, "converted to sRGB"
        status = "invalid, ignored"
    else:
        status = "none"
    if image.mode == "CMYK":
        return image.convert("RGB"), status
    return image, status


def _opaque(image: Image.Image) -> Image.Image:
    """Drop an alpha channel that is fully opaque, so the image can be a JPEG."""
    if image.mode == "RGBA" and image.getchannel("A").getextrema() == (255, 255):
        return image.convert("RGB")
    return image


def _encode(image: Image.Image, image_format: str, options: dict[str, Any]) -> bytes:
    # No metadata reaches a derivative: nothing from the original's info is passed to save().
    image.info = {}
    buffer = io.BytesIO()
    image.save(buffer, image_format, **options)
    return buffer.getvalue()


def _renditions(thumbnail: Image.Image, size: int) -> list[Derivative]:
    width, height = thumbnail.size
    fallback = ("png", "image/png", "PNG", PNG_OPTIONS) if thumbnail.mode == "RGBA" else None
    extension, content_type, image_format, options = fallback or ("jpg", "image/jpeg", "JPEG", JPEG_OPTIONS)
    return [
        Derivative(
            f"thumb-{size}.webp", "image/webp", _encode(thumbnail, "WEBP", WEBP_OPTIONS), width, height
        ),
        Derivative(
            f"thumb-{size}.{extension}",
            content_type,
            _encode(thumbnail, image_format, options),
            width,
            height,
        ),
    ]


def render_image(data: bytes, limits: Limits) -> Analysis:
    """Thumbnails of every configured size, each as WEBP and as JPEG (PNG when transparent)."""
    image, described = _open(data, limits)
    sizes = sorted(set(limits.thumbnail_sizes), reverse=True)
    icc_profile = image.info.get("icc_profile")
    exif = _exif(image)
    had_exif = bool(exif) or bool(image.info.get("exif"))
    source = _decode(image, sizes[0], int(exif.get(_ORIENTATION_TAG, 1)))

    derivatives: list[Derivative] = []
    previous: Image.Image | None = None
    color_profile = "none"
    for size in sizes:
        target = _fit(source.width, source.height, size)
        if previous is None:
            working = _resizable(source.image)
            if working.size != target:
                working = working.resize(target, Image.Resampling.LANCZOS, reducing_gap=REDUCING_GAP)
            working, color_profile = _to_srgb(working, icc_profile)
            working = _opaque(working)
        elif previous.size != target:
            working = previous.resize(target, Image.Resampling.LANCZOS, reducing_gap=REDUCING_GAP)
        else:
            working = previous
        derivatives.extend(_renditions(working, size))
        previous = working

    assert previous is not None
    result = {
        **described,
        "width": source.width,
        "height": source.height,
        "orientation": source.orientation,
        "has_alpha": previous.mode == "RGBA",
        "color_profile": color_profile,
        "metadata_stripped": had_exif or icc_profile is not None,
        "thumbnail_sizes": sizes,
    }
    return Analysis(result=result, derivatives=derivatives)
