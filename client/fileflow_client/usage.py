"""The caller's own usage: storage against the quotas, Claude's tokens and cost against the budgets."""

from __future__ import annotations

from dataclasses import dataclass

from fileflow_client.parsing import Json
from fileflow_client.transport import AsyncRequester, Call, Requester, mirrors


@dataclass(frozen=True, slots=True)
class Usage:
    """`GET /v1/usage` (docs/ai.md, "Usage"); `raw` holds the whole answer."""

    raw: Json

    @property
    def storage(self) -> Json:
        value = self.raw.get("storage")
        return value if isinstance(value, dict) else {}

    @property
    def ai(self) -> Json:
        value = self.raw.get("ai")
        return value if isinstance(value, dict) else {}


def usage_call() -> Call[Usage]:
    return Call("GET", "/v1/usage", Usage)


class UsageResource:
    """`client.usage`: the caller's own figures only."""

    def __init__(self, requester: Requester) -> None:
        self._requester = requester

    def get(self) -> Usage:
        """Storage against the quotas; Claude's tokens and cost by day and month, against the budgets."""
        return self._requester.run(usage_call())


@mirrors(UsageResource)
class AsyncUsageResource:
    def __init__(self, requester: AsyncRequester) -> None:
        self._requester = requester

    async def get(self) -> Usage:
        return await self._requester.run(usage_call())
