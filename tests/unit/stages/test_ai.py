"""The AI stage's logic (issue #11): routing policy, cost, cache keys, retries, the circuit breaker and the
analyzer's flow (cache, escalation, repair, budgets). No network: fakes behind the stage's ports."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import pytest

from fileflow_stages.ai.circuit import Admission, Circuit, CircuitBreaker, CircuitState, admission
from fileflow_stages.ai.claude import ClaudeReply, ClaudeRequest
from fileflow_stages.ai.cost import Spent, TokenUsage, priced
from fileflow_stages.ai.policy import (
    AiStatus,
    AnalysisMode,
    Decision,
    PolicyInput,
    PolicyRules,
    decide,
    mode_of,
)
from fileflow_stages.ai.retry import (
    CallFailure,
    RetryPolicy,
    backoff_seconds,
    retry_after_seconds,
    with_retries,
)
from fileflow_stages.ai.schemas import PROMPT_VERSION
from fileflow_stages.ai.service import Analyzer, FileToAnalyze, chunks_of, pick_thumbnail
from fileflow_stages.ai.settings import AiSettings, ModelPrice
from fileflow_stages.ai.store import CachedResult, CacheKey, SpentSoFar

RULES = PolicyRules(
    type_rules={"image": "complexity", "document": "always", "text": "never"},
    complexity_threshold=0.6,
    cheap_model="cheap",
    strong_model="strong",
)


def policy(
    mode: str = "auto", kind: str = "image", complexity: float | None = None, configured: bool = True
) -> Decision:
    return decide(PolicyInput(mode_of(mode), kind, complexity, configured), RULES)


# --- the routing policy -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "kind", "complexity", "configured", "expected"),
    [
        ("local", "image", 0.9, True, ("skip", "local_requested", AiStatus.NOT_REQUESTED, None)),
        ("deep", "archive", None, True, ("skip", "unsupported_kind", AiStatus.SKIPPED_BY_POLICY, None)),
        ("deep", "image", None, False, ("skip", "not_configured", AiStatus.SKIPPED_BY_POLICY, None)),
        ("deep", "image", 0.1, True, ("call", "deep_requested", None, "strong")),
        ("auto", "image", None, True, ("skip", "complexity_unknown", AiStatus.SKIPPED_BY_POLICY, None)),
        (
            "auto",
            "image",
            0.59,
            True,
            ("skip", "below_complexity_threshold", AiStatus.SKIPPED_BY_POLICY, None),
        ),
        ("auto", "image", 0.6, True, ("call", "complexity_over_threshold", None, "cheap")),
        ("auto", "document", None, True, ("call", "type_rule_always", None, "cheap")),
        ("auto", "text", 0.99, True, ("skip", "type_rule_never", AiStatus.SKIPPED_BY_POLICY, None)),
        ("nonsense", "image", None, True, ("skip", "complexity_unknown", AiStatus.SKIPPED_BY_POLICY, None)),
    ],
)
def test_the_policy_decides_from_mode_configuration_kind_rule_and_complexity(
    mode: str, kind: str, complexity: float | None, configured: bool, expected: tuple[Any, ...]
) -> None:
    # Given a file's mode, kind and local complexity, When the policy decides
    decision = policy(mode, kind, complexity, configured)
    # Then it calls (with the model named) or skips, with its reason
    assert (decision.decision, decision.reason, decision.status, decision.model) == expected
    assert decision.describe() == {"decision": expected[0], "reason": expected[1]}


def test_an_unknown_mode_is_the_default_auto() -> None:
    assert mode_of(None) is AnalysisMode.AUTO
    assert mode_of("deep") is AnalysisMode.DEEP


# --- cost ---------------------------------------------------------------------------------------------------


def test_a_call_is_priced_per_million_tokens_in_integer_micro_dollars() -> None:
    # Given 1,000 input, 200 output, 300 cache-write and 5,000 cache-read tokens at Haiku's prices
    usage = TokenUsage(
        input_tokens=1000,
        output_tokens=200,
        cache_creation_input_tokens=300,
        cache_read_input_tokens=5000,
        calls=1,
    )
    price = ModelPrice(input=1.0, output=5.0, cache_write=1.25, cache_read=0.1)
    # When priced
    cost = priced(usage, price)
    # Then 1000*1 + 200*5 + 300*1.25 + 5000*0.1 = 2,875 micro-dollars
    assert cost.cost_micro_usd == 2875
    assert cost.describe()["cost_usd"] == 0.002875
    # And usages add up
    assert (cost + cost).cost_micro_usd == 5750
    assert (cost + cost).calls == 2


def test_a_budget_is_exhausted_once_spent_user_day_first() -> None:
    assert Spent(user_day=10, user_daily_budget=10, global_month=0, monthly_budget=100).exhausted() == (
        "user_daily_budget"
    )
    assert Spent(user_day=9, user_daily_budget=10, global_month=100, monthly_budget=100).exhausted() == (
        "global_monthly_budget"
    )
    assert Spent(user_day=9, user_daily_budget=10, global_month=99, monthly_budget=100).exhausted() is None


# --- cache keys ---------------------------------------------------------------------------------------------


def test_the_cache_key_is_content_prompt_model_and_kind_in_the_users_partition_or_the_global_one() -> None:
    key = CacheKey("ab" * 32, PROMPT_VERSION, "claude-haiku-4-5", "image", "alice")
    assert key.item_key == {
        "pk": "AICACHE#alice",
        "sk": f"{'ab' * 32}#{PROMPT_VERSION}#claude-haiku-4-5#image",
    }
    assert replace(key, user_id=None).item_key["pk"] == "AICACHE#GLOBAL"
    # And any part changed is another entry
    for changed in (
        replace(key, sha256="cd" * 32),
        replace(key, prompt_version="0"),
        replace(key, model="m"),
        replace(key, kind="document"),
        replace(key, user_id="bob"),
    ):
        assert changed.item_key != key.item_key


# --- retries ------------------------------------------------------------------------------------------------


def test_retry_after_ms_wins_then_retry_after_seconds_or_date() -> None:
    assert retry_after_seconds({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    assert retry_after_seconds({"Retry-After": "2"}) == 2.0
    assert retry_after_seconds({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0
    assert retry_after_seconds({}) is None


def test_backoff_honours_the_hint_exponential_otherwise_and_is_capped() -> None:
    assert backoff_seconds(0, 3.0, cap=10) == 3.0
    assert backoff_seconds(0, 300.0, cap=10) == 10  # a long retry-after is capped
    assert backoff_seconds(0, None, cap=10, jitter=lambda: 0) == 0.5
    assert backoff_seconds(3, None, cap=10, jitter=lambda: 0) == 4.0
    assert backoff_seconds(3, None, cap=10, jitter=lambda: 1) == 3.0
    assert backoff_seconds(10, None, cap=10, jitter=lambda: 0) == 10


def test_retries_stop_at_success_at_a_fatal_failure_or_when_they_run_out() -> None:
    waits: list[float] = []
    outcomes = [
        CallFailure("rate_limited", status=429, retry_after=1.0),
        CallFailure("overloaded", status=529),
        "ok",
    ]

    def attempt() -> str:
        outcome = outcomes.pop(0)
        if isinstance(outcome, CallFailure):
            raise outcome
        return str(outcome)

    # Given 429 then 529 then success, When retried twice at most
    assert with_retries(attempt, RetryPolicy(2, 5.0), sleep=waits.append) == "ok"
    # Then it waited the hint, then a backoff
    assert waits[0] == 1.0
    assert 0.75 <= waits[1] <= 1.0
    # And a 400 is not retried, a timeout neither
    for fatal in (CallFailure("client_error", status=400), CallFailure("timeout")):
        tries: list[int] = []

        def failing(fatal: CallFailure = fatal, tries: list[int] = tries) -> str:
            tries.append(1)
            raise fatal

        with pytest.raises(CallFailure):
            with_retries(failing, RetryPolicy(3, 5.0), sleep=waits.append)
        assert tries == [1]
    # And retries run out
    count: list[int] = []

    def always_429() -> str:
        count.append(1)
        raise CallFailure("rate_limited", status=429)

    with pytest.raises(CallFailure):
        with_retries(always_429, RetryPolicy(2, 0.0), sleep=lambda _s: None)
    assert len(count) == 3


def test_which_failures_count_against_the_service() -> None:
    assert CallFailure("overloaded", status=529).counts_against_service
    assert CallFailure("timeout").counts_against_service
    assert not CallFailure("client_error", status=400).counts_against_service


# --- the circuit breaker ------------------------------------------------------------------------------------


@dataclass
class MemoryCircuit:
    """The CircuitStore's rules in memory, as store.py writes them in DynamoDB."""

    circuit: Circuit = field(default_factory=Circuit)

    def read(self) -> Circuit:
        return self.circuit

    def _move(self, seen: int, state: CircuitState, now: float) -> bool:
        if self.circuit.version != seen:
            return False
        self.circuit = replace(self.circuit, state=state, since=now, version=seen + 1)
        return True

    def try_probe(self, seen: Circuit, now: float) -> bool:
        return self._move(seen.version, CircuitState.HALF_OPEN, now)

    def record_failure(self, now: float, threshold: int) -> None:
        self.circuit = replace(self.circuit, failures=self.circuit.failures + 1)
        if self.circuit.state is CircuitState.HALF_OPEN or (
            self.circuit.state is CircuitState.CLOSED and self.circuit.failures >= threshold
        ):
            self._move(self.circuit.version, CircuitState.OPEN, now)

    def record_success(self) -> None:
        self.circuit = replace(
            self.circuit, state=CircuitState.CLOSED, failures=0, version=self.circuit.version + 1
        )

    def reset(self) -> None:
        self.circuit = Circuit()


