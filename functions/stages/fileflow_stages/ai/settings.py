"""The AI stage's configuration (from the environment the stack sets out of CDK context; docs/ai.md).

Validated once per execution environment. Models, prices, budgets, thresholds and the resilience knobs
are all configuration: nothing about Claude is fixed in code but the prompts and their version.
"""

from __future__ import annotations

import json
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeFloat,
    PositiveFloat,
    PositiveInt,
    field_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from fileflow_common.settings_types import TableName

type AiKind = Literal["image", "document"]
# How the policy treats a kind in `auto` mode: always ask Claude, ask when the local complexity score is
# at or over the threshold, or never.
type TypeRule = Literal["always", "complexity", "never"]
type CacheScope = Literal["user", "global"]


class ModelPrice(BaseModel):
    """USD per million tokens."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    input: NonNegativeFloat
    output: NonNegativeFloat
    cache_write: NonNegativeFloat
    cache_read: NonNegativeFloat


# Anthropic's list prices (USD per MTok, 2026): Haiku 4.5 and Sonnet 4.6; cache writes 1.25x input (5 min),
# cache reads 0.1x input.
DEFAULT_REVIEW_THRESHOLDS: dict[AiKind, float] = {"image": 0.8, "document": 0.8}
DEFAULT_TYPE_RULES: dict[str, TypeRule] = {
    "image": "complexity",
    "document": "complexity",
    "text": "complexity",
}
DEFAULT_PRICES: dict[str, ModelPrice] = {
    "claude-haiku-4-5": ModelPrice(input=1.0, output=5.0, cache_write=1.25, cache_read=0.1),
    "claude-sonnet-4-6": ModelPrice(input=3.0, output=15.0, cache_write=3.75, cache_read=0.3),
}


def parse_pairs(value: object) -> dict[str, str]:
    """`image=0.8,document=0.7` (the context's form) or a mapping, to a dict of strings."""
    if isinstance(value, dict):
        return {str(key): str(item) for key, item in value.items()}
    pairs = [part.strip() for part in str(value).split(",") if part.strip()]
    parsed: dict[str, str] = {}
    for pair in pairs:
        key, sep, item = pair.partition("=")
        if not sep or not key.strip() or not item.strip():
            raise ValueError(f"expected key=value pairs separated by commas, not {pair!r}")
        parsed[key.strip()] = item.strip()
    return parsed


class AiSettings(BaseSettings):
    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    table_name: TableName
    bucket_name: str
    # The Secrets Manager secret holding the Anthropic API key; empty: Claude is not configured.
    anthropic_secret_name: str = ""
    # Empty: the real API. The e2e suite points it at the emulator.
    anthropic_base_url: str = ""
    ai_cheap_model: str = "claude-haiku-4-5"
    ai_strong_model: str = "claude-sonnet-4-6"
    ai_prices: dict[str, ModelPrice] = Field(default_factory=lambda: dict(DEFAULT_PRICES))
    ai_user_daily_budget_usd: NonNegativeFloat = 1.0
    ai_monthly_budget_usd: NonNegativeFloat = 100.0
    ai_timeout_seconds: PositiveFloat = 30.0
    ai_max_retries: Annotated[int, Field(ge=0, le=10)] = 2
    # The longest wait between attempts, whatever `retry-after` asks for.
    ai_max_retry_wait_seconds: NonNegativeFloat = 20.0
    ai_circuit_failures: PositiveInt = 5
    ai_circuit_cooldown_seconds: PositiveInt = 60
    ai_cache_scope: CacheScope = "user"
    ai_cache_ttl_days: PositiveInt = 30
    # `image=0.8,document=0.8` (or a JSON object)
    ai_review_thresholds: Annotated[dict[AiKind, Annotated[float, Field(ge=0, le=1)]], NoDecode] = Field(
        default_factory=lambda: dict(DEFAULT_REVIEW_THRESHOLDS)
    )
    ai_complexity_threshold: Annotated[float, Field(ge=0, le=1)] = 0.6
    # `image=complexity,document=always,text=never` (or a JSON object)
    ai_type_rules: Annotated[dict[str, TypeRule], NoDecode] = Field(
        default_factory=lambda: dict(DEFAULT_TYPE_RULES)
    )
    # Documents: the text sent per request (about 4 characters a token), and how many chunks at most.
    ai_chunk_tokens: PositiveInt = 6000
    ai_max_chunks: PositiveInt = 8
    ai_max_output_tokens: PositiveInt = 1024

    @field_validator("ai_review_thresholds", "ai_type_rules", mode="before")
    @classmethod
    def _pairs(cls, value: object) -> object:
        if isinstance(value, str):
            return json.loads(value) if value.lstrip().startswith("{") else parse_pairs(value)
        return value

    @property
    def configured(self) -> bool:
        return bool(self.anthropic_secret_name)

    def price(self, model: str) -> ModelPrice:
        """A model without a price is a configuration error: its cost would be recorded as zero."""
        if model not in self.ai_prices:
            raise ValueError(f"no price configured for model {model!r} (context ai_prices)")
        return self.ai_prices[model]
