"""Whole-template guarantees: no custom resources, nothing nodejs, offline synth, every output."""

from __future__ import annotations

import json

from infra import outputs
from tests.infra.synth import Synthesized


def test_no_custom_resources(synthesized: Synthesized) -> None:
    # Given every resource type of the template
    types = {resource["Type"] for resource in synthesized.resources.values()}
    # Then none is a custom resource: LocalStack community marks them CREATE_COMPLETE and does nothing
    custom = {t for t in types if t.startswith("Custom::") or t == "AWS::CloudFormation::CustomResource"}
    assert not custom


def test_no_nodejs_anywhere(synthesized: Synthesized) -> None:
    # Given the whole template (functions, layers, anything CDK may add behind our back)
    template = json.dumps(synthesized.template_json)
    # Then no nodejs runtime appears (CDK's helper functions, e.g. for log retention, are nodejs)
    assert "nodejs" not in template


def test_every_declared_output_exists(synthesized: Synthesized) -> None:
    # Given the output names infra/outputs.py promises to tests and tools
    template_outputs = synthesized.template_json["Outputs"]
    # Then each one is an output of the stack, under exactly that logical id
    missing = [name for name in outputs.ALL if name not in template_outputs]
    assert not missing
    assert template_outputs[outputs.API_STAGE]["Value"] == "prod"
    assert template_outputs[outputs.API_FUNCTION_NAME]["Value"] == {"Ref": "ApiFunction"}
    assert template_outputs[outputs.STARTER_FUNCTION_NAME]["Value"] == {"Ref": "StarterFunction"}
    assert template_outputs[outputs.stage_function_output("video")]["Value"] == {"Ref": "VideoStageFunction"}


def test_outputs_module_lists_every_constant() -> None:
    # Given the constants of infra/outputs.py
    constants = {value for name, value in vars(outputs).items() if name.isupper() and isinstance(value, str)}
    # Then ALL lists each of them once (tools iterate over ALL)
    stage_outputs = {outputs.stage_function_output(stage) for stage in outputs.STAGE_NAMES}
    assert sorted(constants | stage_outputs) == sorted(outputs.ALL)
    assert len(set(outputs.ALL)) == len(outputs.ALL)


def test_synth_is_environment_agnostic_and_needs_no_lookups(synthesized: Synthesized) -> None:
    # Given the synthesized stack and its cloud assembly
    stack = synthesized.stack
    # Then account and region are deploy-time values, and no context lookup (an AWS call) is pending
    assert stack.resolve(stack.account) == {"Ref": "AWS::AccountId"}
    assert stack.resolve(stack.region) == {"Ref": "AWS::Region"}
    assert not synthesized.manifest.get("missing")
