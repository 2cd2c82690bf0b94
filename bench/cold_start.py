"""The API function's cold start, as a whole process, against a bare Powertools handler's.

Each run is a new interpreter that imports the handler's module (building what it builds at init) and
handles one API Gateway event, the way a new Lambda execution environment does; the time is the whole
process's, from exec to exit, measured outside it. The two alternate, after one warm-up each (the OS's page
cache, not the interpreter, is warm).

- ours: `fileflow_api.handler.lambda_handler` (FastAPI + Mangum, Powertools Logger/Metrics/Tracer, its
  settings validated), with the deployed API function's own environment (read from the stack; with
  `--offline`, the one the stack writes for the local cloud). The libraries are the venv's (the layers'
  pins), but for cryptography, which the function has only with an identity provider's JWKS.
- the peer: a bare Powertools handler: Logger with the Lambda context injected and an
  APIGatewayRestResolver with one route.

Both answer the same event, `GET /v1/not-a-route` (404), so neither calls AWS: what is timed is start-up.
Then the ten packages that cost ours most to import (`python -X importtime`, each module's own time summed
by top-level package): the profile behind the figure. The #10 target: at most 1.5x the bare handler.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import boto3

from bench.figures import record
from tests.events import load_event
from tools.ops.functions import resolve
from tools.stack import LOCAL_ENDPOINT, client_kwargs

ROOT = Path(__file__).resolve().parent.parent
TARGET = 1.5
PATH = "/v1/not-a-route"

INVOKE = """
import json, sys
from types import SimpleNamespace
from {module} import {function} as handler
context = SimpleNamespace(function_name="bench", memory_limit_in_mb=256, aws_request_id="bench-1",
    invoked_function_arn="arn:aws:lambda:us-east-1:000000000000:function:bench", log_stream_name="bench")
answer = handler(json.loads(sys.stdin.read()), context)
assert answer["statusCode"] == 404, answer
"""
# The venv holds cryptography (the RS256 tests need it); the API function gets it only with an identity
# provider's JWKS (the crypto layer, infra/constructs/auth.py): without one, it is not importable here.
WITHOUT_CRYPTO_LAYER = """
import sys
sys.modules["cryptography"] = None
"""
BARE = """
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver

logger = Logger(service="bare")
app = APIGatewayRestResolver()


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@logger.inject_lambda_context
def handler(event, context):
    return app.resolve(event, context)
