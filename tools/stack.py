"""Where a deployed Fileflow stack is: its outputs, read from CloudFormation (local cloud or AWS)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import boto3

from infra import outputs as names

DEFAULT_STACK_NAME = "Fileflow"
LOCAL_ENDPOINT = f"http://127.0.0.1:{os.environ.get('LOCALSTACK_PORT', '4566')}"


def stack_name() -> str:
    return os.environ.get("FILEFLOW_STACK_NAME", DEFAULT_STACK_NAME)


def endpoint_url() -> str | None:
    """The local cloud's endpoint, or None for real AWS (FILEFLOW_TARGET=aws)."""
    if os.environ.get("FILEFLOW_TARGET", "local") == "aws":
        return None
    return os.environ.get("AWS_ENDPOINT_URL", LOCAL_ENDPOINT)


def client_kwargs() -> dict[str, Any]:
    """boto3 client arguments reaching the target cloud (test credentials for the local one)."""
    endpoint = endpoint_url()
    if endpoint is None:
        return {}
    return {
        "endpoint_url": endpoint,
        "region_name": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        "aws_access_key_id": os.environ.get("AWS_ACCESS_KEY_ID", "test"),
        "aws_secret_access_key": os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
    }


@dataclass(frozen=True)
class StackOutputs:
    values: dict[str, str]

    def __getitem__(self, name: str) -> str:
        try:
            return self.values[name]
        except KeyError:
            raise KeyError(f"stack output {name!r} missing; outputs: {sorted(self.values)}") from None

    @property
    def api_url(self) -> str:
        """The API's base URL, without a trailing slash."""
        endpoint = endpoint_url()
        if endpoint is None:
            return self[names.API_URL].rstrip("/")
        # LocalStack serves REST APIs under its own gateway
        return f"{endpoint}/_aws/execute-api/{self[names.API_ID]}/{self[names.API_STAGE]}"


def load_outputs(name: str | None = None) -> StackOutputs:
    cloudformation = boto3.client("cloudformation", **client_kwargs())
    stack = cloudformation.describe_stacks(StackName=name or stack_name())["Stacks"][0]
    return StackOutputs({o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])})
