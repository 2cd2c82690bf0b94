"""The AI analysis of one file: policy -> budget -> cache -> circuit -> Claude (retried, validated,
repaired once) -> cache and usage. Plain Python: every adapter is injected. Never raises for the file's
sake: whatever goes wrong becomes an `ai_status` and the local analysis stands.
"""

from __future__ import annotations

import base64
import hashlib
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import BaseModel, ValidationError

from fileflow_common.observability import logger, metrics
from fileflow_stages.ai.circuit import CircuitBreaker
from fileflow_stages.ai.claude import ClaudeReply, ClaudeRequest
from fileflow_stages.ai.cost import Spent, TokenUsage, micro_usd, priced
from fileflow_stages.ai.outcome import AiOutcome
from fileflow_stages.ai.policy import AiStatus, AnalysisMode, Decision, PolicyInput, PolicyRules, decide
from fileflow_stages.ai.prompts import (
    CHUNK_TOOL,
    DOCUMENT_TOOL,
    IMAGE_TOOL,
    chunk_message,
    document_message,
    image_message,
    summaries_message,
    system_blocks,
)
from fileflow_stages.ai.retry import CallFailure, RetryPolicy, with_retries
from fileflow_stages.ai.schemas import PROMPT_VERSION, SCHEMAS, ChunkSummary
from fileflow_stages.ai.settings import AiKind, AiSettings
from fileflow_stages.ai.store import CachedResult, CacheKey, SpentSoFar

# About 4 characters a token: the documents' budget in characters.
CHARS_PER_TOKEN = 4
_THUMBNAIL = re.compile(r"^thumb-(\d+)\.(jpg|jpeg|png|webp)$")
_MEDIA_TYPES = {"jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp"}
# Claude's image input: the 1024-px rendition (or the largest below it), never the original.
MAX_IMAGE_EDGE = 1024


class ClaudePort(Protocol):
    def create(self, request: ClaudeRequest) -> ClaudeReply: ...


class ContentPort(Protocol):
    def read(self, key: str, *, max_bytes: int) -> bytes: ...


class CachePort(Protocol):
    def get(self, key: CacheKey, now: float) -> CachedResult | None: ...

    def put(self, key: CacheKey, cached: CachedResult, *, now: float, ttl_seconds: int) -> None: ...


class UsagePort(Protocol):
    def add(self, user_id: str, at: datetime, usage: TokenUsage, *, cache_hits: int = 0) -> None: ...

    def spent(self, user_id: str, at: datetime) -> SpentSoFar: ...


@dataclass(frozen=True, slots=True)
class FileToAnalyze:
    user_id: str
    file_id: str
    content_kind: str
    mode: AnalysisMode
    complexity: float | None
    # The content stage's derivatives: {"name", "key", "content_type", ...}
    derivatives: list[Mapping[str, Any]]
    # The original's key (a text file has no text derivative: the original is its text).
    original_key: str
    local_facts: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Payload:
    sha256: str  # of exactly what Claude is sent: identical content, identical key
    image: tuple[str, str] | None = None  # (base64, media type)
    text: str | None = None


class InvalidOutputError(Exception):
    """Claude's answer did not match the schema, even after the repair attempt."""


@dataclass
class Meter:
    """Every call's tokens and price, whatever became of the call."""

    settings: AiSettings
    total: TokenUsage = field(default_factory=TokenUsage)

    def add(self, model: str, usage: TokenUsage) -> None:
        self.total = self.total + priced(usage, self.settings.price(model))


@dataclass(frozen=True, slots=True)
class Calls:
    """One analysis' client and meter."""

    client: ClaudePort
    meter: Meter


