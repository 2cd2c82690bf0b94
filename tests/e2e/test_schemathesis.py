"""Schemathesis over the committed OpenAPI document (docs/openapi.json), against the deployed API.

Every operation gets generated requests (the schema's examples, its boundary values, then random data,
valid and invalid), with a valid bearer token of a user of its own; the only check is Schemathesis'
`not_a_server_error`: no answer may be a 5xx. Its CLI runs in a subprocess (its own event loop and
reporting), bounded by --max-examples so the run stays under two minutes.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path
from xml.etree import ElementTree

from tools.stack import StackOutputs, endpoint_url
from tools.token import TokenFactory

ROOT = Path(__file__).resolve().parents[2]
OPENAPI = ROOT / "docs" / "openapi.json"
# Per operation and phase; with 4 workers the whole run takes about a minute on the local cloud.
MAX_EXAMPLES = os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "8")
SEED = os.environ.get("SCHEMATHESIS_SEED", "20261121")


def test_no_generated_request_gets_a_server_error(stack: StackOutputs, tmp_path: Path) -> None:
    # Given a valid bearer token of a fresh user, and the API's committed OpenAPI document
    token = TokenFactory.for_stack(stack).valid(f"e2e-fuzz-{uuid.uuid4().hex[:10]}")
    schemathesis = Path(sys.executable).parent / "schemathesis"
    junit = tmp_path / "schemathesis.xml"
    # When Schemathesis generates requests for every operation and sends them to the deployed API
    result = subprocess.run(
        [
            str(schemathesis),
            "run",
            str(OPENAPI),
            "--url",
            stack.api_url,
            "--header",
            f"Authorization: Bearer {token}",
            "--checks",
            "not_a_server_error",
            "--phases",
            "examples,coverage,fuzzing",
            "--max-examples",
            MAX_EXAMPLES,
            "--seed",
            SEED,
            "--workers",
            "4",
            "--request-timeout",
            "30",
            "--generation-database",
            "none",
            "--no-color",
            "--report",
            "junit",
            "--report-junit-path",
            str(junit),
        ],
        cwd=tmp_path,  # its own state directory (.schemathesis/) stays out of the repository
        capture_output=True,
        text=True,
        timeout=600,  # a hang guard only: under a loaded host the run has taken 145 s
        check=False,
    )
    output = result.stdout + result.stderr
    problems, tolerated = classify(junit)
    print(
        "\n".join(["schemathesis: tolerated local-cloud gateway defects:", *tolerated]) if tolerated else ""
    )
    # Then it tested every operation of the document
    assert operations_run(junit) == documented_operations(), output[-4000:]
    # and none answered a 5xx, but for the local gateway's own defects
    assert not problems, "\n\n".join(problems)[-8000:] + "\n\n" + output[-3000:]
    # and the run itself ended as a test run does: clean, or failing only on what was tolerated above
    assert result.returncode == 0 or (result.returncode == 1 and tolerated), output[-8000:]


def documented_operations() -> set[str]:
    paths = json.loads(OPENAPI.read_text())["paths"]
    return {f"{method.upper()} {path}" for path, operations in paths.items() for method in operations}


def operations_run(junit: Path) -> set[str]:
    return {str(case.get("name")) for case in ElementTree.parse(junit).iter("testcase")}


# Two defects of LocalStack's own API Gateway (not the API: it never sees these requests), tolerated on the
# local cloud only and printed; on AWS every failure counts:
# - a POST with `Content-Type: multipart/form-data` and no boundary: the gateway answers 500 "Error in
#   apigateway invocation: list index out of range" before invoking the function (which answers such a
#   request 201/401/422: tests/integration/test_files_api.py);
# - a request line of tens of KiB (coverage-phase maximum-length values, percent-encoded): the gateway
#   closes the connection, where AWS's answers 414.
_LOCAL_GATEWAY_DEFECTS = (
    ("Error in apigateway invocation: list index out of range", "multipart/form-data` without a boundary"),
    ("Remote end closed connection without response", "curl -X"),
)
_LONG_REQUEST = 8192


def classify(junit: Path) -> tuple[list[str], list[str]]:
    """(failures that count, tolerated local-cloud defects) from Schemathesis' JUnit report."""
    problems: list[str] = []
    tolerated: list[str] = []
    for case in ElementTree.parse(junit).iter("testcase"):
        for outcome in case:
            if outcome.tag not in ("failure", "error"):
                continue
            for entry in re.split(r"\n(?=\d+\. Test Case ID)", outcome.text or ""):
                label = f"{case.get('name')}: {entry.strip()[:300]}"
                if endpoint_url() is not None and _local_gateway_defect(entry):
                    tolerated.append(label[:200])
                else:
                    problems.append(label)
    return problems, tolerated


def _local_gateway_defect(entry: str) -> bool:
    for signature, context in _LOCAL_GATEWAY_DEFECTS:
        if signature in entry and context in entry:
            if context == "curl -X":
                request = entry[entry.index("curl -X") :].split("\n", 1)[0]
                return len(request) > _LONG_REQUEST
            return True
    return False
