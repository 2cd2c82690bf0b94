"""cfn-lint over the synthesized template: AWS's own resource schemas and rules, our nearest proof without
an AWS account that `cdk deploy` to AWS accepts what the local cloud accepted."""

from __future__ import annotations

import json

from cfnlint.api import ManualArgs, lint

from tests.infra.synth import Synthesized

# The stack deploys to one region; cfn-lint checks the resource types and properties against its schema.
REGIONS = ["us-east-1"]


def _findings(template: dict[str, object]) -> list[tuple[str, str, str]]:
    matches = lint(json.dumps(template), config=ManualArgs(regions=REGIONS))
    return [(match.rule.id, match.message, "/".join(str(part) for part in match.path)) for match in matches]


def test_the_template_has_no_cfn_lint_errors(synthesized: Synthesized):
    errors = [finding for finding in _findings(synthesized.template_json) if finding[0].startswith("E")]
    assert errors == []


def test_cfn_lint_finds_an_invalid_property_so_the_check_can_fail(synthesized: Synthesized):
    # Given the template with one Lambda function's runtime misspelt
    broken = json.loads(json.dumps(synthesized.template_json))
    function = next(r for r in broken["Resources"].values() if r["Type"] == "AWS::Lambda::Function")
    function["Properties"]["Runtime"] = "python3.13x"
    # Then cfn-lint reports it as an error
    assert any(rule.startswith("E") and "python3.13x" in message for rule, message, _ in _findings(broken))
