"""Claude calls and cost for 100 mixed files: the routing policy (with the cache) against "Claude for every
file", and the cost per 1,000 files. Against the Claude emulator (tests/support/claude_emulator.py) through
the real SDK; the cache, usage and circuit are in memory (DynamoDB's behaviour is not what is measured).

    make bench-ai   # = PYTHONPATH=functions/common:functions/stages python -m bench.ai_cost

The mix (seeded): 40 images, 25 documents (some long: summarised chunk by chunk), 15 text files, 20 archives
and videos (no Claude for those under either scheme); 20 % of the analysable files are re-uploads of an
earlier file's bytes. The local complexity score is synthetic (uniform 0-1, seeded) until the local
features give one; under `auto` the policy calls Claude at or over `ai_complexity_threshold` (0.6), and
10 % of uploads ask for `deep`. Tokens are the emulator layer's estimates (images: width x height / 750,
text: characters / 4); prices are the configured list prices.
"""

from __future__ import annotations

import argparse
import io
import logging
import random
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from PIL import Image

from bench.figures import record
from fileflow_stages.ai.circuit import Circuit, CircuitBreaker, CircuitState
from fileflow_stages.ai.claude import AnthropicClaude
from fileflow_stages.ai.cost import TokenUsage, usd
from fileflow_stages.ai.policy import AnalysisMode
from fileflow_stages.ai.service import Analyzer, FileToAnalyze
from fileflow_stages.ai.settings import AiSettings
from fileflow_stages.ai.store import CachedResult, CacheKey, SpentSoFar
from tests.support.claude_emulator import ClaudeEmulator

USER = "bench-user"
IMAGE_ANSWER = {
    "description": "a test image",
    "tags": ["bench"],
    "text_seen": "",
    "category": "photo",
    "moderation": {"adult": False, "violence": False, "hate": False, "self_harm": False},
    "confidence": 0.9,
}
DOCUMENT_ANSWER = {
    "summary": "A document.",
    "entities": [],
    "sentiment": "neutral",
    "category": "report",
    "confidence": 0.9,
}
CHUNK_ANSWER = {"summary": "A part.", "entities": []}


@dataclass
class MemoryCache:
    entries: dict[str, CachedResult] = field(default_factory=dict)

    def get(self, key: CacheKey, now: float) -> CachedResult | None:
        return self.entries.get(str(key.item_key))

    def put(self, key: CacheKey, cached: CachedResult, *, now: float, ttl_seconds: int) -> None:
        self.entries[str(key.item_key)] = cached


@dataclass
class MemoryUsage:
    total: TokenUsage = field(default_factory=TokenUsage)
    hits: int = 0

    def add(self, user_id: str, at: datetime, usage: TokenUsage, *, cache_hits: int = 0) -> None:
        self.total = self.total + usage
        self.hits += cache_hits

    def spent(self, user_id: str, at: datetime) -> SpentSoFar:
        return SpentSoFar(0, 0, None)  # the budgets are not what is measured


@dataclass
class MemoryCircuit:
    circuit: Circuit = field(default_factory=Circuit)

    def read(self) -> Circuit:
        return self.circuit

    def try_probe(self, seen: Circuit, now: float) -> bool:
        return True

    def record_failure(self, now: float, threshold: int) -> None:
        self.circuit = replace(self.circuit, failures=self.circuit.failures + 1)

    def record_success(self) -> None:
        self.circuit = Circuit(CircuitState.CLOSED)

    def reset(self) -> None:
        self.circuit = Circuit()


class MemoryContent:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def read(self, key: str, *, max_bytes: int) -> bytes:
        return self.objects[key][:max_bytes]


