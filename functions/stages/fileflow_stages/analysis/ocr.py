"""OCR of an image with faster-paddle (PP-OCRv6 tiny/small models bundled in its wheel: no download).

Capped three ways, so a hostile image cannot hold the stage:
- pixels: the image is scaled to at most `max_pixels` (and the detector to 1600 px) before OCR;
- time: the engine runs on one worker thread, waited on for `timeout_s`; past it the feature records a
  timeout (the engine releases the GIL; its call finishes in the background and the next call waits);
- text: at most `max_lines` lines and `max_chars` characters are kept.
The "medium" model downloads on first use: `OcrModel` does not admit it.
faster_paddle is imported lazily: only the analysis layer has it.
"""

from __future__ import annotations

import io
import math
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from functools import cache
from typing import Any, Final, Literal, Protocol

from PIL import Image

type OcrModel = Literal["tiny", "small"]

DETECTOR_MAX_SIDE: Final = 1600


@dataclass(frozen=True, slots=True)
class OcrLimits:
    max_pixels: int = 4_000_000
    timeout_s: float = 15.0
    max_lines: int = 100
    max_chars: int = 4000


@dataclass(frozen=True, slots=True)
class OcrLine:
    text: str
    confidence: float


class OcrTimeoutError(Exception):
    """OCR took longer than its budget."""


class TextReader(Protocol):
    """Lines of text in an encoded image (PNG), in reading order, each with its confidence in [0, 1]."""

    def read(self, png: bytes, *, timeout_s: float) -> list[OcrLine]: ...


class FasterPaddleReader:
    """The faster-paddle engine, built once per execution environment (model load ~0.1-0.7 s)."""

    def __init__(self, model: OcrModel = "small") -> None:
        self._model = model
        self._engine: Any = None
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ocr")

    def _engine_once(self) -> Any:
        if self._engine is None:
            import faster_paddle  # the analysis layer only

            self._engine = faster_paddle.OcrEngine(model_size=self._model, det_max_side=DETECTOR_MAX_SIDE)
        return self._engine

    def read(self, png: bytes, *, timeout_s: float) -> list[OcrLine]:
        future = self._worker.submit(lambda: self._engine_once().ocr(png))
        try:
            result = future.result(timeout=timeout_s)
        except FutureTimeout as exc:
            raise OcrTimeoutError(f"OCR took longer than {timeout_s:g} s") from exc
        bounds = result.get("bounds") or {}
        lines = []
        for index in sorted(bounds, key=int):
            entry = bounds[index]
            text = str(entry.get("text") or "").strip()
            if text:
                lines.append(OcrLine(text=text, confidence=float(entry.get("confidence") or 0.0)))
        return lines


@cache
def default_reader(model: OcrModel) -> FasterPaddleReader:
    return FasterPaddleReader(model)


def ocr_input(image: Image.Image, limits: OcrLimits) -> bytes:
    """The image as PNG, scaled down to the pixel cap (RGB; alpha on white)."""
    working = image
    if working.mode not in ("RGB", "L"):
        rgba = working.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        working = Image.alpha_composite(background, rgba).convert("RGB")
    pixels = working.width * working.height
    if pixels > limits.max_pixels:
        scale = math.sqrt(limits.max_pixels / pixels)
        size = (max(1, int(working.width * scale)), max(1, int(working.height * scale)))
        working = working.resize(size, Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    working.save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


def recognise(reader: TextReader, image: Image.Image, limits: OcrLimits) -> dict[str, Any]:
    """{text, lines: [{text, confidence}], line_count, mean_confidence, truncated}."""
    lines = reader.read(ocr_input(image, limits), timeout_s=limits.timeout_s)
    kept: list[OcrLine] = []
    chars = 0
    for line in lines[: limits.max_lines]:
        room = limits.max_chars - chars
        if room <= 0:
            break
        text = line.text[:room]
        kept.append(OcrLine(text, line.confidence))
        chars += len(text) + 1
    truncated = len(kept) < len(lines) or any(a.text != b.text for a, b in zip(kept, lines, strict=False))
    mean = sum(line.confidence for line in kept) / len(kept) if kept else None
    return {
        "text": "\n".join(line.text for line in kept),
        "lines": [{"text": line.text, "confidence": round(line.confidence, 3)} for line in kept],
        "line_count": len(lines),
        "mean_confidence": round(mean, 3) if mean is not None else None,
        "truncated": truncated,
    }
