"""Deploy the stack to the local cloud with cdklocal, or remove it.

python tools/deploy.py up      # bootstrap once, deploy (only what changed), write outputs, print URLs
python tools/deploy.py up --context webhooks_allow_local_http=true   # CDK context (repeatable)
python tools/deploy.py down    # empty the buckets, destroy the stack
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError

from tools import localcloud
from tools.stack import LOCAL_ENDPOINT, load_outputs, stack_name

ROOT = Path(__file__).resolve().parent.parent
CDKLOCAL = ROOT / "node_modules" / ".bin" / "cdklocal"
CDK = ROOT / "node_modules" / ".bin" / "cdk"
OUTPUTS_DIR = ROOT / ".fileflow"
# LocalStack's warning when it keeps a resource as it was and reports the update as done.
SKIPPED_UPDATE = re.compile(r'Unable to update resource type "([^"]+)", id "([^"]+)"')
TOO_OLD = re.compile(r"Maximum schema version supported is|cloud assembly schema version mismatch", re.I)


class DeployError(Exception):
    pass


def cdk_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "AWS_ENDPOINT_URL": LOCAL_ENDPOINT,
            "AWS_ENDPOINT_URL_S3": LOCAL_ENDPOINT,  # cdklocal refuses to run without both
            "AWS_ACCESS_KEY_ID": env.get("AWS_ACCESS_KEY_ID", "test"),
            "AWS_SECRET_ACCESS_KEY": env.get("AWS_SECRET_ACCESS_KEY", "test"),
            "AWS_DEFAULT_REGION": env.get("AWS_DEFAULT_REGION", "us-east-1"),
            "AWS_REGION": env.get("AWS_DEFAULT_REGION", "us-east-1"),
            "CDK_DISABLE_VERSION_CHECK": "1",  # no network: do not ask npm for a newer CLI
            "CI": env.get("CI", "true"),
        }
    )
    return env


def run_cdk(args: list[str]) -> str:
    """Runs cdklocal, streaming its output; explains the known set-up failures."""
    if not CDKLOCAL.exists():
        raise DeployError(
            "cdklocal is missing: run `make deps` (npm ci installs the pinned CDK CLI and cdklocal)"
        )
    process = subprocess.Popen(  # noqa: S603
        [str(CDKLOCAL), *args],
        cwd=ROOT,
        env=cdk_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    lines = []
    for line in process.stdout:
        lines.append(line)
        sys.stdout.write(line)
    output = "".join(lines)
    if process.wait() != 0:
        if TOO_OLD.search(output):
            version = subprocess.run(  # noqa: S603 - our pinned CLI
                [str(CDK), "--version"], capture_output=True, text=True, check=False
            ).stdout
            raise DeployError(
                f"the CDK CLI ({version.strip()}) is too old for this aws-cdk-lib: "
                "run `npm ci` to install the version pinned in package.json"
            )
        raise DeployError(f"cdklocal {' '.join(args)} failed with exit code {process.returncode}")
    return output


def cloudformation() -> Any:
    env = cdk_env()
    return boto3.client(
        "cloudformation",
        endpoint_url=LOCAL_ENDPOINT,
        region_name=env["AWS_DEFAULT_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )


def stack_exists(name: str) -> bool:
    try:
        stacks = cloudformation().describe_stacks(StackName=name)["Stacks"]
    except ClientError:
        return False
    return bool(stacks) and stacks[0]["StackStatus"] != "DELETE_COMPLETE"


def outputs_file() -> Path:
    return OUTPUTS_DIR / f"{stack_name()}-outputs.json"


def assembly_dir() -> list[str]:
    """One cloud assembly directory per stack, so deploys of two stacks never lock each other out."""
    return ["--output", f"cdk.out/{stack_name()}"]


def skipped_updates(log_text: str) -> list[tuple[str, str]]:
    """The (resource type, logical id) pairs whose update the local cloud skipped, once each."""
    return list(dict.fromkeys(SKIPPED_UPDATE.findall(log_text)))


def _log_size() -> int:
    return localcloud.LOG_FILE.stat().st_size if localcloud.LOG_FILE.exists() else 0


def warn_about_skipped_updates(log_offset: int) -> None:
    """Names what this deploy left unchanged on the local cloud (only a LocalStack we started logs here)."""
    if not localcloud.LOG_FILE.exists():
        return
    with localcloud.LOG_FILE.open(errors="replace") as log:
        log.seek(log_offset)
        skipped = skipped_updates(log.read())
    if not skipped:
        return
    print(
        "\nwarning: the local cloud kept these resources as they were (it cannot update them):",
        file=sys.stderr,
    )
    for resource_type, logical_id in skipped:
        print(f"  {resource_type}  {logical_id}", file=sys.stderr)
    print("to apply the change, deploy from nothing: make down && make up", file=sys.stderr)


CONTEXT_ITEM = re.compile(r"^[A-Za-z0-9_:@./-]+=.*$")


def context_args(items: list[str]) -> list[str]:
    """`key=value` pairs as cdklocal's `--context key=value` arguments."""
    for item in items:
        if not CONTEXT_ITEM.match(item):
            raise DeployError(f"--context takes key=value (e.g. webhook_disable_after=3), not {item!r}")
    return [arg for item in items for arg in ("--context", item)]


