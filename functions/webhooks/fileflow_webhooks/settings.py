"""The sender's environment, validated once per execution environment."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from fileflow_common.settings_types import QueueUrl, TableName

# Standard Webhooks' example: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h after each failure.
DEFAULT_RETRY_SCHEDULE = (5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400)
MAX_SCHEDULE_DELAY_SECONDS = 24 * 3600


class WebhookSettings(BaseSettings):
    """TABLE_NAME, WEBHOOK_QUEUE_URL, WEBHOOK_RETRY_SCHEDULE (comma-separated seconds),
    WEBHOOK_DISABLE_AFTER, WEBHOOKS_ALLOW_LOCAL_HTTP ("true" on the local cloud only)."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    table_name: TableName
    # The sender's own queue: retries come back to it with a delay.
    webhook_queue_url: QueueUrl
    webhook_retry_schedule: Annotated[tuple[int, ...], NoDecode] = DEFAULT_RETRY_SCHEDULE
    # Consecutive failed deliveries (retries exhausted) that disable an endpoint.
    webhook_disable_after: Annotated[int, Field(ge=1, le=100)] = 5
    webhooks_allow_local_http: bool = False

    @field_validator("webhook_retry_schedule", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        return parse_schedule(value) if isinstance(value, str) else value

    @field_validator("webhook_retry_schedule")
    @classmethod
    def _bounded(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not 1 <= len(value) <= 20:
            raise ValueError("the retry schedule holds 1 to 20 delays")
        if any(not 0 <= delay <= MAX_SCHEDULE_DELAY_SECONDS for delay in value):
            raise ValueError(f"each retry delay is 0 to {MAX_SCHEDULE_DELAY_SECONDS} seconds")
        return value


def parse_schedule(text: str) -> tuple[int, ...]:
    """`"5,300, 1800"` -> (5, 300, 1800)."""
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise ValueError(
            f"the retry schedule is comma-separated seconds, e.g. 5,300,1800: {text!r}"
        ) from None
