"""Values the app reads from CDK context (cdk.json defaults, `cdk synth -c key=value` overrides)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from aws_cdk import Duration
from constructs import Construct

DEFAULT_ALLOWED_ORIGINS = ("http://localhost:8080", "http://127.0.0.1:8080")


def allowed_origins(scope: Construct) -> list[str]:
    """Browser origins allowed by the bucket's CORS and the API.

    A list in cdk.json; on the command line a JSON list or a comma-separated string.
    """
    value = scope.node.try_get_context("allowed_origins")
    if value is None:
        return list(DEFAULT_ALLOWED_ORIGINS)
    if isinstance(value, str):
        value = json.loads(value) if value.lstrip().startswith("[") else value.split(",")
    origins = [str(origin).strip() for origin in value if str(origin).strip()]
    if not origins or any(origin == "*" or origin.endswith("/") for origin in origins):
        raise ValueError(
            f"context allowed_origins must list exact origins (no '*', no trailing '/'): {value!r}"
        )
    return origins


def stage_concurrency_scale(scope: Construct) -> int:
    """`stage_concurrency_scale` multiplies each stage's reserved concurrency (0: none reserved).

    Reserved concurrency caps how many copies of a stage run at once: it keeps a burst of uploads from
    taking the account's whole concurrency (and, on the 2-core local cloud, from starting a hundred
    interpreters at once). An account whose concurrency limit is too small to reserve it deploys with 0.
    """
    raw = scope.node.try_get_context("stage_concurrency_scale")
    scale = 1 if raw is None else int(raw)
    if scale < 0:
        raise ValueError(f"context stage_concurrency_scale must be 0 or more: {raw!r}")
    return scale


DEFAULT_STANDARD_LANE_SLOTS = 3


def standard_lane_slots(scope: Construct) -> int:
    """`standard_lane_slots`: how many standard-lane files (priority < 7) are processed at once.

    The rest wait their turn in the workflow, so an urgent file never queues behind a burst. Keep it
    below the stages' reserved concurrency (4 x `stage_concurrency_scale` for most), so an urgent file
    always finds a free environment; docs/processing.md, "Priorities", says what to use on AWS.
    """
    raw = scope.node.try_get_context("standard_lane_slots")
    slots = DEFAULT_STANDARD_LANE_SLOTS if raw is None else int(raw)
    if slots < 1:
        raise ValueError(f"context standard_lane_slots must be 1 or more: {raw!r}")
    return slots


def alarm_email(scope: Construct) -> str | None:
    """`alarm_email`: where the alarm topic mails alarms (none: the topic has no subscriber)."""
    raw = scope.node.try_get_context("alarm_email")
    if raw in (None, ""):
        return None
    value = str(raw).strip()
    if "@" not in value or any(c.isspace() for c in value):
        raise ValueError(f"context alarm_email must be one email address: {raw!r}")
    return value


def nag_enabled(scope: Construct) -> bool:
    """`-c nag=true` applies cdk-nag's AwsSolutions checks to the app."""
    return str(scope.node.try_get_context("nag")).lower() == "true"


@dataclass(frozen=True)
class TokenContext:
    """Who issues the tokens the API accepts (`-c token_issuer=...`, `-c jwks_url=... jwks_issuer=...
    jwks_audience=...` for an external identity provider; all three or none)."""

    issuer: str
    jwks_url: str | None
    jwks_issuer: str | None
    jwks_audience: str | None


DEFAULT_JWT_ISSUER = "fileflow"


def token_context(scope: Construct) -> TokenContext:
    def value(key: str) -> str | None:
        raw = scope.node.try_get_context(key)
        if raw is None:
            return None
        return str(raw).strip() or None

    jwks = (value("jwks_url"), value("jwks_issuer"), value("jwks_audience"))
    if any(jwks) and not all(jwks):
        raise ValueError("context jwks_url, jwks_issuer and jwks_audience go together: set all three or none")
    if jwks[0] is not None and not jwks[0].startswith("https://"):
        raise ValueError(f"context jwks_url must be an https:// URL: {jwks[0]!r}")
    return TokenContext(
        issuer=value("token_issuer") or DEFAULT_JWT_ISSUER,
        jwks_url=jwks[0],
        jwks_issuer=jwks[1],
        jwks_audience=jwks[2],
    )


# The sender's default (Standard Webhooks' example): seconds after each failed attempt.
DEFAULT_WEBHOOK_RETRY_SCHEDULE = "5,300,1800,7200,18000,36000,50400,72000,86400"
DEFAULT_WEBHOOK_DISABLE_AFTER = 5
DEFAULT_WEBHOOK_ROTATION_OVERLAP_SECONDS = 86400


@dataclass(frozen=True)
class WebhookContext:
    """`webhooks_allow_local_http` (http:// and https:// to 127.0.0.1/localhost; local cloud only),
    `webhook_retry_schedule` (comma-separated seconds), `webhook_disable_after` (consecutive failed
    deliveries), `webhook_rotation_overlap_seconds` (how long a rotated-out secret still signs)."""

    allow_local_http: bool = False
    retry_schedule: str = DEFAULT_WEBHOOK_RETRY_SCHEDULE
    disable_after: int = DEFAULT_WEBHOOK_DISABLE_AFTER
    rotation_overlap_seconds: int = DEFAULT_WEBHOOK_ROTATION_OVERLAP_SECONDS


