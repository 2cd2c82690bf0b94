"""CDK entry point: `cdk synth` runs `.venv/bin/python -m infra.app` (cdk.json).

Stack name: env FILEFLOW_STACK_NAME (default Fileflow). `-c nag=true` runs cdk-nag's AwsSolutions checks
(the infra tests always run them).
The stack is environment-agnostic: synth never calls AWS and never needs Docker.
"""

from __future__ import annotations

import os

from aws_cdk import App, Validations
from cdk_nag import AwsSolutionsChecks

from infra.context import nag_enabled
from infra.stack import FileflowStack

DEFAULT_STACK_NAME = "Fileflow"


def stack_name_from_env() -> str:
    return os.environ.get("FILEFLOW_STACK_NAME") or DEFAULT_STACK_NAME


def main() -> None:
    app = App()
    name = stack_name_from_env()
    FileflowStack(app, name, stack_name=name, description="Fileflow: serverless file upload and processing")
    if nag_enabled(app):
        # cdk-nag 3 is a policy-validation plugin: findings fail the synth (cdk.out/validation-report.json).
        Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))
    app.synth()


if __name__ == "__main__":
    main()
