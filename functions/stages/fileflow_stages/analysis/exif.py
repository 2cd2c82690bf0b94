"""An EXIF summary of the ORIGINAL image (the derivatives carry none: the image stage strips it). No boto3.

Camera (make, model), when it was taken, the orientation, and whether it holds a location (`gps`):
the coordinates themselves are never copied, only the fact that the original carries them, which is a
finding (the owner may not know their photo says where it was taken).
"""

from __future__ import annotations

import io
import warnings
from typing import Any, Final

from PIL import Image

_MAKE: Final = 0x010F
_MODEL: Final = 0x0110
_ORIENTATION: Final = 0x0112
_SOFTWARE: Final = 0x0131
_DATETIME: Final = 0x0132
_EXIF_IFD: Final = 0x8769
_GPS_IFD: Final = 0x8825
_DATETIME_ORIGINAL: Final = 0x9003
_MAX_TEXT: Final = 64
FORMATS: Final = ("JPEG", "PNG", "WEBP", "GIF")


def _text(value: object) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("latin-1", errors="replace")
    if not isinstance(value, str):
        return None
    cleaned = "".join(char for char in value if char.isprintable()).strip()
    return cleaned[:_MAX_TEXT] or None


def _taken_at(value: object) -> str | None:
    """EXIF's "YYYY:MM:DD HH:MM:SS" as ISO 8601 (no zone: EXIF has none); anything else is dropped."""
    text = _text(value)
    if text is None or len(text) < 19 or text[4] != ":" or text[7] != ":":
        return None
    candidate = f"{text[0:4]}-{text[5:7]}-{text[8:10]}T{text[11:19]}"
    digits = candidate.replace("-", "").replace("T", "").replace(":", "")
    return candidate if digits.isdigit() else None


def exif_summary(data: bytes) -> dict[str, Any]:
    """From the original's bytes (its head is enough for JPEG); {"present": False} without EXIF."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with Image.open(io.BytesIO(data), formats=FORMATS) as image:
            exif = image.getexif()
    if not exif:
        return {"present": False, "gps": False}
    details = exif.get_ifd(_EXIF_IFD)
    gps = exif.get_ifd(_GPS_IFD)
    orientation = exif.get(_ORIENTATION)
    camera = " ".join(part for part in (_text(exif.get(_MAKE)), _text(exif.get(_MODEL))) if part)
    summary: dict[str, Any] = {
        "present": True,
        "camera": camera or None,
        "software": _text(exif.get(_SOFTWARE)),
        "taken_at": _taken_at(details.get(_DATETIME_ORIGINAL)) or _taken_at(exif.get(_DATETIME)),
        "orientation": int(orientation) if isinstance(orientation, int) and 1 <= orientation <= 8 else None,
        "gps": bool(gps),
    }
    return {name: value for name, value in summary.items() if value is not None}
