"""The AI stage in the workflow, on moto, against the Claude emulator over real HTTP through the real
`anthropic` SDK (issue #11): results with tokens and cost, the cache, retries, timeouts, invalid output,
the circuit breaker, budgets and the policy's skips. Nothing of the SDK is patched."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import boto3
import pytest

from fileflow_stages.ai import adapters as ai_adapters
from tests import samples
from tests.integration.conftest import Cloud
from tests.integration.processing import declare, file_item, new_file_id, upload
from tests.integration.stages.conftest import process
from tests.integration.workflow import Execution
from tests.support.claude_emulator import ClaudeEmulator, Fault

SECRET_NAME = "fileflow/anthropic-api-key"
IMAGE_ANSWER = {
    "description": "a gradient test card",
    "tags": ["gradient", "test"],
    "text_seen": "",
    "category": "illustration",
    "moderation": {"adult": False, "violence": False, "hate": False, "self_harm": False},
    "confidence": 0.92,
}
DOCUMENT_ANSWER = {
    "summary": "Minutes of a meeting about the budget.",
    "entities": [{"name": "Acme Ltd", "type": "organization"}],
    "sentiment": "neutral",
    "category": "report",
    "confidence": 0.88,
}


@pytest.fixture(scope="module")
def emulator() -> Iterator[ClaudeEmulator]:
    server = ClaudeEmulator().start()
    yield server
    server.stop()


@pytest.fixture
def claude(cloud: Cloud, emulator: ClaudeEmulator, monkeypatch: pytest.MonkeyPatch) -> ClaudeEmulator:
    """Claude configured: the key's secret exists, the stage points at the emulator, short timeouts."""
    boto3.client("secretsmanager").create_secret(Name=SECRET_NAME, SecretString="test")
    for name, value in {
        "ANTHROPIC_SECRET_NAME": SECRET_NAME,
        "ANTHROPIC_BASE_URL": emulator.base_url,
        "AI_TIMEOUT_SECONDS": "1",
        "AI_MAX_RETRY_WAIT_SECONDS": "0.05",
        "AI_CIRCUIT_FAILURES": "3",
        "AI_CIRCUIT_COOLDOWN_SECONDS": "60",
    }.items():
        monkeypatch.setenv(name, value)
    ai_adapters.ai_settings.cache_clear()
    ai_adapters.analyzer.cache_clear()
    emulator.reset()
    return emulator


def new_user() -> str:
    return f"user-{uuid.uuid4().hex[:10]}"


def run(
    cloud: Cloud, data: bytes, *, user: str, mode: str = "deep", **declared: Any
) -> tuple[Execution, str]:
    file_id = new_file_id()
    declare(cloud, file_id, user=user, analysis_mode=mode, **declared)
    execution = process(upload(cloud, data, file_id=file_id, user=user))
    assert execution.status == "SUCCEEDED", execution
    return execution, file_id


def ai_of(cloud: Cloud, file_id: str, user: str) -> dict[str, Any]:
    item = file_item(cloud, file_id, user=user)
    assert item["status"] == "processed"  # whatever the AI did, the file is processed
    ai: dict[str, Any] = item["analysis"]["ai"]
    return ai


def day_usage(cloud: Cloud, user: str) -> dict[str, Any]:
    items = cloud.table.query(
        KeyConditionExpression="pk = :pk AND begins_with(sk, :day)",
        ExpressionAttributeValues={":pk": f"USER#{user}", ":day": "AIUSAGE#DAY#"},
    )["Items"]
    return items[0] if items else {}


IMAGE = samples.jpeg(1600, 1200)


