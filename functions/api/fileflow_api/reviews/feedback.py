"""The feedback export's lines (application/x-ndjson): one per decision, then one summary. No AWS code.

Each decision line says who decided, when, and what changed (each corrected field, from and to); the
summary, always the last line, gives the approval rates per category over the exported decisions, for
tuning prompts and thresholds (docs/reviews.md, "Feedback export").
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

from fileflow_api.reviews.model import Review
from fileflow_common.reviews import Decision


def decision_line(review: Review) -> dict[str, Any]:
    before = review.ai_result or {}
    changes = dict(review.changes or {})
    return {
        "type": "decision",
        "review_id": review.review_id,
        "decided_at": review.decided_at,
        "reviewer": review.reviewer,
        "decision": review.decision.value if review.decision else None,
        "kind": review.kind,
        "category": review.category,
        "confidence": review.confidence,
        "model": (review.ai or {}).get("model"),
        "prompt_version": (review.ai or {}).get("prompt_version"),
        "changes": {name: {"from": before.get(name), "to": value} for name, value in sorted(changes.items())},
        "note": review.note,
    }


def _rates(counts: Counter[str]) -> dict[str, Any]:
    """How a category's decisions went: approved as the model said, corrected, or rejected."""
    total = sum(counts.values())
    approved = counts[Decision.APPROVE.value]
    return {
        "decisions": total,
        "approved": approved,
        "corrected": counts[Decision.CORRECT.value],
        "rejected": counts[Decision.REJECT.value],
        "approval_rate": round(approved / total, 4) if total else None,
    }


def feedback_lines(reviews: Iterable[Review], *, since: str | None, truncated_at: int) -> Iterator[str]:
    by_category: dict[str, Counter[str]] = {}
    overall: Counter[str] = Counter()
    count, last = 0, None
    for review in reviews:
        line = decision_line(review)
        decision = str(line["decision"])
        by_category.setdefault(review.category, Counter())[decision] += 1
        overall[decision] += 1
        count, last = count + 1, review.decided_at
        yield json.dumps(line, separators=(",", ":"), sort_keys=True) + "\n"
    summary = {
        "type": "summary",
        "since": since,
        "until": last,
        "truncated": count >= truncated_at,
        "overall": _rates(overall),
        "categories": {name: _rates(counts) for name, counts in sorted(by_category.items())},
    }
    yield json.dumps(summary, separators=(",", ":"), sort_keys=True) + "\n"