"""


def event() -> str:
    sample = load_event("api/health")
    sample["path"] = PATH
    sample["requestContext"]["path"] = PATH
    sample["pathParameters"] = {"proxy": PATH.removeprefix("/")}
    return json.dumps(sample)


def api_environment() -> dict[str, str]:
    """The deployed API function's environment, its endpoint turned to the local cloud's."""
    lambda_client = boto3.client("lambda", **client_kwargs())
    config = lambda_client.get_function_configuration(FunctionName=resolve(lambda_client, "api"))
    environment: dict[str, str] = dict(config.get("Environment", {}).get("Variables", {}))
    return environment


def offline_environment() -> dict[str, str]:
    """What the stack gives the API function on the local cloud (infra/constructs/api.py): resource names
    and ARNs of their shape, infra/context.py's defaults. No stack needs deploying, and the CDK app is not
    loaded (its node process would run beside the measured ones). The event makes no AWS call."""
    account, region = "000000000000", "us-east-1"
    queue = f"{LOCAL_ENDPOINT}/{account}/fileflow-processing"
    return {
        "POWERTOOLS_SERVICE_NAME": "api",
        "POWERTOOLS_METRICS_NAMESPACE": "Fileflow",
        "LOG_LEVEL": "INFO",
        "BUCKET_NAME": "fileflow-uploads-bench",
        "TABLE_NAME": "fileflow-metadata-bench",
        "AUDIT_TABLE_NAME": "fileflow-audit-bench",
        "QUEUE_URL": queue,
        "ALLOWED_ORIGINS": json.dumps(["http://localhost:8080", "http://127.0.0.1:8080"]),
        "TOKEN_SECRET_ARN": f"arn:aws:secretsmanager:{region}:{account}:secret:fileflow-signing-key-AbCdEf",
        "TOKEN_ISSUER": "fileflow",
        "AI_USER_DAILY_BUDGET_USD": "1.0",
        "AI_MONTHLY_BUDGET_USD": "100.0",
        "WEBHOOKS_ALLOW_LOCAL_HTTP": "true",
        "WEBHOOK_ROTATION_OVERLAP_SECONDS": "86400",
        "AWS_ENDPOINT_URL": LOCAL_ENDPOINT,
        "AWS_DEFAULT_REGION": region,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
    }


def run_once(code: str, environment: dict[str, str], payload: str) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code],
        input=payload,
        env=environment,
        text=True,
        capture_output=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"the handler's process failed (exit {done.returncode}):\n{done.stderr[-2000:]}")
    return elapsed


def import_profile(code: str, environment: dict[str, str], payload: str, top: int) -> list[tuple[float, str]]:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        input=payload,
        env=environment,
        text=True,
        capture_output=True,
        check=True,
    )
    for line in done.stdout.splitlines():
        if line.startswith("{") and '"message":"request"' in line:
            first = json.loads(line)["duration_ms"]
            print(f"ours, the first request's own time (its request line, after init): {first:.0f} ms")
    by_package: dict[str, float] = {}
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        own, _, name = line.removeprefix("import time:").split("|")
        package = name.strip().split(".")[0]
        by_package[package] = by_package.get(package, 0.0) + int(own) / 1000
    return sorted(((ms, package) for package, ms in by_package.items()), reverse=True)[:top]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=10, help="measured processes of each")
    parser.add_argument(
        "--offline",
        action="store_true",
        help="the local cloud's API environment as the stack writes it, instead of the deployed function's",
    )
    args = parser.parse_args(argv)
    payload = event()
    base = {
        key: value
        for key, value in os.environ.items()
        if key in {"PATH", "HOME", "LANG", "AWS_ENDPOINT_URL"} or key.startswith("AWS_")
    }
    # the function's code and its layers' packages; the libraries are the venv's (the layers' pins)
    packages = ("functions/api", "functions/common", "functions/web")
    python_path = os.pathsep.join(str(ROOT / part) for part in packages)
    ours_env = {
        **base,
        **(offline_environment() if args.offline else {**api_environment(), **client_env()}),
        "PYTHONPATH": python_path,
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    with_bare = Path(os.environ.get("TMPDIR", "/tmp")) / "fileflow_bench_bare_handler.py"
    with_bare.write_text(BARE)
    bare_env = {**base, "PYTHONPATH": str(with_bare.parent), "POWERTOOLS_TRACE_DISABLED": "true"}
    ours_code = INVOKE.format(module="fileflow_api.handler", function="lambda_handler")
    if "JWKS_URL" not in ours_env:
        ours_code = WITHOUT_CRYPTO_LAYER + ours_code
    bare_code = INVOKE.format(module=with_bare.stem, function="handler")

    run_once(ours_code, ours_env, payload)
    run_once(bare_code, bare_env, payload)
    ours: list[float] = []
    bare: list[float] = []
    for index in range(args.runs):
        pair = ((ours_code, ours_env, ours), (bare_code, bare_env, bare))
        for code, environment, times in pair if index % 2 == 0 else reversed(pair):
            times.append(run_once(code, environment, payload))
    ours_s, bare_s = statistics.median(ours), statistics.median(bare)
    ratio = ours_s / bare_s
    print(f"API cold start, whole process, median of {args.runs}: ours {ours_s * 1000:.0f} ms, ", end="")
    print(f"bare Powertools handler {bare_s * 1000:.0f} ms, ratio {ratio:.2f} (target <= {TARGET}x)")
    profile = import_profile(ours_code, ours_env, payload, 10)
    print("ours, import time by package (ms, python -X importtime, own times summed):")
    for milliseconds, name in profile:
        print(f"  {milliseconds:8.1f}  {name}")
    record(
        "API cold start, whole process (median)",
        f"{ours_s * 1000:.0f} ms",
        f"bare Powertools handler {bare_s * 1000:.0f} ms",
        ratio,
        target=f"<= {TARGET}x a bare Powertools handler",
        met=ratio <= TARGET,
    )
    return 0


def client_env() -> dict[str, str]:
    """The local cloud's endpoint and test credentials, as the host executor gives its functions."""
    endpoint = client_kwargs().get("endpoint_url")
    return {"AWS_ENDPOINT_URL": str(endpoint)} if endpoint else {}


if __name__ == "__main__":
    raise SystemExit(main())
