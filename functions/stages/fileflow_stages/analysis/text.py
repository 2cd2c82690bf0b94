"""What a text says: language, counts, keywords, readability. No boto3.

- language: langdetect 1.0.9, seeded (`DetectorFactory.seed = 0`) so the same text always gets the same
  answer, on the first `LANGUAGE_CHARS` characters; None under `MIN_LANGUAGE_CHARS` letters.
- keywords: yake 0.7.3 (statistical, unsupervised; lower score = more relevant) on the first
  `KEYWORD_CHARS` characters, in the detected language when yake has its stop words.
- readability: the Flesch reading ease, English only:
  206.835 - 1.015 x (words / sentences) - 84.6 x (syllables / words); syllables are counted as groups
  of vowels (y included) in each word, a final silent "e" dropped, at least one per word. 90-100 reads
  easily at 11, 60-70 plain English, under 30 for graduates.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any, Final

WORD: Final = re.compile(r"[^\W\d_]+(?:['\u2019-][^\W\d_]+)*|\d+(?:[.,]\d+)*")
SENTENCE_END: Final = re.compile(r"[.!?]+(?:\s|$)|\n\s*\n")
_VOWEL_GROUPS: Final = re.compile(r"[aeiouy]+")
LANGUAGE_CHARS: Final = 10_000
MIN_LANGUAGE_CHARS: Final = 20
KEYWORD_CHARS: Final = 20_000
KEYWORDS: Final = 10
# yake's stop-word lists, by the ISO 639-1 codes langdetect answers.
_YAKE_LANGUAGES: Final = frozenset(
    {"ar", "bg", "cs", "da", "de", "el", "en", "es", "et", "fa", "fi", "fr", "hi", "hr", "hu", "hy", "id",
     "it", "ja", "lt", "lv", "nl", "no", "pl", "pt", "ro", "ru", "sk", "sl", "sv", "tr", "uk", "zh"}
)  # fmt: skip


def counts(text: str) -> dict[str, int]:
    words = WORD.findall(text)
    sentences = [part for part in SENTENCE_END.split(text) if WORD.search(part)]
    return {
        "characters": len(text),
        "words": len(words),
        "sentences": len(sentences),
        "lines": text.count("\n") + 1 if text else 0,
    }


@cache
def _seeded() -> Any:
    from langdetect import DetectorFactory  # the analysis layer only

    DetectorFactory.seed = 0
    return DetectorFactory


def language(text: str) -> dict[str, Any] | None:
    sample = text[:LANGUAGE_CHARS]
    if sum(char.isalpha() for char in sample) < MIN_LANGUAGE_CHARS:
        return None
    _seeded()
    from langdetect import detect_langs
    from langdetect.lang_detect_exception import LangDetectException

    try:
        best = detect_langs(sample)[0]
    except LangDetectException:
        return None
    return {"code": str(best.lang), "probability": round(float(best.prob), 3)}


def keywords(text: str, language_code: str | None) -> list[dict[str, Any]]:
    import yake  # the analysis layer only

    sample = text[:KEYWORD_CHARS]
    if not WORD.search(sample):
        return []
    lan = language_code if language_code in _YAKE_LANGUAGES else "en"
    extractor = yake.KeywordExtractor(lan=lan, n=2, top=KEYWORDS, dedupLim=0.9)
    return [
        {"keyword": str(keyword), "score": round(float(score), 4)}
        for keyword, score in extractor.extract_keywords(sample)
    ]


def syllables(word: str) -> int:
    lowered = word.lower()
    if lowered.endswith("e") and not lowered.endswith(("le", "ee")) and len(lowered) > 2:
        lowered = lowered[:-1]
    return max(1, len(_VOWEL_GROUPS.findall(lowered)))


def flesch_reading_ease(text: str) -> float | None:
    words = [word for word in WORD.findall(text) if not word[0].isdigit()]
    sentences = [part for part in SENTENCE_END.split(text) if WORD.search(part)]
    if not words or not sentences:
        return None
    total_syllables = sum(syllables(word) for word in words)
    score = 206.835 - 1.015 * (len(words) / len(sentences)) - 84.6 * (total_syllables / len(words))
    return round(score, 1)