def test_admission_by_state_and_cooldown() -> None:
    assert admission(Circuit(), 0, 60) is Admission.CALL
    assert admission(Circuit(CircuitState.OPEN, 3, since=100), 159, 60) is Admission.DENY
    assert admission(Circuit(CircuitState.OPEN, 3, since=100), 160, 60) is Admission.PROBE
    assert admission(Circuit(CircuitState.HALF_OPEN, 3, since=100), 120, 60) is Admission.DENY


def test_the_circuit_opens_after_n_failures_half_opens_for_one_probe_and_closes_on_its_success() -> None:
    store = MemoryCircuit()
    breaker = CircuitBreaker(store, threshold=3, cooldown=60)
    # Given 3 failures in a row
    for _ in range(3):
        assert breaker.allow(0)
        breaker.failed(10)
    # Then it is open: nothing goes during the cool-down
    assert store.circuit.state is CircuitState.OPEN
    assert not breaker.allow(69)
    # When the cool-down has passed, one probe goes and the next caller is refused
    assert breaker.allow(71)
    assert store.read().state is CircuitState.HALF_OPEN
    assert not breaker.allow(72)
    # And a failed probe opens it again for another cool-down
    breaker.failed(72)
    assert store.read().state is CircuitState.OPEN
    assert not breaker.allow(100)
    assert breaker.allow(133)
    # And the probe's success closes it
    breaker.succeeded()
    assert store.read().state is CircuitState.CLOSED
    assert breaker.allow(134)


