"""The human review queue's shared vocabulary: review items, their keys, and what a decision does.

Written by the review stage (open, escalate, expire) and the API (a reviewer's decision), read by the
finalize stage, which applies the decision to the file's analysis (docs/reviews.md). No boto3 here.

- A review: ``REVIEW#{review_id}`` / ``REVIEW``. Its id comes from the job, so a retried review stage
  finds the same item. gsi1 (shared with the sweeper and the files listing) indexes it by status:
  ``REVIEWS#{status}`` / ``{at}#{review_id}``, `at` being its creation time while it waits and its decision
  time once decided, so the feedback export is one query of ``REVIEWS#decided`` from `since`.
- What the item holds for the reviewer is the review's alone: the kind and category, the AI result, the
  local features, a text excerpt and the thumbnail's key. Never the owner's filename, other files or keys.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from fileflow_common.errors import FileflowError
from fileflow_common.keys import validate_id
from fileflow_common.table import PARTITION_KEY, SORT_KEY, ItemKey

REVIEW_PREFIX: Final = "REVIEW#"
REVIEW_SORT_KEY: Final = "REVIEW"
REVIEWS_INDEX: Final = "gsi1"
REVIEWS_INDEX_PREFIX: Final = "REVIEWS#"
REVIEW_ID_PATTERN: Final = re.compile(r"rv_[0-9a-f]{32}")
# The role claim a reviewer's token carries (`roles: ["reviewer"]`).
REVIEWER_ROLE: Final = "reviewer"
# What the reviewer reads of the file: a bounded excerpt, small features.
MAX_EXCERPT_CHARS: Final = 2000
MAX_FEATURES_BYTES: Final = 16 * 1024
# A correction's edited fields, as JSON: at most this large.
MAX_CHANGES_BYTES: Final = 8 * 1024
MAX_NOTE_CHARS: Final = 1000
# Never edited by a reviewer: the model's own figure of how sure it was.
READ_ONLY_FIELDS: Final = frozenset({"confidence"})
# Who decided a review that waited past its time (the timeout rule).
TIMEOUT_REVIEWER: Final = "timeout-rule"


class ReviewStatus(StrEnum):
    PENDING = "pending"
    ESCALATED = "escalated"  # waited its time once: flagged, and waiting once more
    DECIDED = "decided"
    EXPIRED = "expired"  # waited past its time: the timeout rule rejected it

    @property
    def open(self) -> bool:
        return self in (ReviewStatus.PENDING, ReviewStatus.ESCALATED)


class Decision(StrEnum):
    APPROVE = "approve"
    CORRECT = "correct"
    REJECT = "reject"
    # The timeout rule's: the AI result is dropped as with reject.
    EXPIRED = "expired"


class TimeoutRule(StrEnum):
    ESCALATE = "escalate"  # flag it escalated and wait once more for the same time, then reject
    REJECT = "reject"


class InvalidChangesError(FileflowError):
    """A correction's changes do not fit the AI result they edit."""

    code = "InvalidChanges"


def review_id_for(job_id: str) -> str:
    """One review per job (per stored version): a retried review stage opens the same one."""
    validate_id(job_id, kind="job_id")
    return "rv_" + hashlib.sha256(f"review\n{job_id}".encode()).hexdigest()[:32]


def validate_review_id(review_id: str) -> str:
    if not REVIEW_ID_PATTERN.fullmatch(review_id):
        raise ValueError("review_id must look like rv_ followed by 32 hex digits")
    return review_id


def review_item_key(review_id: str) -> ItemKey:
    return {PARTITION_KEY: REVIEW_PREFIX + validate_review_id(review_id), SORT_KEY: REVIEW_SORT_KEY}


def reviews_partition(status: ReviewStatus) -> str:
    """The gsi1 partition of the reviews in one status."""
    return REVIEWS_INDEX_PREFIX + status.value


def index_attributes(status: ReviewStatus, at: str, review_id: str) -> dict[str, str]:
    """What a writer of the review's `status` sets with it, so the status index follows."""
    return {"status": status.value, "gsi1pk": reviews_partition(status), "gsi1sk": f"{at}#{review_id}"}


# --- what the reviewer sees ------------------------------------------------------------------------------


def thumbnail_key(derivatives: Sequence[Mapping[str, Any]]) -> str | None:
    """The key of the thumbnail a reviewer looks at: a video's, else the largest JPEG/PNG rendition (any
    browser shows them), else the largest WebP one."""
    ranked: list[tuple[int, int, str]] = []
    for entry in derivatives:
        name, key = str(entry.get("name", "")), entry.get("key")
        if not isinstance(key, str):
            continue
        if name == "thumb-video.jpg":
            ranked.append((2, 0, key))
        elif match := re.fullmatch(r"thumb-(\d+)\.(jpg|png|webp)", name):
            ranked.append((1 if match.group(2) != "webp" else 0, int(match.group(1)), key))
    return max(ranked)[2] if ranked else None


