"""Synthesizes the Fileflow stack once per session, with cdk-nag's AwsSolutions checks applied.

The context is cdk.json's, so the tests see the template `cdk synth` produces. Layers are built first
(`layers/build.py` is a no-op when they are up to date).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from aws_cdk import App, Validations
from aws_cdk.assertions import Template
from cdk_nag import AwsSolutionsChecks

from infra.stack import FileflowStack
from tests.infra.synth import REPO_ROOT, Synthesized, cdk_json_context

STACK_NAME = "FileflowTest"
# cdk-nag 3 reports through CDK's policy validation: collect its report instead of failing the synth.
COLLECT_VALIDATION_REPORT = {"@aws-cdk/core:failSynthOnValidationErrors": False}


@pytest.fixture(scope="session")
def built_layers() -> None:
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "layers" / "build.py")],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"layers/build.py failed, so the stack cannot be synthesized:\n{result.stderr}")


@pytest.fixture(scope="session")
def synthesized(built_layers: None, tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    outdir = tmp_path_factory.mktemp("cdk.out")
    app = App(context={**cdk_json_context(), **COLLECT_VALIDATION_REPORT}, outdir=str(outdir))
    stack = FileflowStack(app, STACK_NAME, stack_name=STACK_NAME)
    Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))
    template = Template.from_stack(stack)  # synthesizes the app (and runs the checks) once
    return Synthesized(
        stack=stack,
        template=template,
        template_json=dict(template.to_json()),
        validation_report=json.loads((outdir / "validation-report.json").read_text()),
        manifest=json.loads((outdir / "manifest.json").read_text()),
    )
