"""What the AI stage made of a file: the job result's `ai` and the workflow's `$.ai` (docs/ai.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from fileflow_stages.ai.cost import TokenUsage
from fileflow_stages.ai.policy import AiStatus, Decision
from fileflow_stages.ai.settings import AiKind


@dataclass(frozen=True, slots=True)
class AiOutcome:
    status: AiStatus
    reason: str
    kind: AiKind | None
    policy: Decision
    model: str | None = None
    prompt_version: str | None = None
    result: dict[str, Any] | None = None
    confidence: float | None = None
    usage: TokenUsage = field(default_factory=TokenUsage)
    cache: Literal["hit", "miss"] | None = None

    @property
    def has_result(self) -> bool:
        return self.result is not None and self.status in (AiStatus.SUCCEEDED, AiStatus.CACHED)

    def review_required(self, thresholds: dict[AiKind, float]) -> bool:
        """Only a result Claude gave can need review: one below its kind's confidence threshold."""
        if not self.has_result or self.kind is None or self.confidence is None:
            return False
        return self.confidence < thresholds.get(self.kind, 0.8)

    def record(self) -> dict[str, Any]:
        """The job result's `ai`: finalize puts it in the file item's analysis."""
        return {
            "status": self.status.value,
            "reason": self.reason,
            "kind": self.kind,
            "model": self.model,
            "prompt_version": self.prompt_version,
            "result": self.result,
            "confidence": self.confidence,
            "usage": self.usage.describe(),
            "cache": self.cache,
            "policy": self.policy.describe(),
        }

    def output(self, thresholds: dict[AiKind, float]) -> dict[str, Any]:
        """`$.ai`: small, what the workflow's review Choice reads."""
        return {
            "ai_status": self.status.value,
            "confidence": self.confidence,
            "review_required": self.review_required(thresholds),
            "kind": self.kind,
        }
