"""Tokens and their price: one call's usage, a file's total, and the budgets' arithmetic. No boto3 here.

Costs are integers of micro-dollars (USD x 10^6) wherever they are stored or added up: DynamoDB's ADD
on floats would drift, and a price per million tokens times a token count is micro-dollars already.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from fileflow_stages.ai.settings import ModelPrice

MICRO = 1_000_000


@dataclass(frozen=True, slots=True)
class TokenUsage:
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0
    cost_micro_usd: int = 0
    calls: int = 0

    def __add__(self, other: TokenUsage) -> TokenUsage:
        return TokenUsage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cache_creation_input_tokens + other.cache_creation_input_tokens,
            self.cache_read_input_tokens + other.cache_read_input_tokens,
            self.cost_micro_usd + other.cost_micro_usd,
            self.calls + other.calls,
        )

    def describe(self) -> dict[str, Any]:
        """The job result's `usage` (docs/ai.md): tokens, calls and the cost in USD."""
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_creation_input_tokens": self.cache_creation_input_tokens,
            "cache_read_input_tokens": self.cache_read_input_tokens,
            "cost_usd": usd(self.cost_micro_usd),
            "calls": self.calls,
        }


def priced(usage: TokenUsage, price: ModelPrice) -> TokenUsage:
    """One call's usage with its cost: tokens x USD per million tokens = micro-dollars."""
    micro = (
        usage.input_tokens * price.input
        + usage.output_tokens * price.output
        + usage.cache_creation_input_tokens * price.cache_write
        + usage.cache_read_input_tokens * price.cache_read
    )
    return replace(usage, cost_micro_usd=round(micro))


def usd(micro: int) -> float:
    return round(micro / MICRO, 6)


def micro_usd(dollars: float) -> int:
    return round(dollars * MICRO)


def day_of(at: datetime) -> str:
    return at.strftime("%Y-%m-%d")


def month_of(at: datetime) -> str:
    return at.strftime("%Y-%m")


@dataclass(frozen=True, slots=True)
class Spent:
    """What has been spent, against what may be (micro-dollars)."""

    user_day: int
    user_daily_budget: int
    global_month: int
    monthly_budget: int

    def exhausted(self) -> str | None:
        """The budget that is spent (its reason), or None: a call may go."""
        if self.user_day >= self.user_daily_budget:
            return "user_daily_budget"
        if self.global_month >= self.monthly_budget:
            return "global_monthly_budget"
        return None
