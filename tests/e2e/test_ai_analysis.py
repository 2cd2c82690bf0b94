"""Claude's analysis on the deployed stack (issue #11), through the emulator the suite starts
(tests/support/claude_emulator.py; the AI stage's Lambda calls it over HTTP with the real SDK).

Each test has its own user: the emulator keys its faults, tool inputs and call records on the request's
`metadata.user_id`, so no test takes another's. Uploads ask for `analysis=deep` (the policy calls Claude
for nothing else without a complexity score, so the suite's other files never reach it).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from infra import outputs as names
from tests import samples
from tests.e2e.conftest import AwsClients
from tests.e2e.polling import wait_for
from tests.e2e.test_isolation import Client
from tests.e2e.uploading import upload
from tests.reliability.report import FAULTS  # issue #9's fault table: the Claude emulator failing is one
from tests.support.claude_emulator import ClaudeEmulator, Fault
from tools.stack import StackOutputs
from tools.token import TokenFactory

IMAGE_ANSWER = {
    "description": "a gradient test card",
    "tags": ["gradient", "test"],
    "text_seen": "",
    "category": "illustration",
    "moderation": {"adult": False, "violence": False, "hate": False, "self_harm": False},
    "confidence": 0.95,
}
CIRCUIT_KEY = {"pk": {"S": "AICIRCUIT"}, "sk": {"S": "anthropic"}}


@pytest.fixture
def user(claude_emulator: ClaudeEmulator) -> Iterator[str]:
    name = f"e2e-ai-{uuid.uuid4().hex[:10]}"
    claude_emulator.set_tool_input(name, IMAGE_ANSWER)
    yield name
    claude_emulator.reset(name)


@pytest.fixture
def client(stack: StackOutputs, user: str) -> Client:
    return Client(stack.api_url, TokenFactory.for_stack(stack).valid(user))


def processed(client: Client, data: bytes, *, analysis: str = "deep") -> dict[str, Any]:
    """Upload, then wait until the file is processed (its analysis, with `ai`, is written then)."""
    uploaded = upload(client, data, filename="card.jpg", content_type="image/jpeg", analysis=analysis)

    def finished() -> dict[str, Any] | None:
        body: dict[str, Any] = client.ok("GET", f"/v1/files/{uploaded.file_id}")
        return body if body["status"] in ("processed", "needs_review", "failed", "rejected") else None

    return wait_for(finished, timeout=180, interval=0.5, what=f"file {uploaded.file_id} to be processed")


def usage_today(client: Client) -> dict[str, Any]:
    today: dict[str, Any] = client.ok("GET", "/v1/usage")["ai"]["today"]
    return today


def test_an_image_is_analysed_by_claude_with_tokens_and_cost_and_the_same_content_again_is_a_cache_hit(
    client: Client, claude_emulator: ClaudeEmulator, user: str
) -> None:
    image = samples.jpeg(1600, 1200)
    # When a deep-analysis JPEG is processed
    first = processed(client, image)
    # Then its analysis holds Claude's result, with tokens and cost
    assert (first["status"], first["ai_status"], first["analysis_mode"]) == ("processed", "succeeded", "deep")
    ai = first["analysis"]["ai"]
    assert (ai["model"], ai["cache"], ai["result"]["description"]) == (
        "claude-sonnet-4-6",
        "miss",
        "a gradient test card",
    )
    assert ai["usage"]["calls"] == 1
    assert ai["usage"]["input_tokens"] > 0
    assert ai["usage"]["cost_usd"] > 0
    assert len(claude_emulator.calls(user)) == 1
    spent = usage_today(client)
    assert spent["cost_usd"] == pytest.approx(ai["usage"]["cost_usd"])
    assert spent["calls"] == 1
    # When the same bytes are uploaded again
    again = processed(client, image)
    # Then the emulator saw no second call, and no new cost is counted
    assert again["ai_status"] == "cached"
    assert again["analysis"]["ai"]["result"] == ai["result"]
    assert len(claude_emulator.calls(user)) == 1
    after = usage_today(client)
    assert (after["cost_usd"], after["calls"], after["cache_hits"]) == (spent["cost_usd"], 1, 1)


@pytest.mark.reliability
def test_429_twice_then_200_succeeds_after_3_calls(
    client: Client, claude_emulator: ClaudeEmulator, user: str
) -> None:
    claude_emulator.queue_faults(user, Fault(status=429, retry_after=0.2), Fault(status=429, retry_after=0.2))
    file = processed(client, samples.jpeg(900, 700))
    assert file["ai_status"] == "succeeded"
    assert [call.status for call in claude_emulator.calls(user)] == [429, 429, 200]
    FAULTS.record(
        "claude-429",
        {
            "fault": "Claude answers 429 twice (Retry-After 0.2 s)",
            "injected": "the Claude emulator's next two answers to the AI stage",
            "outcome": f"3 calls ({', '.join(str(c.status) for c in claude_emulator.calls(user))}): "
            f"ai_status {file['ai_status']}, file {file['status']}",
            "suite": "e2e",
        },
    )


@pytest.mark.reliability
def test_a_timeout_gives_ai_status_failed_while_the_file_is_still_processed(
    client: Client, claude_emulator: ClaudeEmulator, user: str
) -> None:
    # Given an answer that comes after the stage's 2 s timeout (a timeout is not retried)
    claude_emulator.queue_faults(user, Fault(delay=4))
    file = processed(client, samples.jpeg(800, 600))
    assert (file["status"], file["ai_status"], file["analysis"]["ai"]["reason"]) == (
        "processed",
        "failed",
        "timeout",
    )
    assert file["analysis"]["summary"]["kind"] == "image"  # the local analysis stands
    FAULTS.record(
        "claude-timeout",
        {
            "fault": "Claude answers after the AI stage's 2 s timeout",
            "injected": "a 4 s delay on the Claude emulator's next answer",
            "outcome": f"not retried: ai_status {file['ai_status']} ({file['analysis']['ai']['reason']}), "
            f"file {file['status']} with its local analysis",
            "suite": "e2e",
        },
    )


def test_a_tiny_daily_budget_gives_budget_exhausted_once_spent(
    client: Client, claude_emulator: ClaudeEmulator, user: str, stack: StackOutputs, aws: AwsClients
) -> None:
    # Given an operator's override of this user's daily budget: one micro-dollar (docs/ai.md, "Budgets")
    aws.dynamodb.put_item(
        TableName=stack[names.TABLE_NAME],
        Item={"pk": {"S": f"USER#{user}"}, "sk": {"S": "AIBUDGET"}, "daily_budget_micro_usd": {"N": "1"}},
    )
    assert processed(client, samples.jpeg(700, 500))["ai_status"] == "succeeded"
    # When the next file comes, the budget is spent: local only, and it says so
    file = processed(client, samples.jpeg(640, 480))
    assert (file["status"], file["ai_status"], file["analysis"]["ai"]["reason"]) == (
        "processed",
        "budget_exhausted",
        "user_daily_budget",
    )
    assert len(claude_emulator.calls(user)) == 1
    assert client.ok("GET", "/v1/usage")["ai"]["budget"]["daily_remaining_usd"] == 0


@pytest.fixture
def circuit_reset(stack: StackOutputs, aws: AwsClients) -> Iterator[None]:
    """The circuit is shared by every environment (and test): closed before, and again after."""
    aws.dynamodb.delete_item(TableName=stack[names.TABLE_NAME], Key=CIRCUIT_KEY)
    yield
    aws.dynamodb.delete_item(TableName=stack[names.TABLE_NAME], Key=CIRCUIT_KEY)


@pytest.mark.reliability
def test_a_storm_of_529s_opens_the_circuit_and_later_files_get_circuit_open_without_calling(
    client: Client,
    claude_emulator: ClaudeEmulator,
    user: str,
    circuit_reset: None,
    stack: StackOutputs,
    aws: AwsClients,
) -> None:
    # Given 529 for every attempt of one file (3 attempts: the circuit's threshold)
    claude_emulator.queue_faults(user, *[Fault(status=529)] * 3)
    first = processed(client, samples.jpeg(500, 400))
    assert (first["ai_status"], first["analysis"]["ai"]["reason"]) == ("failed", "overloaded")
    circuit = aws.dynamodb.get_item(TableName=stack[names.TABLE_NAME], Key=CIRCUIT_KEY, ConsistentRead=True)
    assert circuit["Item"]["state"]["S"] == "open"
    # When the next file comes within the cool-down
    later = processed(client, samples.jpeg(450, 350))
    # Then it gets circuit_open, and Claude is not called
    assert (later["status"], later["ai_status"]) == ("processed", "circuit_open")
    assert len(claude_emulator.calls(user)) == 3
    FAULTS.record(
        "claude-529-storm",
        {
            "fault": "Claude overloaded (529 on every attempt)",
            "injected": "529 for the Claude emulator's next 3 answers",
            "outcome": f"first file: ai_status {first['ai_status']} ({first['analysis']['ai']['reason']}), "
            f"circuit open; next file: {later['ai_status']} with no call; both {later['status']}",
            "suite": "e2e",
        },
    )
