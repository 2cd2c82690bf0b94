"""The synthesized Fileflow stack, as the infra tests look at it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_cdk import CfnResource
from aws_cdk.assertions import Template
from constructs import IConstruct

from infra.stack import FileflowStack

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Synthesized:
    stack: FileflowStack
    template: Template
    # The template as plain JSON, read once: each Template.to_json() is a round trip to the jsii kernel.
    template_json: dict[str, Any]
    validation_report: dict[str, Any]
    manifest: dict[str, Any]

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        resources: dict[str, dict[str, Any]] = self.template_json["Resources"]
        return resources

    def logical_id(self, construct: IConstruct) -> str:
        """The logical id of a construct's CloudFormation resource (itself or its default child)."""
        resource = construct if isinstance(construct, CfnResource) else construct.node.default_child
        assert isinstance(resource, CfnResource), f"{construct.node.path} is no CloudFormation resource"
        return str(self.stack.resolve(self.stack.get_logical_id(resource)))

    def resource(self, construct: IConstruct) -> dict[str, Any]:
        return self.resources[self.logical_id(construct)]

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {lid: res for lid, res in self.resources.items() if res["Type"] == resource_type}


def cdk_json_context() -> dict[str, Any]:
    context: dict[str, Any] = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
    return context