def test_a_deep_image_gets_claudes_result_with_tokens_and_cost_and_its_user_on_the_request(
    cloud: Cloud, claude: ClaudeEmulator
) -> None:
    user = new_user()
    claude.set_tool_input(user, IMAGE_ANSWER)
    # When a deep-analysis JPEG runs through the workflow
    execution, file_id = run(cloud, IMAGE, user=user)
    # Then the workflow has a small $.ai
    assert execution.state["ai"] == {
        "ai_status": "succeeded",
        "confidence": 0.92,
        "review_required": False,
        "kind": "image",
    }
    assert "AI" in execution.visited
    # And the file's analysis holds Claude's result, the model, the tokens and the cost
    ai = ai_of(cloud, file_id, user)
    assert (ai["status"], ai["model"], ai["cache"], ai["result"]["description"]) == (
        "succeeded",
        "claude-sonnet-4-6",
        "miss",
        "a gradient test card",
    )
    assert ai["policy"] == {"decision": "call", "reason": "deep_requested"}
    usage = ai["usage"]
    assert usage["calls"] == 1
    assert usage["input_tokens"] > 1000  # a 1024 x 768 rendition is ~1,000 tokens
    expected = (int(usage["input_tokens"]) * 3 + int(usage["output_tokens"]) * 15) / 1e6
    assert float(usage["cost_usd"]) == pytest.approx(expected)
    # And the request was the 1024-px JPEG rendition, forced through the tool, cached prefix, user id
    [call] = claude.calls(user)
    body = call.body
    image = body["messages"][0]["content"][0]
    assert image["source"]["media_type"] == "image/jpeg"
    assert len(image["source"]["data"]) < len(IMAGE) * 4 / 3  # the rendition, not the original
    assert body["tool_choice"] == {"type": "tool", "name": "record_image_analysis"}
    assert body["tools"][0]["cache_control"] == {"type": "ephemeral"}
    assert body["system"][0]["cache_control"] == {"type": "ephemeral"}
    assert body["metadata"] == {"user_id": user}
    # And the user's day counts the same tokens and cost (micro-dollars)
    day = day_usage(cloud, user)
    assert day["calls"] == 1
    assert day["cost_micro_usd"] == round(expected * 1e6)


def test_the_same_content_again_is_a_cache_hit_without_a_call_or_a_cost(
    cloud: Cloud, claude: ClaudeEmulator
) -> None:
    user = new_user()
    claude.set_tool_input(user, IMAGE_ANSWER)
    _, first = run(cloud, IMAGE, user=user)
    spent = day_usage(cloud, user)["cost_micro_usd"]
    # When the same bytes are uploaded again as another file
    execution, second = run(cloud, IMAGE, user=user)
    # Then no second call, no new cost, the same result
    assert len(claude.calls(user)) == 1
    assert execution.state["ai"]["ai_status"] == "cached"
    ai = ai_of(cloud, second, user)
    assert (ai["cache"], ai["usage"]["calls"], ai["usage"]["cost_usd"]) == ("hit", 0, 0)
    assert ai["result"] == ai_of(cloud, first, user)["result"]
    day = day_usage(cloud, user)
    assert (day["cost_micro_usd"], day["cache_hits"]) == (spent, 1)


def test_a_text_document_is_summarised_with_entities_and_sentiment(
    cloud: Cloud, claude: ClaudeEmulator
) -> None:
    user = new_user()
    claude.set_tool_input(user, DOCUMENT_ANSWER)
    execution, file_id = run(cloud, b"Minutes. Acme Ltd presented the budget.\n" * 20, user=user)
    assert execution.state["ai"]["kind"] == "document"
    ai = ai_of(cloud, file_id, user)
    assert ai["result"]["entities"] == [{"name": "Acme Ltd", "type": "organization"}]
    [call] = claude.calls(user)
    assert "Acme Ltd presented the budget" in call.body["messages"][0]["content"]


def test_429_twice_then_200_succeeds_after_3_calls_honouring_retry_after(
    cloud: Cloud, claude: ClaudeEmulator
) -> None:
    user = new_user()
    claude.set_tool_input(user, IMAGE_ANSWER)
    claude.queue_faults(user, Fault(status=429, retry_after=0.01), Fault(status=429, retry_after_ms=10))
    execution, _file_id = run(cloud, IMAGE, user=user)
    assert [call.status for call in claude.calls(user)] == [429, 429, 200]
    assert execution.state["ai"]["ai_status"] == "succeeded"
    # (the SDK's own retries are off: every attempt is ours, each a first try to the SDK)
    assert {call.headers.get("X-Stainless-Retry-Count") for call in claude.calls(user)} == {"0"}


def test_an_answer_that_fails_its_schema_gets_one_repair_then_the_local_result_stands(
    cloud: Cloud, claude: ClaudeEmulator
) -> None:
    user = new_user()  # no tool input: the emulator answers "<field>" strings, invalid for the schema
    execution, file_id = run(cloud, IMAGE, user=user)
    calls = claude.calls(user)
    assert len(calls) == 2
    repair = calls[1].body["messages"]
    assert repair[-1]["content"][0]["type"] == "tool_result"
    assert repair[-1]["content"][0]["is_error"] is True
    ai = ai_of(cloud, file_id, user)
    assert (ai["status"], ai["reason"], ai["result"], ai["usage"]["calls"]) == (
        "failed",
        "invalid_output",
        None,
        2,
    )
    assert execution.state["ai"]["review_required"] is False
    # And a repaired answer is taken
    fixed = new_user()
    claude.queue_tool_inputs(fixed, {"description": "half"}, IMAGE_ANSWER)
    _, repaired = run(cloud, samples.jpeg(800, 600), user=fixed)
    assert ai_of(cloud, repaired, fixed)["status"] == "succeeded"