def _flag(scope: Construct, key: str) -> bool:
    raw = scope.node.try_get_context(key)
    if raw is None:
        return False
    text = str(raw).strip().lower()
    if text not in ("true", "false"):
        raise ValueError(f"context {key} must be true or false: {raw!r}")
    return text == "true"


def _bounded_int(scope: Construct, key: str, default: int, low: int, high: int) -> int:
    raw = scope.node.try_get_context(key)
    if raw is None:
        return default
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise ValueError(f"context {key} must be a whole number: {raw!r}") from None
    if not low <= value <= high:
        raise ValueError(f"context {key} must be {low} to {high}: {raw!r}")
    return value


def webhook_context(scope: Construct) -> WebhookContext:
    raw_schedule = scope.node.try_get_context("webhook_retry_schedule")
    schedule = DEFAULT_WEBHOOK_RETRY_SCHEDULE if raw_schedule is None else str(raw_schedule)
    parts = [part.strip() for part in schedule.split(",")]
    if not 1 <= len(parts) <= 20 or not all(part.isdigit() and int(part) <= 86400 for part in parts):
        raise ValueError(
            "context webhook_retry_schedule must be 1 to 20 comma-separated delays of 0 to 86400 seconds: "
            f"{raw_schedule!r}"
        )
    return WebhookContext(
        allow_local_http=_flag(scope, "webhooks_allow_local_http"),
        retry_schedule=",".join(parts),
        disable_after=_bounded_int(scope, "webhook_disable_after", DEFAULT_WEBHOOK_DISABLE_AFTER, 1, 100),
        rotation_overlap_seconds=_bounded_int(
            scope, "webhook_rotation_overlap_seconds", DEFAULT_WEBHOOK_ROTATION_OVERLAP_SECONDS, 0, 604800
        ),
    )


DEFAULT_REVIEW_TIMEOUT_SECONDS = 86400
REVIEW_TIMEOUT_RULES = ("escalate", "reject")


@dataclass(frozen=True)
class ReviewContext:
    """`review_timeout_seconds`: how long a review task waits for a reviewer's decision (1 s to 1 year);
    `review_timeout_rule`: what happens then (docs/reviews.md, "Timeout"): `escalate` (flag the review
    escalated and wait once more as long, then reject) or `reject`."""

    timeout_seconds: int = DEFAULT_REVIEW_TIMEOUT_SECONDS
    timeout_rule: str = "escalate"

    @property
    def longest_wait(self) -> Duration:
        """How long a review may stay open: the timeout, twice under `escalate` (it waits once more)."""
        waits = 2 if self.timeout_rule == "escalate" else 1
        return Duration.seconds(waits * self.timeout_seconds)


def review_context(scope: Construct) -> ReviewContext:
    raw_rule = scope.node.try_get_context("review_timeout_rule")
    rule = "escalate" if raw_rule is None else str(raw_rule).strip().lower()
    if rule not in REVIEW_TIMEOUT_RULES:
        raise ValueError(f"context review_timeout_rule must be escalate or reject: {raw_rule!r}")
    return ReviewContext(
        timeout_seconds=_bounded_int(
            scope, "review_timeout_seconds", DEFAULT_REVIEW_TIMEOUT_SECONDS, 1, 365 * 86400
        ),
        timeout_rule=rule,
    )


DEFAULT_ANTHROPIC_SECRET_NAME = "fileflow/anthropic-api-key"  # noqa: S105 - a secret's name, not its value
DEFAULT_AI_MODELS = "cheap=claude-haiku-4-5,strong=claude-sonnet-4-6"
# USD per million tokens (Anthropic's list prices; cache writes at 1.25x input, reads at 0.1x).
DEFAULT_AI_PRICES: dict[str, dict[str, float]] = {
    "claude-haiku-4-5": {"input": 1.0, "output": 5.0, "cache_write": 1.25, "cache_read": 0.1},
    "claude-sonnet-4-6": {"input": 3.0, "output": 15.0, "cache_write": 3.75, "cache_read": 0.3},
}
_PRICE_FIELDS = ("input", "output", "cache_write", "cache_read")
# What the API needs of the AI configuration (GET /v1/usage shows the budgets).
AI_BUDGET_VARIABLES = ("AI_USER_DAILY_BUDGET_USD", "AI_MONTHLY_BUDGET_USD")


@dataclass(frozen=True)
class AiContext:
    """The AI stage's configuration (docs/ai.md, "Configuration"): the secret that holds the Anthropic API
    key (a missing secret: Claude is not configured), the API's URL (empty: the real one), the models and
    their prices, budgets, resilience, cache and review settings. Each becomes one environment variable."""

    secret_name: str = DEFAULT_ANTHROPIC_SECRET_NAME
    environment: tuple[tuple[str, str], ...] = ()