def test_two_environments_racing_for_the_probe_only_one_wins() -> None:
    store = MemoryCircuit(Circuit(CircuitState.OPEN, 5, since=0, version=4))
    seen = store.read()
    assert store.try_probe(seen, 100)
    assert not store.try_probe(seen, 100)


# --- the analyzer, with fakes behind its ports ---

VALID_IMAGE = {
    "description": "a red square",
    "tags": ["red", "square"],
    "text_seen": "",
    "category": "illustration",
    "moderation": {"adult": False, "violence": False, "hate": False, "self_harm": False},
    "confidence": 0.93,
}
NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


@dataclass
class FakeClaude:
    answers: list[Any]
    requests: list[ClaudeRequest] = field(default_factory=list)

    def create(self, request: ClaudeRequest) -> ClaudeReply:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, CallFailure):
            raise answer
        return ClaudeReply(
            "toolu_1", answer, TokenUsage(input_tokens=1000, output_tokens=100, calls=1), request.model
        )


@dataclass
class FakeCache:
    entries: dict[str, CachedResult] = field(default_factory=dict)

    def get(self, key: CacheKey, now: float) -> CachedResult | None:
        return self.entries.get(key.item_key["pk"] + key.item_key["sk"])

    def put(self, key: CacheKey, cached: CachedResult, *, now: float, ttl_seconds: int) -> None:
        self.entries[key.item_key["pk"] + key.item_key["sk"]] = cached