def test_a_timeout_gives_failed_while_the_file_is_still_processed(
    cloud: Cloud, claude: ClaudeEmulator
) -> None:
    user = new_user()
    claude.set_tool_input(user, IMAGE_ANSWER)
    claude.queue_faults(user, Fault(delay=1.5))
    execution, file_id = run(cloud, IMAGE, user=user)
    assert execution.state["ai"]["ai_status"] == "failed"
    assert ai_of(cloud, file_id, user)["reason"] == "timeout"
    assert execution.state["finalize"] == {"status": "processed"}


def test_a_storm_of_529s_opens_the_circuit_and_later_files_do_not_call(
    cloud: Cloud, claude: ClaudeEmulator
) -> None:
    user = new_user()
    claude.set_tool_input(user, IMAGE_ANSWER)
    claude.queue_faults(user, *[Fault(status=529)] * 3)
    # Given 3 attempts that all get 529 (the threshold is 3)
    _, first = run(cloud, IMAGE, user=user)
    assert ai_of(cloud, first, user)["reason"] == "overloaded"
    circuit = cloud.table.get_item(Key={"pk": "AICIRCUIT", "sk": "anthropic"})["Item"]
    assert circuit["state"] == "open"
    # When another file comes: circuit_open, no call
    execution, _second = run(cloud, samples.jpeg(640, 480), user=user)
    assert execution.state["ai"]["ai_status"] == "circuit_open"
    assert len(claude.calls(user)) == 3
    # And once the cool-down has passed (moved back in time), one probe goes and its success closes it
    cloud.table.update_item(
        Key={"pk": "AICIRCUIT", "sk": "anthropic"},
        UpdateExpression="SET since = :past",
        ExpressionAttributeValues={":past": Decimal(1)},
    )
    execution, _third = run(cloud, samples.jpeg(320, 240), user=user)
    assert execution.state["ai"]["ai_status"] == "succeeded"
    assert cloud.table.get_item(Key={"pk": "AICIRCUIT", "sk": "anthropic"})["Item"]["state"] == "closed"


def test_a_tiny_daily_budget_gives_budget_exhausted_once_spent(cloud: Cloud, claude: ClaudeEmulator) -> None:
    user = new_user()
    claude.set_tool_input(user, IMAGE_ANSWER)
    # Given an operator's override: this user may spend 1 micro-dollar a day
    cloud.table.put_item(Item={"pk": f"USER#{user}", "sk": "AIBUDGET", "daily_budget_micro_usd": 1})
    _, first = run(cloud, IMAGE, user=user)
    assert ai_of(cloud, first, user)["status"] == "succeeded"
    # Then once spent, the next file is local only and says so
    execution, second = run(cloud, samples.jpeg(700, 500), user=user)
    assert execution.state["ai"]["ai_status"] == "budget_exhausted"
    assert ai_of(cloud, second, user)["reason"] == "user_daily_budget"
    assert len(claude.calls(user)) == 1


def test_the_policy_skips_claude_for_local_for_a_simple_image_on_auto_and_without_the_secret(
    cloud: Cloud, claude: ClaudeEmulator
) -> None:
    user = new_user()
    local, local_id = run(cloud, IMAGE, user=user, mode="local")
    auto, auto_id = run(cloud, samples.jpeg(500, 400), user=user, mode="auto")
    assert (local.state["ai"]["ai_status"], ai_of(cloud, local_id, user)["reason"]) == (
        "not_requested",
        "local_requested",
    )
    assert (auto.state["ai"]["ai_status"], ai_of(cloud, auto_id, user)["reason"]) == (
        "skipped_by_policy",
        "below_complexity_threshold",  # the analysis stage scored the plain gradient as simple
    )
    # And with the secret gone, deep is not configured
    boto3.client("secretsmanager").delete_secret(SecretId=SECRET_NAME, ForceDeleteWithoutRecovery=True)
    ai_adapters.analyzer.cache_clear()
    from aws_lambda_powertools.utilities import parameters

    parameters.clear_caches()  # type: ignore[no-untyped-call]
    _deep, deep_id = run(cloud, samples.jpeg(300, 200), user=user)
    assert ai_of(cloud, deep_id, user)["reason"] == "not_configured"
    assert claude.calls(user) == []
