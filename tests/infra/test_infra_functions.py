"""Every Lambda function: Python 3.13 on x86_64, traced, its own role, its own log group with retention."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.constructs.lambda_function import METRICS_NAMESPACE
from infra.context import DEFAULT_ALLOWED_ORIGINS
from tests.infra.synth import Synthesized

XRAY_ACTIONS = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}


def _functions(synthesized: Synthesized) -> dict[str, dict[str, Any]]:
    functions = synthesized.of_type("AWS::Lambda::Function")
    assert set(functions) == {"ApiFunction", "ProcessorFunction", "AuthorizerFunction", "SweeperFunction"}, (
        "a function was added or renamed"
    )
    return functions


def _role_statements(synthesized: Synthesized, role_logical_id: str) -> list[dict[str, Any]]:
    return [
        statement
        for policy in synthesized.of_type("AWS::IAM::Policy").values()
        if {"Ref": role_logical_id} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def test_every_function_is_python_3_13_on_x86_64_with_active_tracing(synthesized: Synthesized) -> None:
    # Given every function of the stack
    for logical_id, function in _functions(synthesized).items():
        # When reading its properties
        properties = function["Properties"]
        # Then it runs python3.13 on x86_64 (what the layers are built for) with X-Ray active
        assert properties["Runtime"] == "python3.13", logical_id
        assert properties["Architectures"] == ["x86_64"], logical_id
        assert properties["TracingConfig"] == {"Mode": "Active"}, logical_id


def test_every_function_has_its_own_role_without_managed_policies(synthesized: Synthesized) -> None:
    # Given every function of the stack
    functions = _functions(synthesized)
    # When collecting their roles
    roles = [function["Properties"]["Role"]["Fn::GetAtt"][0] for function in functions.values()]
    # Then no two functions share a role, and no role carries a (broad) managed policy
    assert len(set(roles)) == len(functions)
    for role in roles:
        assert "ManagedPolicyArns" not in synthesized.resources[role]["Properties"], role


def test_every_function_logs_to_its_own_log_group_with_retention(synthesized: Synthesized) -> None:
    log_groups = synthesized.of_type("AWS::Logs::LogGroup")
    # Given every function of the stack
    for logical_id, function in _functions(synthesized).items():
        properties = function["Properties"]
        # When following its logging configuration to the log group
        log_group_id = properties["LoggingConfig"]["LogGroup"]["Ref"]
        log_group = log_groups[log_group_id]["Properties"]
        # Then that group is /aws/lambda/<function name>, has a retention, and only this role writes to it
        assert log_group["LogGroupName"] == f"/aws/lambda/{properties['FunctionName']}", logical_id
        assert log_group["RetentionInDays"] > 0, logical_id
        statements = _role_statements(synthesized, properties["Role"]["Fn::GetAtt"][0])
        log_statements = [s for s in statements if any(a.startswith("logs:") for a in _as_list(s["Action"]))]
        assert log_statements == [
            {
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Effect": "Allow",
                "Resource": {"Fn::GetAtt": [log_group_id, "Arn"]},
            }
        ], logical_id


def test_only_xray_actions_get_a_wildcard_resource(synthesized: Synthesized) -> None:
    # Given the policies of every function role (cdk-nag's IAM5 Resource::* is acknowledged for X-Ray only)
    for logical_id, function in _functions(synthesized).items():
        statements = _role_statements(synthesized, function["Properties"]["Role"]["Fn::GetAtt"][0])
        # When picking the statements on Resource "*"
        wildcard_actions = {
            action for s in statements if s["Resource"] == "*" for action in _as_list(s["Action"])
        }
        # Then they grant the X-Ray actions and nothing else
        assert wildcard_actions == XRAY_ACTIONS, logical_id


def test_every_function_gets_the_powertools_environment(synthesized: Synthesized) -> None:
    # Given every function of the stack
    for logical_id, function in _functions(synthesized).items():
        # When reading its environment
        variables = function["Properties"]["Environment"]["Variables"]
        # Then Powertools is configured by its standard variables
        assert variables["POWERTOOLS_METRICS_NAMESPACE"] == METRICS_NAMESPACE, logical_id
        assert variables["POWERTOOLS_SERVICE_NAME"], logical_id
        assert variables["LOG_LEVEL"] == "INFO", logical_id


@pytest.mark.parametrize(
    ("logical_id", "handler", "layers", "memory", "timeout", "variables"),
    [
        (
            "ApiFunction",
            "fileflow_api.handler.lambda_handler",
            ["runtime", "api", "common", "web"],
            512,
            29,
            {"BUCKET_NAME", "TABLE_NAME", "QUEUE_URL", "ALLOWED_ORIGINS", "TOKEN_SECRET_ARN", "TOKEN_ISSUER"},
        ),
        (
            "ProcessorFunction",
            "fileflow_processor.handler.lambda_handler",
            ["runtime", "processing", "common"],
            2048,
            120,
            {
                "BUCKET_NAME",
                "TABLE_NAME",
                "IDEMPOTENCY_TABLE_NAME",
                "QUEUE_URL",
                "MAX_RECEIVE_COUNT",
                "RETRY_BACKOFF_SECONDS",
            },
        ),
        (
            "AuthorizerFunction",
            "fileflow_authorizer.handler.lambda_handler",
            ["runtime", "common"],
            256,
            10,
            {"TOKEN_SECRET_ARN", "TOKEN_ISSUER"},
        ),
        (
            "SweeperFunction",
            "fileflow_api.sweeper_handler.lambda_handler",
            ["runtime", "common"],
            256,
            120,
            {"BUCKET_NAME", "TABLE_NAME"},
        ),
    ],
)
def test_function_handler_layers_sizing_and_settings(
    synthesized: Synthesized,
    logical_id: str,
    handler: str,
    layers: list[str],
    memory: int,
    timeout: int,
    variables: set[str],
) -> None:
    # Given one function and the stack's layers
    stack_layers = synthesized.stack.layers
    layer_ids = {
        "runtime": synthesized.logical_id(stack_layers.runtime),
        "api": synthesized.logical_id(stack_layers.api),
        "processing": synthesized.logical_id(stack_layers.processing),
        "common": synthesized.logical_id(stack_layers.common),
        "web": synthesized.logical_id(stack_layers.web),
    }
    # When reading its properties
    properties = synthesized.resources[logical_id]["Properties"]
    # Then handler, layers, memory, timeout and settings variables are the documented ones
    # (CDK sorts layers; their order is irrelevant because no two layers hold the same file)
    assert properties["Handler"] == handler
    assert sorted(properties["Layers"], key=str) == sorted(
        ({"Ref": layer_ids[name]} for name in layers), key=str
    )
    assert properties["MemorySize"] == memory
    assert properties["Timeout"] == timeout
    assert variables <= set(properties["Environment"]["Variables"])


def test_layers_target_the_functions_runtime_and_architecture(synthesized: Synthesized) -> None:
    # Given every layer version
    layers = synthesized.of_type("AWS::Lambda::LayerVersion")
    assert len(layers) == 5
    for logical_id, layer in layers.items():
        # Then it is declared for python3.13 on x86_64
        assert layer["Properties"]["CompatibleRuntimes"] == ["python3.13"], logical_id
        assert layer["Properties"]["CompatibleArchitectures"] == ["x86_64"], logical_id


def test_api_function_env_points_at_the_stack_resources(synthesized: Synthesized) -> None:
    # Given the API function and the resources it works with
    stack = synthesized.stack
    # When reading its environment
    variables = synthesized.resources["ApiFunction"]["Properties"]["Environment"]["Variables"]
    # Then it names this stack's bucket, table and queue, and the allowed origins as a JSON list
    assert variables["BUCKET_NAME"] == {"Ref": synthesized.logical_id(stack.storage.bucket)}
    assert variables["TABLE_NAME"] == {"Ref": synthesized.logical_id(stack.metadata.table)}
    assert variables["QUEUE_URL"] == {"Ref": synthesized.logical_id(stack.processing.queue)}
    assert json.loads(variables["ALLOWED_ORIGINS"]) == list(DEFAULT_ALLOWED_ORIGINS)


def test_processor_env_names_the_idempotency_table(synthesized: Synthesized) -> None:
    # Given the processor function
    metadata = synthesized.stack.metadata
    # When reading its environment
    variables = synthesized.resources["ProcessorFunction"]["Properties"]["Environment"]["Variables"]
    # Then the metadata and idempotency tables are two different tables of this stack
    assert variables["TABLE_NAME"] == {"Ref": synthesized.logical_id(metadata.table)}
    assert variables["IDEMPOTENCY_TABLE_NAME"] == {"Ref": synthesized.logical_id(metadata.idempotency_table)}


def test_api_may_write_originals_only_under_uploads(synthesized: Synthesized) -> None:
    # Given the API function's role
    bucket_id = synthesized.logical_id(synthesized.stack.storage.bucket)
    role_id = synthesized.resources["ApiFunction"]["Properties"]["Role"]["Fn::GetAtt"][0]
    # When picking the statements that allow s3:PutObject
    put_statements = [
        s for s in _role_statements(synthesized, role_id) if "s3:PutObject" in _as_list(s["Action"])
    ]
    # Then writes (and multipart aborts) are limited to keys under uploads/
    assert len(put_statements) == 1
    assert "s3:Abort*" in put_statements[0]["Action"]
    assert put_statements[0]["Resource"] == {
        "Fn::Join": ["", [{"Fn::GetAtt": [bucket_id, "Arn"]}, "/uploads/*"]]
    }


def test_processor_reads_originals_and_writes_derivatives_only(synthesized: Synthesized) -> None:
    # Given the processor function's role
    bucket_id = synthesized.logical_id(synthesized.stack.storage.bucket)
    role_id = synthesized.resources["ProcessorFunction"]["Properties"]["Role"]["Fn::GetAtt"][0]
    statements = _role_statements(synthesized, role_id)
    # When collecting its S3 actions, and the statements that allow s3:PutObject
    s3_actions = {action for s in statements for action in _as_list(s["Action"]) if action.startswith("s3:")}
    put_statements = [s for s in statements if "s3:PutObject" in _as_list(s["Action"])]
    # Then it reads (any version) and writes nothing but keys under derived/: never an original, so
    # no derivative can trigger processing again (deletes: what a deleted file left, test_infra_hardening)
    assert s3_actions == {
        "s3:DeleteObject*",
        "s3:GetObject*",
        "s3:GetBucket*",
        "s3:List*",
        "s3:PutObject",
        "s3:PutObjectLegalHold",
        "s3:PutObjectRetention",
        "s3:PutObjectTagging",
        "s3:PutObjectVersionTagging",
        "s3:Abort*",
    }
    assert len(put_statements) == 1
    assert put_statements[0]["Resource"] == {
        "Fn::Join": ["", [{"Fn::GetAtt": [bucket_id, "Arn"]}, "/derived/*"]]
    }