@dataclass
class FakeUsage:
    spent_micro: int = 0
    override: int | None = None
    added: list[tuple[TokenUsage, int]] = field(default_factory=list)

    def add(self, user_id: str, at: datetime, usage: TokenUsage, *, cache_hits: int = 0) -> None:
        self.added.append((usage, cache_hits))
        self.spent_micro += usage.cost_micro_usd

    def spent(self, user_id: str, at: datetime) -> SpentSoFar:
        return SpentSoFar(self.spent_micro, 0, self.override)


class FakeContent:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def read(self, key: str, *, max_bytes: int) -> bytes:
        return self.data[:max_bytes]


def settings(**overrides: Any) -> AiSettings:
    return AiSettings(
        table_name="fileflow-metadata",
        bucket_name="bucket",
        anthropic_secret_name="fileflow/anthropic-api-key",
        **overrides,
    )


def analyzer(
    claude: FakeClaude,
    *,
    cache: FakeCache | None = None,
    usage: FakeUsage | None = None,
    store: MemoryCircuit | None = None,
    data: bytes = b"\x89PNG fake",
    **overrides: Any,
) -> Analyzer:
    return Analyzer(
        settings(**overrides),
        content=FakeContent(data),
        cache=cache or FakeCache(),
        usage=usage or FakeUsage(),
        breaker=CircuitBreaker(store or MemoryCircuit(), threshold=3, cooldown=60),
        claude=lambda: claude,
        clock=lambda: NOW,
        sleep=lambda _s: None,
    )


def image_file(mode: AnalysisMode = AnalysisMode.DEEP, user: str = "alice") -> FileToAnalyze:
    return FileToAnalyze(
        user_id=user,
        file_id="f1",
        content_kind="image",
        mode=mode,
        complexity=0.9,
        derivatives=[
            {"name": "thumb-1024.webp", "key": "derived/alice/f1/thumb-1024.webp"},
            {"name": "thumb-1024.jpg", "key": "derived/alice/f1/thumb-1024.jpg"},
            {"name": "thumb-512.jpg", "key": "derived/alice/f1/thumb-512.jpg"},
        ],
        original_key="uploads/alice/f1",
    )


def test_an_image_goes_to_claude_as_its_1024_px_jpeg_with_cached_prefix_forced_tool_and_user_id() -> None:
    claude = FakeClaude([VALID_IMAGE])
    outcome = analyzer(claude).analyze(image_file())
    assert (outcome.status, outcome.model, outcome.confidence, outcome.cache) == (
        AiStatus.SUCCEEDED,
        "claude-sonnet-4-6",
        0.93,
        "miss",
    )
    [request] = claude.requests
    assert request.user_id == "alice"
    assert request.tool["name"] == "record_image_analysis"
    assert request.tool["cache_control"] == {"type": "ephemeral"}
    assert request.system[0]["cache_control"] == {"type": "ephemeral"}
    assert request.messages[0]["content"][0]["source"]["media_type"] == "image/jpeg"
    # And its tokens are priced at Sonnet's rate: 1000 x 3 + 100 x 15
    assert outcome.usage.cost_micro_usd == 4500
    assert outcome.record()["usage"]["cost_usd"] == 0.0045


