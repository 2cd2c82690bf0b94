"""DynamoDB adapters of the AI stage: the result cache, the usage counters and budgets, the circuit.

All in the one metadata table (keys in fileflow_common.table). Counters are ADDs (atomic, however many
environments count at once); the circuit's changes of state are conditional writes on its version.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from fileflow_common.dynamo import from_dynamo, to_dynamo
from fileflow_common.table import (
    AI_CACHE_GLOBAL,
    AI_CIRCUIT_KEY,
    ai_budget_key,
    ai_cache_key,
    ai_usage_day_key,
    ai_usage_month_key,
)
from fileflow_stages.ai.circuit import Circuit, CircuitState
from fileflow_stages.ai.cost import TokenUsage, day_of, month_of

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

TTL_ATTRIBUTE = "expires_at"
# Usage items outlive the budgets that read them: kept a little over a year for GET /v1/usage.
USAGE_RETENTION_SECONDS = 400 * 86400


@dataclass(frozen=True, slots=True)
class CacheKey:
    sha256: str
    prompt_version: str
    model: str
    kind: str
    # A user id (the default scope), or None for the global cache.
    user_id: str | None

    @property
    def item_key(self) -> dict[str, str]:
        scope = self.user_id if self.user_id is not None else AI_CACHE_GLOBAL
        return ai_cache_key(scope, f"{self.sha256}#{self.prompt_version}#{self.model}#{self.kind}")


@dataclass(frozen=True, slots=True)
class CachedResult:
    result: dict[str, Any]
    confidence: float
    model: str


def _int(item: dict[str, Any], name: str) -> int:
    value = item.get(name, 0)
    return int(value) if isinstance(value, int | Decimal) else 0


class DynamoAiCache:
    def __init__(self, table: Table) -> None:
        self._table = table

    def get(self, key: CacheKey, now: float) -> CachedResult | None:
        item = self._table.get_item(Key=key.item_key).get("Item")
        # DynamoDB's TTL deletes within days, not at once: an expired item is a miss all the same.
        if not item or _int(item, TTL_ATTRIBUTE) <= now:
            return None
        result = from_dynamo(item.get("result"))
        if not isinstance(result, dict):
            return None
        return CachedResult(
            result=result, confidence=float(str(item["confidence"])), model=str(item["model"])
        )

    def put(self, key: CacheKey, cached: CachedResult, *, now: float, ttl_seconds: int) -> None:
        self._table.put_item(
            Item={
                **key.item_key,
                "entity": "ai_cache",
                "result": to_dynamo(cached.result),
                "confidence": to_dynamo(cached.confidence),
                "model": cached.model,
                "created_at": int(now),
                TTL_ATTRIBUTE: int(now) + ttl_seconds,
            }
        )


def _add(table: Table, key: dict[str, str], counters: dict[str, int], expires_at: int) -> None:
    names = {f"#c{index}": name for index, name in enumerate(counters)}
    values: dict[str, Any] = {f":c{index}": value for index, value in enumerate(counters.values())}
    adds = ", ".join(f"#c{index} :c{index}" for index in range(len(counters)))
    table.update_item(
        Key=key,
        UpdateExpression=f"ADD {adds} SET #entity = :entity, #ttl = :ttl",
        ExpressionAttributeNames={**names, "#entity": "entity", "#ttl": TTL_ATTRIBUTE},
        ExpressionAttributeValues={**values, ":entity": "ai_usage", ":ttl": expires_at},
    )


def usage_counters(usage: TokenUsage, *, cache_hits: int) -> dict[str, int]:
    return {
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "cache_creation_input_tokens": usage.cache_creation_input_tokens,
        "cache_read_input_tokens": usage.cache_read_input_tokens,
        "cost_micro_usd": usage.cost_micro_usd,
        "calls": usage.calls,
        "cache_hits": cache_hits,
    }


@dataclass(frozen=True, slots=True)
class SpentSoFar:
    user_day_micro: int
    global_month_micro: int
    # An operator's override of this user's daily budget (micro-dollars), or None: the configured one.
    user_daily_budget_micro: int | None


class DynamoAiUsage:
    def __init__(self, table: Table) -> None:
        self._table = table

    def add(self, user_id: str, at: datetime, usage: TokenUsage, *, cache_hits: int = 0) -> None:
        """The user's day and everyone's month, both counted (two ADDs)."""
        counters = usage_counters(usage, cache_hits=cache_hits)
        if not any(counters.values()):
            return
        expires_at = int(at.timestamp()) + USAGE_RETENTION_SECONDS
        _add(self._table, ai_usage_day_key(user_id, day_of(at)), counters, expires_at)
        _add(self._table, ai_usage_month_key(month_of(at)), counters, expires_at)

    def spent(self, user_id: str, at: datetime) -> SpentSoFar:
        day = self._table.get_item(Key=ai_usage_day_key(user_id, day_of(at)), ConsistentRead=True).get("Item")
        month = self._table.get_item(Key=ai_usage_month_key(month_of(at)), ConsistentRead=True).get("Item")
        budget = self._table.get_item(Key=ai_budget_key(user_id), ConsistentRead=True).get("Item")
        override = budget.get("daily_budget_micro_usd") if budget else None
        return SpentSoFar(
            user_day_micro=_int(day or {}, "cost_micro_usd"),
            global_month_micro=_int(month or {}, "cost_micro_usd"),
            user_daily_budget_micro=int(override) if isinstance(override, int | Decimal) else None,
        )


class DynamoCircuitStore:
    """The circuit's one item, `AICIRCUIT` / `anthropic`, shared by every execution environment."""

    def __init__(self, table: Table) -> None:
        self._table = table
        self._errors = table.meta.client.exceptions

    def read(self) -> Circuit:
        item = self._table.get_item(Key=AI_CIRCUIT_KEY, ConsistentRead=True).get("Item")
        if not item:
            return Circuit()
        return Circuit(
            state=CircuitState(str(item.get("state", CircuitState.CLOSED.value))),
            failures=_int(item, "failures"),
            since=float(str(item.get("since", 0))),
            version=_int(item, "version"),
        )

    def _move(self, seen_version: int, state: CircuitState, now: float) -> bool:
        """To `state` (since `now`), if nobody changed the circuit since `seen_version`."""
        try:
            self._table.update_item(
                Key=AI_CIRCUIT_KEY,
                UpdateExpression="SET #state = :state, #since = :since, #version = :next, #entity = :entity",
                ConditionExpression="attribute_not_exists(#version) OR #version = :seen",
                ExpressionAttributeNames={
                    "#state": "state",
                    "#since": "since",
                    "#version": "version",
                    "#entity": "entity",
                },
                ExpressionAttributeValues={
                    ":state": state.value,
                    ":since": Decimal(str(round(now, 3))),
                    ":next": seen_version + 1,
                    ":seen": seen_version,
                    ":entity": "ai_circuit",
                },
            )
        except self._errors.ConditionalCheckFailedException:
            return False
        return True

    def try_probe(self, seen: Circuit, now: float) -> bool:
        return self._move(seen.version, CircuitState.HALF_OPEN, now)

    def record_failure(self, now: float, threshold: int) -> None:
        updated = self._table.update_item(
            Key=AI_CIRCUIT_KEY,
            UpdateExpression="ADD #failures :one SET #entity = :entity",
            ExpressionAttributeNames={"#failures": "failures", "#entity": "entity"},
            ExpressionAttributeValues={":one": 1, ":entity": "ai_circuit"},
            ReturnValues="ALL_NEW",
        )["Attributes"]
        state = str(updated.get("state", CircuitState.CLOSED.value))
        failures, version = _int(updated, "failures"), _int(updated, "version")
        # A failed probe opens it again; so do `threshold` failures in a row while closed.
        if state == CircuitState.HALF_OPEN.value or (
            state == CircuitState.CLOSED.value and failures >= threshold
        ):
            self._move(version, CircuitState.OPEN, now)

    def record_success(self) -> None:
        # Mostly a refused no-op: only a circuit with failures counted (or not closed) is written.
        with suppress(self._errors.ConditionalCheckFailedException):
            self._table.update_item(
                Key=AI_CIRCUIT_KEY,
                UpdateExpression="SET #state = :closed, #failures = :zero ADD #version :one",
                ConditionExpression="#state <> :closed OR #failures > :zero",
                ExpressionAttributeNames={"#state": "state", "#failures": "failures", "#version": "version"},
                ExpressionAttributeValues={":closed": CircuitState.CLOSED.value, ":zero": 0, ":one": 1},
            )

    def reset(self) -> None:
        self._table.delete_item(Key=AI_CIRCUIT_KEY)
