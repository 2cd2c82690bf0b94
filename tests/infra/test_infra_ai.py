"""The AI stage's infrastructure (#11): its layer, its configuration from context, and a secret grant of
GetSecretValue on the Anthropic key's secret alone."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import App

from infra.context import AI_BUDGET_VARIABLES, ai_context
from tests.infra.synth import Synthesized


def _statements(synthesized: Synthesized, function: str) -> list[dict[str, Any]]:
    role = synthesized.resources[function]["Properties"]["Role"]["Fn::GetAtt"][0]
    return [
        statement
        for policy in synthesized.of_type("AWS::IAM::Policy").values()
        if {"Ref": role} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_the_ai_stage_may_only_get_the_anthropic_keys_secret_value(synthesized: Synthesized) -> None:
    secret_statements = [s for s in _statements(synthesized, "AiStageFunction") if "secretsmanager" in str(s)]
    # Then one statement: GetSecretValue (no DescribeSecret, no write) on the key's name and its suffix
    [statement] = secret_statements
    assert statement["Action"] == "secretsmanager:GetSecretValue"
    assert statement["Effect"] == "Allow"
    resource = json.dumps(statement["Resource"])
    assert ":secret:fileflow/anthropic-api-key-??????" in resource
    assert "*" not in resource
    # And no other function may read it
    for logical_id, _function in synthesized.of_type("AWS::Lambda::Function").items():
        if logical_id != "AiStageFunction":
            assert "anthropic-api-key" not in json.dumps(_statements(synthesized, logical_id)), logical_id
    # And the key itself is never in the template
    variables = synthesized.resources["AiStageFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["ANTHROPIC_SECRET_NAME"] == "fileflow/anthropic-api-key"
    assert not any("api_key" in name.lower() for name in variables)


def test_the_ai_stage_gets_the_ai_layer_and_its_configuration(synthesized: Synthesized) -> None:
    properties = synthesized.resources["AiStageFunction"]["Properties"]
    ai_layer = synthesized.logical_id(synthesized.stack.layers.ai)
    assert {"Ref": ai_layer} in properties["Layers"]
    # (only the AI stage carries anthropic)
    for logical_id, function in synthesized.of_type("AWS::Lambda::Function").items():
        if logical_id != "AiStageFunction":
            assert {"Ref": ai_layer} not in function["Properties"].get("Layers", []), logical_id
    variables = properties["Environment"]["Variables"]
    assert variables["AI_CHEAP_MODEL"] == "claude-haiku-4-5"
    assert variables["AI_STRONG_MODEL"] == "claude-sonnet-4-6"
    assert json.loads(variables["AI_PRICES"])["claude-haiku-4-5"]["output"] == 5.0
    assert variables["AI_CACHE_SCOPE"] == "user"
    assert variables["ANTHROPIC_BASE_URL"] == ""
    # And the API reports the same budgets the stage enforces
    api = synthesized.resources["ApiFunction"]["Properties"]["Environment"]["Variables"]
    assert {name: api[name] for name in AI_BUDGET_VARIABLES} == {
        name: variables[name] for name in AI_BUDGET_VARIABLES
    }


def test_context_sets_the_ai_configuration() -> None:
    environment = dict(
        ai_context(
            App(
                context={
                    "anthropic_base_url": "http://127.0.0.1:5002",
                    "ai_models": "cheap=claude-haiku-4-5,strong=claude-haiku-4-5",
                    "ai_timeout_seconds": "2",
                    "ai_cache_scope": "global",
                    "ai_review_thresholds": "image=0.7",
                    "ai_user_daily_budget_usd": "0.5",
                }
            )
        ).environment
    )
    assert environment["ANTHROPIC_BASE_URL"] == "http://127.0.0.1:5002"
    assert environment["AI_STRONG_MODEL"] == "claude-haiku-4-5"
    assert environment["AI_TIMEOUT_SECONDS"] == "2.0"
    assert environment["AI_CACHE_SCOPE"] == "global"
    assert environment["AI_REVIEW_THRESHOLDS"] == "image=0.7"
    assert environment["AI_USER_DAILY_BUDGET_USD"] == "0.5"


@pytest.mark.parametrize(
    "context",
    [
        {"ai_models": "cheap=claude-haiku-4-5"},
        {"ai_models": "cheap=a,strong=b"},  # no price for them
        {"ai_cache_scope": "everyone"},
        {"ai_timeout_seconds": "0"},
        {"anthropic_base_url": "http://claude.example.com"},
        {"ai_review_thresholds": "image=2"},
        {"ai_type_rules": "image=sometimes"},
    ],
)
def test_bad_ai_context_fails_synth(context: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="context"):
        ai_context(App(context=context))