def text_excerpt(result: Mapping[str, Any]) -> str | None:
    """A bounded excerpt of the text the reviewer judges: the document's preview, else the OCR text."""
    analysis = result.get("analysis") or {}
    features = result.get("features") or {}
    candidates = (
        analysis.get("preview") if isinstance(analysis, Mapping) else None,
        (features.get("ocr") or {}).get("text") if isinstance(features, Mapping) else None,
        (features.get("text") or {}).get("excerpt") if isinstance(features, Mapping) else None,
    )
    for candidate in candidates:
        if isinstance(candidate, str) and candidate.strip():
            return candidate[:MAX_EXCERPT_CHARS]
    return None


def bounded_features(features: Any) -> dict[str, Any] | None:
    """The local features, unless they are too large to put before a reviewer (then their names only)."""
    if not isinstance(features, Mapping) or not features:
        return None
    if len(json.dumps(features, default=str)) <= MAX_FEATURES_BYTES:
        return dict(features)
    return {"truncated": True, "names": sorted(str(name) for name in features)}


def ai_for_review(ai: Any) -> dict[str, Any] | None:
    """The AI result as the reviewer judges it: what the model said and how sure it was, not its cost."""
    if not isinstance(ai, Mapping):
        return None
    kept = ("status", "kind", "model", "prompt_version", "confidence", "result")
    return {name: ai.get(name) for name in kept if name in ai}


def category_of(ai: Mapping[str, Any] | None, kind: str | None) -> str:
    """What approval rates are counted by: the AI result's category, else the file's kind."""
    result = (ai or {}).get("result")
    category = result.get("category") if isinstance(result, Mapping) else None
    if isinstance(category, str) and category.strip():
        return category.strip()[:64]
    return kind or "unknown"


# --- a decision ------------------------------------------------------------------------------------------

_JSON_KIND = {str: "string", bool: "boolean", int: "number", float: "number", list: "list", dict: "object"}


def _json_kind(value: Any) -> str:
    return next((name for kind, name in _JSON_KIND.items() if type(value) is kind), "null")


def validate_changes(ai_result: Mapping[str, Any] | None, changes: Mapping[str, Any]) -> dict[str, Any]:
    """A correction's edited fields: each one a field of the AI result, of the same JSON type, small."""
    if ai_result is None:
        raise InvalidChangesError("there is no AI result to correct: approve or reject instead")
    if not changes:
        raise InvalidChangesError("a correction names at least one edited field of the AI result")
    for name, value in changes.items():
        if name in READ_ONLY_FIELDS:
            raise InvalidChangesError(f"{name!r} is the model's own figure and cannot be corrected")
        if name not in ai_result:
            fields = ", ".join(sorted(str(field) for field in ai_result if field not in READ_ONLY_FIELDS))
            raise InvalidChangesError(f"{name!r} is not a field of the AI result (fields: {fields})")
        expected, given = _json_kind(ai_result[name]), _json_kind(value)
        if expected != "null" and given != expected:
            raise InvalidChangesError(f"{name!r} must be a {expected}, like the AI result's, not a {given}")
    if len(json.dumps(changes, default=str)) > MAX_CHANGES_BYTES:
        raise InvalidChangesError(f"the changes exceed {MAX_CHANGES_BYTES} bytes of JSON")
    return dict(changes)


@dataclass(frozen=True, slots=True)
class ReviewOutcome:
    """A closed review as the finalize stage applies it."""

    review_id: str
    decision: Decision
    status: ReviewStatus
    reviewer: str | None = None
    decided_at: str | None = None
    changes: Mapping[str, Any] | None = None
    note: str | None = None

    def describe(self) -> dict[str, Any]:
        """`job.result["review"]` and the file's `analysis.review` / `review` (docs/reviews.md)."""
        return {
            "review_id": self.review_id,
            "status": self.status.value,
            "decision": self.decision.value,
            "reviewer": self.reviewer,
            "decided_at": self.decided_at,
            "changes": dict(self.changes) if self.changes else None,
        }


def apply_decision(ai: Mapping[str, Any] | None, outcome: ReviewOutcome) -> dict[str, Any] | None:
    """The file's AI analysis after the review: approve keeps it, correct replaces the edited fields,
    reject (and the timeout rule's expiry) marks it rejected and drops the result."""
    if ai is None:
        return None
    applied = dict(ai)
    if outcome.decision is Decision.CORRECT and isinstance(applied.get("result"), Mapping):
        applied["result"] = {**applied["result"], **dict(outcome.changes or {})}
        applied["corrected_fields"] = sorted(outcome.changes or {})
    elif outcome.decision in (Decision.REJECT, Decision.EXPIRED):
        applied["rejected"] = True
        applied["result"] = None
    applied["reviewed"] = outcome.decision.value
    return applied
