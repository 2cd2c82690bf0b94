"""GET /v1/usage: the caller's own storage use against the quotas, and their AI tokens and cost by day and
this month, with the AI budgets and what is left. No AWS code: the figures come through small ports.

Everyone's monthly AI spend is not shown (other users' figures); only whether that budget is spent,
which is why a file would say `budget_exhausted` with reason `global_monthly_budget`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from fileflow_api.usage.quotas import Quota, QuotaPolicy, Usage
from fileflow_common.table import AI_USAGE_COUNTERS

MICRO = 1_000_000


@dataclass(frozen=True, slots=True)
class AiDay:
    day: str  # yyyy-mm-dd (UTC)
    counters: Mapping[str, int] = field(default_factory=dict)

    def get(self, name: str) -> int:
        return int(self.counters.get(name, 0))


class AiUsageReader(Protocol):
    def days(self, user_id: str, first: str, last: str) -> list[AiDay]:
        """The user's AI usage items from day `first` to day `last` (inclusive), oldest first."""
        ...

    def daily_budget_override(self, user_id: str) -> int | None:
        """An operator's override of the user's daily budget (micro-dollars), or None."""
        ...

    def global_month_spent(self, month: str) -> int:
        """Everyone's AI cost this month (micro-dollars): for the budget check only, never shown."""
        ...


@dataclass(frozen=True, slots=True)
class AiBudgets:
    user_daily_micro: int
    monthly_micro: int


@dataclass(frozen=True, slots=True)
class UsageReport:
    storage: Usage
    quota: Quota
    today: str
    month: str
    days: list[AiDay]
    month_total: AiDay
    daily_budget_micro: int
    daily_budget_overridden: bool
    monthly_budget_exhausted: bool

    @property
    def today_total(self) -> AiDay:
        return next((day for day in self.days if day.day == self.today), AiDay(self.today))


def _sum(label: str, days: list[AiDay]) -> AiDay:
    return AiDay(label, {name: sum(day.get(name) for day in days) for name in AI_USAGE_COUNTERS})


class UsageService:
    def __init__(
        self,
        quotas: QuotaPolicy,
        quota: Quota,
        ai: AiUsageReader,
        budgets: AiBudgets,
        clock: Callable[[], datetime],
    ) -> None:
        self._quotas = quotas
        self._quota = quota
        self._ai = ai
        self._budgets = budgets
        self._clock = clock

    def report(self, user_id: str, *, days: int) -> UsageReport:
        now = self._clock()
        today, month = now.strftime("%Y-%m-%d"), now.strftime("%Y-%m")
        first_of_month = now.replace(day=1).strftime("%Y-%m-%d")
        first = min((now - timedelta(days=days - 1)).strftime("%Y-%m-%d"), first_of_month)
        items = self._ai.days(user_id, first, today)
        shown_from = (now - timedelta(days=days - 1)).strftime("%Y-%m-%d")
        override = self._ai.daily_budget_override(user_id)
        return UsageReport(
            storage=self._quotas.usage(user_id),
            quota=self._quota,
            today=today,
            month=month,
            days=[day for day in items if day.day >= shown_from],
            month_total=_sum(month, [day for day in items if day.day >= first_of_month]),
            daily_budget_micro=override if override is not None else self._budgets.user_daily_micro,
            daily_budget_overridden=override is not None,
            monthly_budget_exhausted=self._ai.global_month_spent(month) >= self._budgets.monthly_micro,
        )