def test_the_thumbnail_picked_is_the_1024_px_jpeg_or_png_else_the_largest_below() -> None:
    assert pick_thumbnail(image_file().derivatives)["name"] == "thumb-1024.jpg"  # type: ignore[index]
    assert pick_thumbnail([{"name": "thumb-512.webp"}, {"name": "thumb-128.png"}])["name"] == "thumb-512.webp"  # type: ignore[index]
    assert pick_thumbnail([{"name": "thumb-2048.jpg"}, {"name": "text.txt"}]) is None


def test_identical_content_never_pays_twice() -> None:
    cache, usage = FakeCache(), FakeUsage()
    claude = FakeClaude([VALID_IMAGE])
    first = analyzer(claude, cache=cache, usage=usage).analyze(image_file())
    again = analyzer(claude, cache=cache, usage=usage).analyze(image_file())
    assert first.status is AiStatus.SUCCEEDED
    assert (again.status, again.cache, again.usage.cost_micro_usd, again.result) == (
        AiStatus.CACHED,
        "hit",
        0,
        first.result,
    )
    assert len(claude.requests) == 1
    assert usage.added[-1] == (TokenUsage(), 1)
    # And another user's identical file is not served from alice's cache (per-user scope) ...
    analyzer(claude, cache=cache, usage=usage).analyze(image_file(user="bob"))
    assert len(claude.requests) == 2
    # ... unless the cache is global
    shared = FakeCache()
    analyzer(claude, cache=shared, ai_cache_scope="global").analyze(image_file())
    assert analyzer(claude, cache=shared, ai_cache_scope="global").analyze(image_file(user="bob")).status is (
        AiStatus.CACHED
    )


def test_the_cheap_model_first_and_the_strong_one_when_it_is_unsure() -> None:
    claude = FakeClaude([{**VALID_IMAGE, "confidence": 0.4}, {**VALID_IMAGE, "confidence": 0.9}])
    outcome = analyzer(claude).analyze(image_file(AnalysisMode.AUTO))
    assert [request.model for request in claude.requests] == ["claude-haiku-4-5", "claude-sonnet-4-6"]
    assert (outcome.model, outcome.confidence, outcome.usage.calls) == ("claude-sonnet-4-6", 0.9, 2)
    # And a sure cheap answer stops there
    sure = FakeClaude([VALID_IMAGE])
    assert analyzer(sure).analyze(image_file(AnalysisMode.AUTO)).model == "claude-haiku-4-5"
    assert len(sure.requests) == 1


def test_review_is_required_only_for_a_result_below_its_kinds_threshold() -> None:
    unsure = analyzer(FakeClaude([{**VALID_IMAGE, "confidence": 0.5}])).analyze(image_file())
    assert unsure.output({"image": 0.8})["review_required"] is True
    assert unsure.output({"image": 0.4})["review_required"] is False
    failed = analyzer(FakeClaude([CallFailure("client_error", status=400)])).analyze(image_file())
    assert failed.output({"image": 0.8}) == {
        "ai_status": "failed",
        "confidence": None,
        "review_required": False,
        "kind": "image",
    }


