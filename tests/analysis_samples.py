"""Images and texts for the local analysis tests (unit, integration, e2e) and bench/analysis.py.

Made here, deterministically, from Pillow: a scene of shapes (its re-encoded and resized copies are near
duplicates; another seed is an unrelated image), a PNG of rendered text (OCR must read its exact words,
in Pillow's bundled font), and a JPEG whose EXIF names a camera and holds a GPS location.
"""

from __future__ import annotations

import io
import random

from PIL import Image, ImageDraw, ImageFilter, ImageFont

TEXT_LINES = ("Fileflow reads this line", "Invoice 4711 paid in full", "Quarterly report draft")
ENGLISH_TEXT = (
    "The quarterly report describes how the team shipped the new upload service. "
    "Customers can now send large files from the browser. The service checks every file and "
    "stores a thumbnail. Contact ops@example.com or call +1 415-555-0134 before 2026-12-31. "
    "The budget was $12,500.00 and the site is https://example.org/report.\n"
)
GERMAN_TEXT = (
    "Der schnelle braune Fuchs springt über den faulen Hund. Die Mitarbeiter haben den Bericht "
    "gestern fertiggestellt und an die Geschäftsleitung geschickt.\n"
)


def scene(seed: int = 1, width: int = 1600, height: int = 1200) -> Image.Image:
    """A photo-like picture: a gradient sky, shapes of many colours, a little blur."""
    rng = random.Random(seed)
    image = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(image)
    top, bottom = [rng.randrange(256) for _ in range(3)], [rng.randrange(256) for _ in range(3)]
    for y in range(height):
        mix = y / height
        draw.line(
            [(0, y), (width, y)], fill=tuple(int(a + (b - a) * mix) for a, b in zip(top, bottom, strict=True))
        )
    for _ in range(40):
        x, y = rng.randrange(width), rng.randrange(height)
        radius = rng.randrange(width // 30, width // 6)
        colour = tuple(rng.randrange(256) for _ in range(3))
        box = [x - radius, y - radius, x + radius, y + radius]
        if rng.random() < 0.5:
            draw.ellipse(box, fill=colour)
        else:
            draw.rectangle(box, fill=colour)
    return image.filter(ImageFilter.GaussianBlur(1.5))


def encode(image: Image.Image, image_format: str = "JPEG", **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, image_format, **options)
    return buffer.getvalue()


def scene_jpeg(seed: int = 1, **options: object) -> bytes:
    return encode(scene(seed), "JPEG", quality=90, **options)


def reencoded(data: bytes, *, quality: int = 60, scale: float = 0.75) -> bytes:
    """Another copy of the same picture: decoded, resized, saved again at another quality."""
    with Image.open(io.BytesIO(data)) as image:
        resized = image.convert("RGB").resize((int(image.width * scale), int(image.height * scale)))
    return encode(resized, "JPEG", quality=quality)


def text_png(lines: tuple[str, ...] = TEXT_LINES, *, size: int = 36) -> bytes:
    """Black text on white in Pillow's bundled font (load_default: FreeType's Aileron), lossless."""
    font = ImageFont.load_default(size=size)
    image = Image.new("RGB", (900, 60 + 70 * len(lines)), "white")
    draw = ImageDraw.Draw(image)
    for index, line in enumerate(lines):
        draw.text((30, 30 + index * 70), line, fill="black", font=font)
    return encode(image, "PNG")


def jpeg_with_exif(*, gps: bool = True) -> bytes:
    """A JPEG whose EXIF names its camera, when it was taken, its orientation, and (gps) where."""
    image = scene(7, 640, 480)
    exif = Image.Exif()
    exif[0x010F] = "Fileflow"
    exif[0x0110] = "Test Camera 1"
    exif[0x0112] = 1
    exif.get_ifd(0x8769)[0x9003] = "2026:11:30 14:15:16"
    if gps:
        exif.get_ifd(0x8825).update({1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 36.0)})
    return encode(image, "JPEG", quality=90, exif=exif.tobytes())
