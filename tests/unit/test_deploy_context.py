"""`tools/deploy.py up --context key=value` passes CDK context to cdklocal deploy."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools import deploy
from tools.stack import StackOutputs


def test_up_passes_each_context_item_to_cdklocal_deploy(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Given a deploy whose cdklocal calls are recorded (bootstrapped already, outputs at hand)
    calls: list[list[str]] = []

    def run_cdk(args: list[str]) -> str:
        calls.append(args)
        return ""

    monkeypatch.setattr(deploy, "run_cdk", run_cdk)
    monkeypatch.setattr(deploy, "stack_exists", lambda name: True)
    monkeypatch.setattr(deploy, "OUTPUTS_DIR", tmp_path)
    monkeypatch.setattr(deploy, "ROOT", tmp_path)
    monkeypatch.setattr(deploy, "outputs_file", lambda: tmp_path / "outputs.json")
    monkeypatch.setattr(deploy, "load_outputs", lambda: StackOutputs({"ApiId": "a", "ApiStage": "prod"}))
    # When `up` runs with two context items
    deploy.up(["webhooks_allow_local_http=true", "webhook_retry_schedule=1,1,1,1"])
    # Then the deploy command carries both, each after its own --context
    [command] = calls
    assert command[0] == "deploy"
    position = command.index("webhooks_allow_local_http=true")
    assert command[position - 1] == "--context"
    assert command[command.index("webhook_retry_schedule=1,1,1,1") - 1] == "--context"


@pytest.mark.parametrize("item", ["webhooks_allow_local_http", "=true", "a b=c"])
def test_a_context_item_without_key_and_value_is_refused(item: str) -> None:
    with pytest.raises(deploy.DeployError, match="key=value"):
        deploy.context_args([item])