def up(context: list[str] | None = None) -> None:
    started = time.monotonic()
    extra_context = context_args(context or [])
    log_offset = _log_size()
    if not stack_exists("CDKToolkit"):
        run_cdk(["bootstrap", "--quiet", *assembly_dir()])
    OUTPUTS_DIR.mkdir(exist_ok=True)
    run_cdk(
        [
            "deploy",
            stack_name(),
            "--require-approval",
            "never",
            "--outputs-file",
            str(outputs_file()),
            "--progress",
            "events",
            *extra_context,
            *assembly_dir(),
        ]
    )
    warn_about_skipped_updates(log_offset)
    outputs = load_outputs()
    outputs_file().write_text(
        json.dumps({"stack": stack_name(), "api_url": outputs.api_url, **outputs.values}, indent=2) + "\n"
    )
    print(f"\ndeployed {stack_name()} in {time.monotonic() - started:.0f} s")
    print(f"  API:          {outputs.api_url}")
    print(f"  health:       {outputs.api_url}/health")
    print(f"  web page:     {outputs.api_url}/app/")
    print(f"  outputs file: {outputs_file().relative_to(ROOT)}")


def empty_bucket(name: str) -> None:
    env = cdk_env()
    s3 = boto3.resource(
        "s3",
        endpoint_url=LOCAL_ENDPOINT,
        region_name=env["AWS_DEFAULT_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )
    bucket = s3.Bucket(name)
    try:
        for upload in bucket.multipart_uploads.all():
            upload.abort()
        bucket.object_versions.delete()
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "NoSuchBucket":
            raise


def down() -> None:
    if not stack_exists(stack_name()):
        print(f"stack {stack_name()} is not deployed")
        return
    resources = cloudformation().describe_stack_resources(StackName=stack_name())["StackResources"]
    for resource in resources:
        if resource["ResourceType"] == "AWS::S3::Bucket" and resource.get("PhysicalResourceId"):
            empty_bucket(resource["PhysicalResourceId"])
    run_cdk(["destroy", stack_name(), "--force", *assembly_dir()])
    outputs_file().unlink(missing_ok=True)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=["up", "down", "outputs"])
    parser.add_argument(
        "--context",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="CDK context for `up` (repeatable), e.g. --context webhooks_allow_local_http=true",
    )
    args = parser.parse_args()
    try:
        if args.command == "up":
            up(args.context)
        elif args.command == "down":
            down()
        else:
            outputs = load_outputs()
            print(json.dumps({"api_url": outputs.api_url, **outputs.values}, indent=2))
    except DeployError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
