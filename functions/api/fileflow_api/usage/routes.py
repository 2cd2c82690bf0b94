"""GET /v1/usage: the caller's own storage and AI figures (docs/ai.md, "Usage")."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Security
from pydantic import BaseModel, Field

from fileflow_api.auth.identity import BEARER_AUTH
from fileflow_api.core.params import Caller
from fileflow_api.dependencies import get_dependencies
from fileflow_api.usage.service import MICRO, AiDay, UsageReport, UsageService

router = APIRouter(prefix="/v1/usage", tags=["usage"], dependencies=[Security(BEARER_AUTH)])


def get_usage_service(request: Request) -> UsageService:
    return get_dependencies(request).usage


Usages = Annotated[UsageService, Depends(get_usage_service)]


class StorageUsageModel(BaseModel):
    bytes: int
    files: int
    max_bytes: int
    max_files: int


class AiUsageModel(BaseModel):
    period: Annotated[str, Field(description="the UTC day (yyyy-mm-dd) or month (yyyy-mm)")]
    input_tokens: int
    output_tokens: int
    cache_creation_input_tokens: int
    cache_read_input_tokens: int
    cost_usd: float
    calls: Annotated[int, Field(description="requests to Claude (retries and repairs included)")]
    cache_hits: Annotated[int, Field(description="results served from the cache: no call, no cost")]

    @classmethod
    def of(cls, day: AiDay) -> AiUsageModel:
        return cls(
            period=day.day,
            input_tokens=day.get("input_tokens"),
            output_tokens=day.get("output_tokens"),
            cache_creation_input_tokens=day.get("cache_creation_input_tokens"),
            cache_read_input_tokens=day.get("cache_read_input_tokens"),
            cost_usd=round(day.get("cost_micro_usd") / MICRO, 6),
            calls=day.get("calls"),
            cache_hits=day.get("cache_hits"),
        )


class AiBudgetModel(BaseModel):
    daily_usd: float
    daily_remaining_usd: float
    daily_overridden: Annotated[bool, Field(description="an operator set this user's daily budget")]
    monthly_exhausted: Annotated[
        bool,
        Field(description="everyone's monthly budget is spent: analysis is local only until the month ends"),
    ]


class AiUsageSection(BaseModel):
    today: AiUsageModel
    month: AiUsageModel
    days: Annotated[list[AiUsageModel], Field(description="the days with any AI use, oldest first")]
    budget: AiBudgetModel


class UsageResponse(BaseModel):
    storage: StorageUsageModel
    ai: AiUsageSection


def _response(report: UsageReport) -> UsageResponse:
    spent_today = report.today_total.get("cost_micro_usd")
    return UsageResponse(
        storage=StorageUsageModel(
            bytes=report.storage.bytes,
            files=report.storage.files,
            max_bytes=report.quota.max_bytes,
            max_files=report.quota.max_files,
        ),
        ai=AiUsageSection(
            today=AiUsageModel.of(report.today_total),
            month=AiUsageModel.of(report.month_total),
            days=[AiUsageModel.of(day) for day in report.days],
            budget=AiBudgetModel(
                daily_usd=round(report.daily_budget_micro / MICRO, 6),
                daily_remaining_usd=round(max(0, report.daily_budget_micro - spent_today) / MICRO, 6),
                daily_overridden=report.daily_budget_overridden,
                monthly_exhausted=report.monthly_budget_exhausted,
            ),
        ),
    )


@router.get("", summary="Your storage use and your AI tokens, cost and budget")
def get_usage(
    user: Caller,
    usage: Usages,
    days: Annotated[int, Query(ge=1, le=90, description="how many days back the `days` list goes")] = 30,
) -> UsageResponse:
    return _response(usage.report(user.user_id, days=days))
