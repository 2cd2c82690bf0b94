"""cdk-nag's AwsSolutions pack: no unacknowledged finding, and every acknowledgment says why."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Stack, Validations
from aws_cdk import aws_s3 as s3
from cdk_nag import AwsSolutionsChecks

from tests.infra.synth import Synthesized

PACK = "AwsSolutions"
ACKNOWLEDGMENTS_METADATA = "aws:cdk:acknowledged-rules"


def _pack_findings(report: dict[str, Any]) -> list[str]:
    return [
        f"{violation['severity']} {violation['ruleName']} at "
        + ", ".join(c.get("constructPath", "?") for c in violation.get("violatingConstructs", []))
        for plugin in report["pluginReports"]
        if plugin["pluginName"] == PACK
        for violation in plugin.get("violations", [])
    ]


def test_stack_has_no_unacknowledged_findings(synthesized: Synthesized) -> None:
    # Given the stack synthesized with the AwsSolutions pack
    # When reading the pack's findings from the validation report
    findings = _pack_findings(synthesized.validation_report)
    # Then there are none (errors or warnings): each one is fixed or acknowledged with a reason
    assert not findings, "\n".join(findings)


def test_every_acknowledgment_names_one_rule_and_explains_itself(synthesized: Synthesized) -> None:
    # Given every acknowledgment recorded in the construct tree
    acknowledgments = {
        (construct.node.path, rule): reason
        for construct in synthesized.stack.node.find_all()
        for entry in construct.node.metadata
        if entry.type == ACKNOWLEDGMENTS_METADATA
        for rule, reason in entry.data.items()
    }
    assert acknowledgments, "expected the acknowledgments of infra/nag.py and the constructs"
    for (path, rule), reason in acknowledgments.items():
        # Then each names one AwsSolutions rule (or one finding of it) and gives a real reason ...
        # (an id without a namespace is stored as "Annotation::<id>"; cdk-nag reads it that way)
        assert rule.split("::", 1)[1].startswith(f"{PACK}-"), (path, rule)
        assert len(reason) >= 60, (path, rule, reason)
        # ... on the construct it concerns, never on the whole stack
        assert path != synthesized.stack.node.path, rule


def test_the_checks_do_report_a_bad_resource(tmp_path: Path) -> None:
    # Given a throwaway app whose bucket ignores the rules (no TLS enforcement, no access logs)
    app = App(context={"@aws-cdk/core:failSynthOnValidationErrors": False}, outdir=str(tmp_path))
    s3.Bucket(Stack(app, "Canary"), "Careless")
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    # When it is synthesized the way the Fileflow stack is
    app.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    # Then the same report reading finds the violations (so an empty report above means something)
    findings = _pack_findings(report)
    assert any("AwsSolutions-S1" in finding for finding in findings), findings
    assert any("AwsSolutions-S10" in finding for finding in findings), findings


@pytest.mark.parametrize("rule", ["AwsSolutions-IAM5[Resource::*]", "AwsSolutions-L1"])
def test_function_level_acknowledgments_sit_on_each_function(synthesized: Synthesized, rule: str) -> None:
    # Given the functions
    stack = synthesized.stack
    for function in (
        stack.api.handler,
        stack.intake.starter,
        stack.sweeper.handler,
        *stack.pipeline.stages.values(),
    ):
        # When collecting the acknowledgments under the function's construct
        acknowledged = {
            acknowledged_rule
            for construct in function.node.find_all()
            for entry in construct.node.metadata
            if entry.type == ACKNOWLEDGMENTS_METADATA
            for acknowledged_rule in entry.data
        }
        # Then the rule is acknowledged on that function's own constructs
        assert any(r.endswith(rule) for r in acknowledged), (function.node.path, acknowledged)