def test_invalid_output_gets_one_repair_with_the_errors_then_the_local_result_stands() -> None:
    # Given an answer that fails the schema, then a valid one
    claude = FakeClaude([{"description": "x"}, VALID_IMAGE])
    repaired = analyzer(claude).analyze(image_file())
    # Then the second request sends the tool call back with an error result naming the problems
    assert repaired.status is AiStatus.SUCCEEDED
    repair = claude.requests[1].messages
    assert repair[-2]["content"][0]["type"] == "tool_use"
    assert repair[-1]["content"][0]["is_error"] is True
    assert "tags" in repair[-1]["content"][0]["content"]
    # And two invalid answers: failed, invalid_output, both calls paid
    broken = FakeClaude([{"description": "x"}])
    outcome = analyzer(broken).analyze(image_file())
    assert (outcome.status, outcome.reason, outcome.result, outcome.usage.calls) == (
        AiStatus.FAILED,
        "invalid_output",
        None,
        2,
    )


def test_a_spent_budget_stops_calls_and_says_so() -> None:
    claude = FakeClaude([VALID_IMAGE])
    outcome = analyzer(claude, usage=FakeUsage(spent_micro=1_000_000)).analyze(image_file())
    assert (outcome.status, outcome.reason) == (AiStatus.BUDGET_EXHAUSTED, "user_daily_budget")
    assert claude.requests == []
    # And a per-user override (an operator's AIBUDGET item) takes the configured budget's place
    tiny = analyzer(claude, usage=FakeUsage(spent_micro=1, override=1)).analyze(image_file())
    assert tiny.status is AiStatus.BUDGET_EXHAUSTED
    generous = analyzer(claude, usage=FakeUsage(spent_micro=2_000_000, override=5_000_000)).analyze(
        image_file()
    )
    assert generous.status is AiStatus.SUCCEEDED


def test_an_open_circuit_stops_calls_and_failures_open_it() -> None:
    store = MemoryCircuit()
    claude = FakeClaude([CallFailure("overloaded", status=529)])
    # Given 529s: each of the 3 attempts (2 retries) counts
    outcome = analyzer(claude, store=store).analyze(image_file())
    assert (outcome.status, outcome.reason) == (AiStatus.FAILED, "overloaded")
    assert len(claude.requests) == 3
    assert store.circuit.state is CircuitState.OPEN
    # Then the next file does not call at all
    later = analyzer(claude, store=store).analyze(image_file())
    assert (later.status, len(claude.requests)) == (AiStatus.CIRCUIT_OPEN, 3)


def test_without_the_api_key_claude_is_not_configured() -> None:
    outcome = Analyzer(
        settings(),
        content=FakeContent(b""),
        cache=FakeCache(),
        usage=FakeUsage(),
        breaker=CircuitBreaker(MemoryCircuit(), threshold=3, cooldown=60),
        claude=lambda: None,
        clock=lambda: NOW,
    ).analyze(image_file())
    assert (outcome.status, outcome.reason) == (AiStatus.SKIPPED_BY_POLICY, "not_configured")


def test_a_long_document_is_summarised_chunk_by_chunk_within_the_token_budget() -> None:
    text = ("word " * 300 + "\n\n") * 10  # ~15,000 characters
    chunks = chunks_of(text, 4000, 3)
    assert len(chunks) == 3
    assert all(len(chunk) <= 4000 for chunk in chunks)
    summary = {"summary": "part", "entities": []}
    document = {
        "summary": "all",
        "entities": [],
        "sentiment": "neutral",
        "category": "report",
        "confidence": 0.9,
    }
    claude = FakeClaude([summary, summary, summary, document])
    file = FileToAnalyze(
        "alice",
        "f2",
        "document",
        AnalysisMode.DEEP,
        None,
        [{"name": "text.txt", "key": "derived/alice/f2/text.txt"}],
        "uploads/alice/f2",
    )
    outcome = analyzer(claude, data=text.encode(), ai_chunk_tokens=1000, ai_max_chunks=3).analyze(file)
    assert [request.tool["name"] for request in claude.requests] == ["record_chunk_summary"] * 3 + [
        "record_document_analysis"
    ]
    assert (outcome.status, outcome.result["summary"], outcome.usage.calls) == (AiStatus.SUCCEEDED, "all", 4)  # type: ignore[index]