def _text(scope: Construct, key: str, default: str) -> str:
    raw = scope.node.try_get_context(key)
    return default if raw is None else str(raw).strip()


def _number(scope: Construct, key: str, default: float, low: float, high: float) -> str:
    raw = scope.node.try_get_context(key)
    if raw is None:
        return str(default)
    try:
        value = float(str(raw).strip())
    except ValueError:
        raise ValueError(f"context {key} must be a number: {raw!r}") from None
    if not low <= value <= high:
        raise ValueError(f"context {key} must be {low:g} to {high:g}: {raw!r}")
    return str(value)


def _pairs(scope: Construct, key: str, default: str) -> dict[str, str]:
    text = _text(scope, key, default)
    pairs: dict[str, str] = {}
    for part in (part.strip() for part in text.split(",") if part.strip()):
        name, sep, value = part.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise ValueError(f"context {key} must be name=value pairs separated by commas: {text!r}")
        pairs[name.strip()] = value.strip()
    return pairs


def ai_context(scope: Construct) -> AiContext:
    models = _pairs(scope, "ai_models", DEFAULT_AI_MODELS)
    if set(models) != {"cheap", "strong"}:
        raise ValueError(f"context ai_models must name a cheap and a strong model: {models!r}")
    raw_prices = scope.node.try_get_context("ai_prices")
    prices = DEFAULT_AI_PRICES if raw_prices is None else raw_prices
    if isinstance(prices, str):
        prices = json.loads(prices)
    if not isinstance(prices, dict) or not all(
        isinstance(price, dict) and set(price) == set(_PRICE_FIELDS) for price in prices.values()
    ):
        raise ValueError(
            f"context ai_prices must map each model to {', '.join(_PRICE_FIELDS)}: {raw_prices!r}"
        )
    for model in models.values():
        if model not in prices:
            raise ValueError(f"context ai_prices has no price for model {model!r}")
    thresholds = _pairs(scope, "ai_review_thresholds", "image=0.8,document=0.8")
    if not set(thresholds) <= {"image", "document"} or not all(
        0 <= float(value) <= 1 for value in thresholds.values()
    ):
        raise ValueError(
            f"context ai_review_thresholds must be image=/document= values 0 to 1: {thresholds!r}"
        )
    rules = _pairs(scope, "ai_type_rules", "image=complexity,document=complexity,text=complexity")
    if not all(rule in ("always", "complexity", "never") for rule in rules.values()):
        raise ValueError(f"context ai_type_rules must be always, complexity or never: {rules!r}")
    scope_name = _text(scope, "ai_cache_scope", "user")
    if scope_name not in ("user", "global"):
        raise ValueError(f"context ai_cache_scope must be user or global: {scope_name!r}")
    base_url = _text(scope, "anthropic_base_url", "")
    if base_url and not base_url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
        raise ValueError(f"context anthropic_base_url must be https:// (or local http): {base_url!r}")
    secret_name = _text(scope, "anthropic_secret_name", DEFAULT_ANTHROPIC_SECRET_NAME)
    environment = {
        "ANTHROPIC_SECRET_NAME": secret_name,
        "ANTHROPIC_BASE_URL": base_url,
        "AI_CHEAP_MODEL": models["cheap"],
        "AI_STRONG_MODEL": models["strong"],
        "AI_PRICES": json.dumps(prices, sort_keys=True, separators=(",", ":")),
        "AI_USER_DAILY_BUDGET_USD": _number(scope, "ai_user_daily_budget_usd", 1.0, 0, 1e6),
        "AI_MONTHLY_BUDGET_USD": _number(scope, "ai_monthly_budget_usd", 100.0, 0, 1e9),
        "AI_TIMEOUT_SECONDS": _number(scope, "ai_timeout_seconds", 30.0, 0.1, 60),
        "AI_MAX_RETRIES": str(_bounded_int(scope, "ai_max_retries", 2, 0, 5)),
        "AI_MAX_RETRY_WAIT_SECONDS": _number(scope, "ai_max_retry_wait_seconds", 10.0, 0, 20),
        "AI_CIRCUIT_FAILURES": str(_bounded_int(scope, "ai_circuit_failures", 5, 1, 1000)),
        "AI_CIRCUIT_COOLDOWN_SECONDS": str(_bounded_int(scope, "ai_circuit_cooldown_seconds", 60, 1, 86400)),
        "AI_CACHE_SCOPE": scope_name,
        "AI_CACHE_TTL_DAYS": str(_bounded_int(scope, "ai_cache_ttl_days", 30, 1, 3650)),
        "AI_REVIEW_THRESHOLDS": ",".join(f"{name}={value}" for name, value in sorted(thresholds.items())),
        "AI_COMPLEXITY_THRESHOLD": _number(scope, "ai_complexity_threshold", 0.6, 0, 1),
        "AI_TYPE_RULES": ",".join(f"{name}={value}" for name, value in sorted(rules.items())),
    }
    return AiContext(secret_name=secret_name, environment=tuple(environment.items()))
