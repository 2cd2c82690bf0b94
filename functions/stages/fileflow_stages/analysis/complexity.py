"""The complexity score in [0, 1]: how much there is to understand in a file (the AI stage's policy reads it).

Images (and a video's poster), from the working copy:
    0.4 x min(1, edge_density / 0.25) + 0.4 x colour_entropy + 0.2 x min(1, OCR characters / 500)
(a flat logo is near 0; a busy photo ~0.6-0.8; a photo full of text, or a dense screenshot, near 1).
Text and documents:
    0.6 x difficulty + 0.4 x min(1, words / 2000)
where difficulty is (100 - Flesch reading ease) / 100 clipped to [0, 1] for English, and otherwise
(mean word length - 3) / 5 clipped to [0, 1]. Rounded to 3 places. None when nothing could be measured.
"""

from __future__ import annotations

from typing import Final

EDGE_SATURATION: Final = 0.25
TEXT_SATURATION: Final = 500
WORDS_SATURATION: Final = 2000


def _clip(value: float) -> float:
    return min(1.0, max(0.0, value))


def image_complexity(*, edge_density: float, colour_entropy: float, ocr_chars: int) -> float:
    score = (
        0.4 * _clip(edge_density / EDGE_SATURATION)
        + 0.4 * _clip(colour_entropy)
        + 0.2 * _clip(ocr_chars / TEXT_SATURATION)
    )
    return round(score, 3)


def text_complexity(*, words: int, reading_ease: float | None, mean_word_length: float) -> float:
    if reading_ease is not None:
        difficulty = _clip((100.0 - reading_ease) / 100.0)
    else:
        difficulty = _clip((mean_word_length - 3.0) / 5.0)
    return round(0.6 * difficulty + 0.4 * _clip(words / WORDS_SATURATION), 3)