def pick_thumbnail(derivatives: list[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The 1024-px rendition (else the largest below it), JPEG or PNG before WebP."""
    best: tuple[int, int, Mapping[str, Any]] | None = None
    for derivative in derivatives:
        match = _THUMBNAIL.match(str(derivative.get("name", "")))
        if not match or int(match.group(1)) > MAX_IMAGE_EDGE:
            continue
        rank = (int(match.group(1)), 0 if match.group(2) == "webp" else 1)
        if best is None or rank > best[:2]:
            best = (*rank, derivative)
    return best[2] if best else None


def chunks_of(text: str, chunk_chars: int, max_chunks: int) -> list[str]:
    """The text in chunks (cut at a blank line or a space where one is near), at most `max_chunks`."""
    parts: list[str] = []
    rest = text
    while rest and len(parts) < max_chunks:
        if len(rest) <= chunk_chars:
            parts.append(rest)
            break
        cut = rest.rfind("\n\n", chunk_chars // 2, chunk_chars)
        if cut < 0:
            cut = rest.rfind(" ", chunk_chars // 2, chunk_chars)
        cut = cut if cut > 0 else chunk_chars
        parts.append(rest[:cut])
        rest = rest[cut:].lstrip()
    return parts


def repair_turns(tool_name: str, reply: ClaudeReply, problems: str) -> list[dict[str, Any]]:
    """The turns that send Claude its answer's schema errors back: its tool call and an error result
    (or, had it not called the tool, a plain request to)."""
    ask = f"The input does not match the tool's schema: {problems}. Call {tool_name} again, with valid input."
    if not reply.tool_use_id:
        return [{"role": "user", "content": ask}]
    return [
        {
            "role": "assistant",
            "content": [
                {"type": "tool_use", "id": reply.tool_use_id, "name": tool_name, "input": reply.tool_input}
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": reply.tool_use_id, "is_error": True, "content": ask}
            ],
        },
    ]


def _facts(local: Mapping[str, Any]) -> str:
    return ", ".join(f"{name}={value}" for name, value in sorted(local.items()))[:1000] or "none"


class Analyzer:
    def __init__(
        self,
        settings: AiSettings,
        *,
        content: ContentPort,
        cache: CachePort,
        usage: UsagePort,
        breaker: CircuitBreaker,
        # None: no API key (the secret is missing): Claude is not configured.
        claude: Callable[[], ClaudePort | None],
        clock: Callable[[], datetime],
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._settings = settings
        self._content = content
        self._cache = cache
        self._usage = usage
        self._breaker = breaker
        self._claude = claude
        self._clock = clock
        self._sleep = sleep

    # --- the policy ----------------------------------------------------------------------------------------
    def decide(self, file: FileToAnalyze) -> Decision:
        settings = self._settings
        return decide(
            PolicyInput(
                mode=file.mode,
                content_kind=file.content_kind,
                complexity=file.complexity,
                configured=settings.configured,
            ),
            PolicyRules(
                type_rules=settings.ai_type_rules,
                complexity_threshold=settings.ai_complexity_threshold,
                cheap_model=settings.ai_cheap_model,
                strong_model=settings.ai_strong_model,
            ),
        )

    def analyze(self, file: FileToAnalyze) -> AiOutcome:
        decision = self.decide(file)
        if not decision.calls:
            return AiOutcome(
                decision.status or AiStatus.SKIPPED_BY_POLICY, decision.reason, decision.kind, decision
            )
        meter = Meter(self._settings)
        try:
            client = self._claude()
            if client is None:
                return AiOutcome(AiStatus.SKIPPED_BY_POLICY, "not_configured", decision.kind, decision)
            outcome = self._analyze(file, decision, meter, client)
        except Exception:  # a failing AI never fails the file: the local analysis stands
            logger.exception("ai analysis failed")
            outcome = AiOutcome(AiStatus.FAILED, "internal_error", decision.kind, decision, usage=meter.total)
        self._emit_metrics(outcome)
        return outcome

    # --- the steps ----------------------------------------------------------------------------------------
    def _payload(self, file: FileToAnalyze, kind: AiKind) -> Payload | None:
        if kind == "image":
            thumbnail = pick_thumbnail(file.derivatives)
            if thumbnail is None:
                return None
            data = self._content.read(str(thumbnail["key"]), max_bytes=5 * 1024 * 1024)
            extension = str(thumbnail["name"]).rsplit(".", 1)[1]
            media_type = _MEDIA_TYPES[extension]
            return Payload(
                sha256=hashlib.sha256(data).hexdigest(),
                image=(base64.b64encode(data).decode("ascii"), media_type),
            )
        budget_chars = self._settings.ai_chunk_tokens * CHARS_PER_TOKEN * self._settings.ai_max_chunks
        text_derivative = next((d for d in file.derivatives if d.get("name") == "text.txt"), None)
        key = str(text_derivative["key"]) if text_derivative else file.original_key
        # A few bytes over the budget: UTF-8 takes up to 4 a character.
        raw = self._content.read(key, max_bytes=budget_chars * 4)
        text = raw.decode("utf-8", errors="replace")[:budget_chars].strip()
        if not text:
            return None
        return Payload(sha256=hashlib.sha256(text.encode()).hexdigest(), text=text)

    def _spent(self, user_id: str, now: datetime) -> Spent:
        so_far = self._usage.spent(user_id, now)
        daily = so_far.user_daily_budget_micro
        return Spent(
            user_day=so_far.user_day_micro,
            user_daily_budget=daily
            if daily is not None
            else micro_usd(self._settings.ai_user_daily_budget_usd),
            global_month=so_far.global_month_micro,
            monthly_budget=micro_usd(self._settings.ai_monthly_budget_usd),
        )

    def _analyze(
        self, file: FileToAnalyze, decision: Decision, meter: Meter, client: ClaudePort
    ) -> AiOutcome:
        settings = self._settings
        kind = decision.kind
        # A call decision names both.
        assert kind is not None
        assert decision.model is not None
        payload = self._payload(file, kind)
        if payload is None:
            return AiOutcome(AiStatus.SKIPPED_BY_POLICY, "no_content", kind, decision)
        models = [decision.model]
        if decision.model != settings.ai_strong_model:
            models.append(settings.ai_strong_model)  # asked only if the cheap model is unsure
        threshold = settings.ai_review_thresholds.get(kind, 0.8)
        best: tuple[str, CachedResult, bool] | None = None  # (model, result, from the cache)
        hits = 0
        stopped: tuple[AiStatus, str] | None = None
        for model in models:
            now = self._clock()
            key = CacheKey(
                payload.sha256,
                PROMPT_VERSION,
                model,
                kind,
                None if settings.ai_cache_scope == "global" else file.user_id,
            )
            cached = self._cache.get(key, now.timestamp())
            if cached is not None:
                hits += 1
                best = (model, cached, True)
            else:
                stopped = self._blocked(file.user_id, now)
                if stopped is None:
                    try:
                        result = self._ask(model, kind, payload, file, Calls(client, meter))
                    except CallFailure as failure:
                        stopped = (AiStatus.FAILED, failure.reason)
                    except InvalidOutputError:
                        stopped = (AiStatus.FAILED, "invalid_output")
                    else:
                        self._cache.put(
                            key,
                            result,
                            now=self._clock().timestamp(),
                            ttl_seconds=settings.ai_cache_ttl_days * 86400,
                        )
                        best = (model, result, False)
                if stopped is not None:
                    break
            if best is not None and best[1].confidence >= threshold:
                break
        self._usage.add(file.user_id, self._clock(), meter.total, cache_hits=hits)
        if best is None:
            status, reason = stopped or (AiStatus.FAILED, "no_result")
            return AiOutcome(status, reason, kind, decision, usage=meter.total, cache="miss")
        model, result, from_cache = best
        all_cached = meter.total.calls == 0
        reason = decision.reason if stopped is None else f"{decision.reason}; strong model {stopped[1]}"
        return AiOutcome(
            AiStatus.CACHED if all_cached else AiStatus.SUCCEEDED,
            reason,
            kind,
            decision,
            model=model,
            prompt_version=PROMPT_VERSION,
            result=result.result,
            confidence=result.confidence,
            usage=meter.total,
            cache="hit" if from_cache else "miss",
        )

    def _blocked(self, user_id: str, now: datetime) -> tuple[AiStatus, str] | None:
        """Why no call may go now (a budget spent, the circuit open), or None."""
        exhausted = self._spent(user_id, now).exhausted()
        if exhausted is not None:
            return (AiStatus.BUDGET_EXHAUSTED, exhausted)
        if not self._breaker.allow(now.timestamp()):
            return (AiStatus.CIRCUIT_OPEN, "circuit_open")
        return None

    def _ask(
        self, model: str, kind: AiKind, payload: Payload, file: FileToAnalyze, calls: Calls
    ) -> CachedResult:
        facts = _facts(file.local_facts)
        if kind == "image":
            assert payload.image is not None
            data, media_type = payload.image
            parsed = self._validated(
                model, IMAGE_TOOL, image_message(data, media_type, facts), file.user_id, calls
            )
        else:
            assert payload.text is not None
            settings = self._settings
            chunks = chunks_of(
                payload.text, settings.ai_chunk_tokens * CHARS_PER_TOKEN, settings.ai_max_chunks
            )
            if len(chunks) == 1:
                messages = document_message(chunks[0], facts)
            else:
                summaries = [
                    ChunkSummary.model_validate(
                        self._validated(
                            model, CHUNK_TOOL, chunk_message(chunk, index, len(chunks)), file.user_id, calls
                        )
                    ).summary
                    for index, chunk in enumerate(chunks, 1)
                ]
                messages = summaries_message(summaries, facts)
            parsed = self._validated(model, DOCUMENT_TOOL, messages, file.user_id, calls)
        return CachedResult(result=parsed, confidence=float(parsed["confidence"]), model=model)

    def _call(self, request: ClaudeRequest, calls: Calls) -> ClaudeReply:
        client = calls.client

        def failed(failure: CallFailure) -> None:
            logger.warning("claude call failed", extra={"reason": failure.reason, "status": failure.status})
            if failure.counts_against_service:
                self._breaker.failed(self._clock().timestamp())

        policy = RetryPolicy(self._settings.ai_max_retries, self._settings.ai_max_retry_wait_seconds)
        reply = with_retries(lambda: client.create(request), policy, sleep=self._sleep, on_failure=failed)
        self._breaker.succeeded()
        calls.meter.add(request.model, reply.usage)
        return reply

    def _validated(
        self, model: str, tool: dict[str, Any], messages: list[dict[str, Any]], user_id: str, calls: Calls
    ) -> dict[str, Any]:
        """One call; an answer that fails its schema gets one repair attempt with the errors sent back."""
        schema: type[BaseModel] = SCHEMAS[tool["name"]]
        request = ClaudeRequest(
            model=model,
            system=system_blocks(),
            tool=tool,
            messages=messages,
            user_id=user_id,
            max_tokens=self._settings.ai_max_output_tokens,
        )
        reply = self._call(request, calls)
        try:
            return schema.model_validate(reply.tool_input).model_dump(mode="json")
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(part) for part in issue['loc']) or '(root)'}: {issue['msg']}"
                for issue in error.errors()[:20]
            )
            logger.info("claude's answer failed its schema: one repair attempt", extra={"problems": problems})
        repair = [*messages, *repair_turns(tool["name"], reply, problems)]
        again = self._call(
            ClaudeRequest(
                model=model,
                system=request.system,
                tool=tool,
                messages=repair,
                user_id=user_id,
                max_tokens=request.max_tokens,
            ),
            calls,
        )
        try:
            return schema.model_validate(again.tool_input).model_dump(mode="json")
        except ValidationError as error:
            raise InvalidOutputError(str(error)[:500]) from error

    def _emit_metrics(self, outcome: AiOutcome) -> None:
        usage = outcome.usage
        metrics.add_metric(name="AiCalls", unit=MetricUnit.Count, value=usage.calls)
        metrics.add_metric(name="AiInputTokens", unit=MetricUnit.Count, value=usage.input_tokens)
        metrics.add_metric(name="AiOutputTokens", unit=MetricUnit.Count, value=usage.output_tokens)
        metrics.add_metric(
            name="AiCacheReadTokens", unit=MetricUnit.Count, value=usage.cache_read_input_tokens
        )
        metrics.add_metric(
            name="AiCacheWriteTokens", unit=MetricUnit.Count, value=usage.cache_creation_input_tokens
        )
        metrics.add_metric(name="AiCostMicroUsd", unit=MetricUnit.Count, value=usage.cost_micro_usd)
        metrics.add_metric(
            name="AiCacheHits", unit=MetricUnit.Count, value=1 if outcome.cache == "hit" else 0
        )
        metrics.add_metric(name=f"AiStatus_{outcome.status.value}", unit=MetricUnit.Count, value=1)
