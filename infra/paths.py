"""Where the CDK app finds what it packages, wherever `cdk` or pytest runs from."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS_DIR = REPO_ROOT / "functions"
LAYERS_BUILD_DIR = REPO_ROOT / "layers" / "build"
