"""The routing policy: whether a file goes to Claude, with which model first, and why. No boto3 here.

In order: the user's `analysis` mode (`local` never calls, `deep` always does, with the strong model),
whether Claude is configured, whether the kind is one Claude analyses (images, documents and text), the
per-kind rule (`always`, `complexity`, `never`), and under `complexity` the local analysis' complexity
score against the threshold. No score (the local features did not give one) is no reason to pay.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from fileflow_stages.ai.settings import AiKind, TypeRule


class AnalysisMode(StrEnum):
    LOCAL = "local"
    AUTO = "auto"
    DEEP = "deep"


DEFAULT_MODE = AnalysisMode.AUTO


class AiStatus(StrEnum):
    NOT_REQUESTED = "not_requested"
    SKIPPED_BY_POLICY = "skipped_by_policy"
    CACHED = "cached"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    BUDGET_EXHAUSTED = "budget_exhausted"
    CIRCUIT_OPEN = "circuit_open"


# The content kinds Claude analyses, and as what.
AI_KINDS: dict[str, AiKind] = {"image": "image", "document": "document", "text": "document"}


def mode_of(value: object) -> AnalysisMode:
    """The mode a stored value stands for (anything else, or nothing: the default)."""
    try:
        return AnalysisMode(str(value))
    except ValueError:
        return DEFAULT_MODE


@dataclass(frozen=True, slots=True)
class PolicyInput:
    mode: AnalysisMode
    content_kind: str  # the detect stage's kind: image, document, text, archive, video
    complexity: float | None  # the local analysis' score, 0 to 1; None: unknown
    configured: bool


@dataclass(frozen=True, slots=True)
class PolicyRules:
    type_rules: dict[str, TypeRule]
    complexity_threshold: float
    cheap_model: str
    strong_model: str


@dataclass(frozen=True, slots=True)
class Decision:
    decision: Literal["call", "skip"]
    reason: str
    kind: AiKind | None
    # The model asked first (call only); the strong one follows when the cheap one is unsure.
    model: str | None = None
    # When skipped: the status it gives (not_requested or skipped_by_policy).
    status: AiStatus | None = None

    @property
    def calls(self) -> bool:
        return self.decision == "call"

    def describe(self) -> dict[str, str]:
        return {"decision": self.decision, "reason": self.reason}


def _skip(reason: str, kind: AiKind | None, status: AiStatus = AiStatus.SKIPPED_BY_POLICY) -> Decision:
    return Decision("skip", reason, kind, status=status)


def decide(given: PolicyInput, rules: PolicyRules) -> Decision:
    kind = AI_KINDS.get(given.content_kind)
    if given.mode is AnalysisMode.LOCAL:
        return _skip("local_requested", kind, AiStatus.NOT_REQUESTED)
    if kind is None:
        return _skip("unsupported_kind", None)
    if not given.configured:
        return _skip("not_configured", kind)
    if given.mode is AnalysisMode.DEEP:
        return Decision("call", "deep_requested", kind, model=rules.strong_model)
    rule = rules.type_rules.get(given.content_kind, "complexity")
    if rule == "never":
        return _skip("type_rule_never", kind)
    if rule == "always":
        return Decision("call", "type_rule_always", kind, model=rules.cheap_model)
    if given.complexity is None:
        return _skip("complexity_unknown", kind)
    if given.complexity < rules.complexity_threshold:
        return _skip("below_complexity_threshold", kind)
    return Decision("call", "complexity_over_threshold", kind, model=rules.cheap_model)