def _jpeg(width: int, height: int, seed: int) -> bytes:
    image = Image.new("RGB", (width, height), ((seed * 37) % 256, (seed * 91) % 256, (seed * 53) % 256))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def mixed_files(count: int, seed: int, content: MemoryContent) -> list[FileToAnalyze]:
    rng = random.Random(seed)
    kinds = ["image"] * 40 + ["document"] * 25 + ["text"] * 15 + ["archive"] * 10 + ["video"] * 10
    files: list[FileToAnalyze] = []
    originals: list[tuple[str, str]] = []  # (kind, key) of what a re-upload may copy
    for index in range(count):
        kind = kinds[index % len(kinds)]
        file_id = f"f{index:04d}"
        mode = AnalysisMode.DEEP if rng.random() < 0.1 else AnalysisMode.AUTO
        complexity = round(rng.random(), 3)
        same = [key for original_kind, key in originals if original_kind == kind]
        if kind in ("image", "document", "text") and same and rng.random() < 0.2:
            key = rng.choice(same)  # a re-upload: identical bytes
        else:
            key = f"derived/{USER}/{file_id}/" + ("thumb-1024.jpg" if kind == "image" else "text.txt")
            if kind == "image":
                width = rng.choice([1024, 800, 640])
                content.objects[key] = _jpeg(width, width * 3 // 4, index)
            else:
                words = rng.choice([200, 800, 3000, 12000])  # the last: a long document, in chunks
                content.objects[key] = " ".join(f"word{rng.randrange(5000)}" for _ in range(words)).encode()
            originals.append((kind, key))
        name = key.rsplit("/", 1)[1]
        files.append(
            FileToAnalyze(
                user_id=USER,
                file_id=file_id,
                content_kind=kind,
                mode=mode,
                complexity=complexity,
                derivatives=[{"name": name, "key": key}],
                original_key=key,
            )
        )
    return files


@dataclass(frozen=True)
class Run:
    name: str
    calls: int
    usage: TokenUsage
    statuses: dict[str, int]
    files: int

    @property
    def per_thousand(self) -> float:
        return usd(self.usage.cost_micro_usd) * 1000 / self.files


def run(
    name: str,
    files: list[FileToAnalyze],
    settings: AiSettings,
    content: MemoryContent,
    cache: bool,
    emulator: ClaudeEmulator,
) -> Run:
    emulator.reset(USER)
    emulator.set_tool_input(USER, IMAGE_ANSWER, tool="record_image_analysis")
    emulator.set_tool_input(USER, DOCUMENT_ANSWER, tool="record_document_analysis")
    emulator.set_tool_input(USER, CHUNK_ANSWER, tool="record_chunk_summary")
    client = AnthropicClaude(api_key="test", base_url=emulator.base_url, timeout=10)
    usage = MemoryUsage()
    memory = MemoryCache()

    class NoCache(MemoryCache):
        def get(self, key: CacheKey, now: float) -> CachedResult | None:
            return None

    analyzer = Analyzer(
        settings,
        content=content,
        cache=memory if cache else NoCache(),
        usage=usage,
        breaker=CircuitBreaker(MemoryCircuit(), threshold=1000, cooldown=60),
        claude=lambda: client,
        clock=lambda: datetime.now(UTC),
    )
    statuses: dict[str, int] = {}
    for file in files:
        outcome = analyzer.analyze(file)
        statuses[outcome.status.value] = statuses.get(outcome.status.value, 0) + 1
    calls = len([call for call in emulator.calls(USER) if call.path == "/v1/messages"])
    return Run(name, calls, usage.total, statuses, len(files))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the emulator's request lines
    content = MemoryContent()
    files = mixed_files(args.files, args.seed, content)
    base = AiSettings(table_name="bench-table", bucket_name="bench-bucket", anthropic_secret_name="bench")
    every = replace_rules(base)
    emulator = ClaudeEmulator().start()
    try:
        routed = run("routing policy + cache", files, base, content, True, emulator)
        always = run(
            "Claude for every file (cheap model, no cache)",
            [replace(file, mode=AnalysisMode.AUTO) for file in files],
            every,
            content,
            False,
            emulator,
        )
    finally:
        emulator.stop()
    print(
        f"{args.files} mixed files (seed {args.seed}); prices: {base.ai_cheap_model} / {base.ai_strong_model}"
    )
    print(f"{'scheme':<48} {'calls':>6} {'in tok':>8} {'out tok':>8} {'cost USD':>10} {'per 1,000':>10}")
    for result in (routed, always):
        print(
            f"{result.name:<48} {result.calls:>6} {result.usage.input_tokens:>8}"
            f" {result.usage.output_tokens:>8} {usd(result.usage.cost_micro_usd):>10.4f}"
            f" {result.per_thousand:>10.3f}"
        )
        print(f"  statuses: {dict(sorted(result.statuses.items()))}")
    peer = f"Claude for every file: {always.calls} calls, {usd(always.usage.cost_micro_usd):.3f} USD"
    ours = f"{routed.calls} calls, {usd(routed.usage.cost_micro_usd):.3f} USD"
    record(f"AI calls, {args.files} mixed files (routing + cache)", ours, peer, routed.calls / always.calls)
    record(
        f"AI cost, {args.files} mixed files (routing + cache)",
        f"{routed.per_thousand:.3f} USD per 1,000 files",
        f"Claude for every file {always.per_thousand:.3f} USD per 1,000",
        routed.usage.cost_micro_usd / always.usage.cost_micro_usd,
    )
    print(
        f"calls: {routed.calls / always.calls:.2f} of every-file's; cost: "
        f"{routed.usage.cost_micro_usd / always.usage.cost_micro_usd:.2f} of every-file's "
        f"(saving {1 - routed.usage.cost_micro_usd / always.usage.cost_micro_usd:.0%})"
    )
    return 0


def replace_rules(settings: AiSettings) -> AiSettings:
    """The same settings, with every analysable kind sent to Claude (the `always` rule)."""
    return settings.model_copy(
        update={"ai_type_rules": {"image": "always", "document": "always", "text": "always"}}
    )


if __name__ == "__main__":
    raise SystemExit(main())
