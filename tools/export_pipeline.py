"""Render the processing workflow's definition (infra/constructs/pipeline/definition.py) for reviewers.

Writes docs/pipeline.asl.json (the Amazon States Language document, the stage functions' ARNs shown as
`${<logical id>}`), the Mermaid diagram drawn from it, and the table of the stages (STAGES: memory,
timeout, layers, ...) into docs/processing.md and README.md, between the `<!-- pipeline-diagram -->`
and `<!-- pipeline-stages -->` markers.

    python -m tools.export_pipeline           # regenerate (make pipeline-docs)
    python -m tools.export_pipeline --check   # exit 1 if a committed copy is stale

A unit test (tests/infra/test_infra_pipeline.py) fails while a committed copy differs from the code.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from infra.context import ReviewContext

ROOT = Path(__file__).resolve().parent.parent
ASL_FILE = ROOT / "docs" / "pipeline.asl.json"
DIAGRAM_FILES = (ROOT / "docs" / "processing.md", ROOT / "README.md")
MARKER = re.compile(r"(<!-- pipeline-diagram -->\n)(.*?)(<!-- /pipeline-diagram -->)", re.DOTALL)
STAGES_MARKER = re.compile(r"(<!-- pipeline-stages -->\n)(.*?)(<!-- /pipeline-stages -->)", re.DOTALL)
_ARN_PREFIX = "arn:aws:lambda:us-east-1:123456789012:function:"


def asl_document(review: ReviewContext | None = None) -> dict[str, Any]:
    """The definition as the code builds it (`review`: another timeout than the default's)."""
    from aws_cdk import App, Stack
    from aws_cdk import aws_dynamodb as dynamodb
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk import aws_stepfunctions as sfn

    from infra.constructs.pipeline.definition import build_definition
    from infra.constructs.pipeline.lanes import StandardLane
    from infra.constructs.pipeline.stages import STAGES
    from infra.context import DEFAULT_STANDARD_LANE_SLOTS

    stack = Stack(App(), "Render")
    functions = {
        spec.name: lambda_.Function.from_function_arn(
            stack, spec.construct_id, _ARN_PREFIX + spec.construct_id
        )
        for spec in STAGES
    }
    # The metadata table's name shown as `${MetadataTable}`; the lane's limit is the local default.
    table = dynamodb.Table.from_table_name(stack, "MetadataTable", "${MetadataTable}")
    lane = StandardLane(stack, table=table, slots=DEFAULT_STANDARD_LANE_SLOTS)
    body = sfn.DefinitionBody.from_chainable(build_definition(stack, functions, lane, review))
    machine = sfn.StateMachine(stack, "Machine", definition_body=body)
    definition = stack.resolve(machine.node.default_child.definition_string)  # type: ignore[union-attr]
    parts = [definition] if isinstance(definition, str) else definition["Fn::Join"][1]
    # An optimised integration's resource names the partition (`arn:${AWS::Partition}:states:::...`).
    text = "".join(part if isinstance(part, str) else _reference(part) for part in parts)
    text = re.sub(re.escape(_ARN_PREFIX) + r"([A-Za-z]+)", r"${\1}", text)
    document: dict[str, Any] = json.loads(text)
    return document


def _reference(part: dict[str, Any]) -> str:
    if part == {"Ref": "AWS::Partition"}:
        return "aws"
    raise ValueError(f"the definition refers to something the rendering cannot name: {part}")


def mermaid(document: dict[str, Any]) -> str:
    """A flowchart of the states: plain arrows for Next/Default/Choices, dotted ones for Catch."""
    lines = ["```mermaid", "flowchart TD", f"  start((start)) --> {document['StartAt']}"]
    for name, state in document["States"].items():
        shape = {"Choice": "{%s}", "Succeed": "([%s])", "Fail": "[[%s]]"}.get(state["Type"], "[%s]")
        lines.append(f"  {name}" + shape % name)
        for choice in state.get("Choices", []):
            lines.append(f'  {name} -->|"{_condition(choice)}"| {choice["Next"]}')
        for target in (state.get("Next"), state.get("Default")):
            if target:
                lines.append(f"  {name} --> {target}")
        for catch in state.get("Catch", []):
            lines.append(f"  {name} -.->|{'/'.join(catch['ErrorEquals'])}| {catch['Next']}")
    lines.append("```")
    return "\n".join(lines) + "\n"


def _condition(choice: dict[str, Any]) -> str:
    """A Choice rule as the diagram labels it: its value, or its comparison."""
    if "And" in choice:  # an IsPresent guard before its comparison says nothing of the rule
        return " and ".join(_condition(rule) for rule in choice["And"] if rule.get("IsPresent") is not True)
    for key in ("StringEquals", "BooleanEquals"):
        if key in choice:
            return str(choice[key])
    signs = {"NumericGreaterThanEquals": ">=", "StringMatches": "matches", "IsPresent": "present:"}
    for key, sign in signs.items():
        if key in choice:
            return f"{choice['Variable'].removeprefix('$.')} {sign} {choice[key]}"
    raise ValueError(f"no label for the choice rule {choice}")


def stage_table() -> str:
    """Each stage's function, memory, timeout, storage, layers, S3 access and concurrency (from STAGES)."""
    from infra.constructs.pipeline.stages import STAGES

    rows = [
        "| stage | function (logical id) | does | layers | memory | timeout | /tmp | S3 "
        "| reserved concurrency |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    access = {"none": "-", "read": "read", "read_write": "read, write `derived/`"}
    for spec in STAGES:
        seconds = int(spec.timeout.to_seconds())
        timeout = f"{seconds // 60} min" if seconds >= 120 else f"{seconds} s"
        storage = f"{spec.ephemeral_storage_mib // 1024} GiB" if spec.ephemeral_storage_mib else "512 MiB"
        layers = ", ".join(("runtime", *spec.layers, "common"))
        rows.append(
            f"| {spec.name} | `{spec.construct_id}` | {spec.description} | {layers} | {spec.memory_mb} MB "
            f"| {timeout} | {storage} | {access[spec.bucket]} | {spec.reserved_concurrency} |"
        )
    return "\n".join(rows) + "\n"


def render_asl(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2) + "\n"


def with_diagram(text: str, diagram: str, table: str | None = None) -> str:
    """`text` with the diagram (and the stage table, where it has the markers) between its markers."""
    if not MARKER.search(text):
        raise SystemExit("no <!-- pipeline-diagram --> ... <!-- /pipeline-diagram --> markers found")
    text = MARKER.sub(lambda match: match.group(1) + diagram + match.group(3), text)
    table = stage_table() if table is None else table
    return STAGES_MARKER.sub(lambda match: match.group(1) + table + match.group(3), text)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="exit 1 if a committed copy is stale")
    args = parser.parse_args()
    document = asl_document()
    wanted = {ASL_FILE: render_asl(document)}
    diagram = mermaid(document)
    for path in DIAGRAM_FILES:
        wanted[path] = with_diagram(path.read_text(), diagram)
    stale = [path for path, text in wanted.items() if not path.exists() or path.read_text() != text]
    if args.check:
        for path in stale:
            print(f"{path.relative_to(ROOT)} is stale: run `make pipeline-docs`", file=sys.stderr)
        return 1 if stale else 0
    for path in stale:
        path.write_text(wanted[path])
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
