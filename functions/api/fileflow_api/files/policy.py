"""Files, the rules: download and tombstone lifetimes, and how tags, search text and type filters read."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fileflow_api.files.errors import InvalidQueryError, InvalidTagsError
from fileflow_common.files import MEDIA_TYPE_FILTER
from fileflow_common.table import name_key

_TAG = re.compile(r"[a-z0-9][a-z0-9_.:/+-]{0,63}")
_FORBIDDEN_IN_TEXT = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


@dataclass(frozen=True, slots=True)
class FilesPolicy:
    download_ttl: timedelta = timedelta(minutes=5)
    # Longer than any message can live (the DLQ keeps 14 days): a redriven event still meets the tombstone.
    tombstone_ttl: timedelta = timedelta(days=15)
    max_tags: int = 20


def normalize_tags(raw: Sequence[str], *, max_tags: int) -> tuple[str, ...]:
    """Lower-cased, trimmed, de-duplicated and sorted; each one `[a-z0-9][a-z0-9_.:/+-]{0,63}`."""
    tags = sorted({tag.strip().lower() for tag in raw})
    bad = [tag for tag in tags if not _TAG.fullmatch(tag)]
    if bad:
        raise InvalidTagsError(
            f"invalid tag {bad[0][:70]!r}: 1 to 64 characters of a-z 0-9 _ . : / + -, starting with a letter "
            "or digit"
        )
    if len(tags) > max_tags:
        raise InvalidTagsError(f"at most {max_tags} tags per file, not {len(tags)}")
    return tuple(tags)


def normalize_tag(raw: str) -> str:
    tag = raw.strip().lower()
    if not _TAG.fullmatch(tag):
        raise InvalidQueryError("tag must be 1 to 64 characters of a-z 0-9 _ . : / + -")
    return tag


def normalize_search_text(raw: str) -> str:
    text = name_key(raw.strip())
    if not text or any(unicodedata.category(character) in _FORBIDDEN_IN_TEXT for character in text):
        raise InvalidQueryError("q must be printable text that a file name could hold")
    return text


def validate_type_filter(raw: str) -> str:
    value = raw.strip().lower()
    if not MEDIA_TYPE_FILTER.fullmatch(value):
        raise InvalidQueryError("type must be a media type (image/png) or a major type (image/*)")
    return value


def as_utc(moment: datetime) -> datetime:
    """A date without a time zone is taken as UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
