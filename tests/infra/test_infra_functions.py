"""Every Lambda function: Python 3.13 on x86_64, traced, its own role, its own log group with retention."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.constructs.lambda_function import METRICS_NAMESPACE
from infra.constructs.pipeline.stages import STAGES, StageSpec
from infra.context import DEFAULT_ALLOWED_ORIGINS
from tests.infra.synth import Synthesized

XRAY_ACTIONS = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}


def _functions(synthesized: Synthesized) -> dict[str, dict[str, Any]]:
    functions = synthesized.of_type("AWS::Lambda::Function")
    assert set(functions) == {
        "ApiFunction",
        "StarterFunction",
        "AuthorizerFunction",
        "SweeperFunction",
        "WebhookSenderFunction",
        "LaneReclaimerFunction",
        *(stage.construct_id for stage in STAGES),
    }, "a function was added or renamed"
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
            "StarterFunction",
            "fileflow_intake.handler.lambda_handler",
            ["runtime", "common"],
            256,
            30,
            {
                "BUCKET_NAME",
                "TABLE_NAME",
                "STATE_MACHINE_ARN",
                "QUEUE_URL",
                "MAX_RECEIVE_COUNT",
                "RETRY_BACKOFF_SECONDS",
            },
        ),
        (
            "DetectStageFunction",
            "fileflow_stages.detect.handler.lambda_handler",
            ["runtime", "documents", "crypto", "common"],
            512,
            30,
            {"BUCKET_NAME", "TABLE_NAME"},
        ),
        (
            "ImageStageFunction",
            "fileflow_stages.image.handler.lambda_handler",
            ["runtime", "images", "common"],
            2048,
            60,
            {"BUCKET_NAME", "TABLE_NAME"},
        ),
        (
            "DocumentStageFunction",
            "fileflow_stages.document.handler.lambda_handler",
            ["runtime", "documents", "crypto", "common"],
            1024,
            60,
            {"BUCKET_NAME", "TABLE_NAME"},
        ),
        (
            "ArchiveStageFunction",
            "fileflow_stages.archive.handler.lambda_handler",
            ["runtime", "documents", "crypto", "common"],
            1024,
            60,
            {"BUCKET_NAME", "TABLE_NAME"},
        ),
        (
            "VideoStageFunction",
            "fileflow_stages.video.handler.lambda_handler",
            ["runtime", "video", "common"],
            3008,
            600,
            {"BUCKET_NAME", "TABLE_NAME"},
        ),
        (
            "AnalysisStageFunction",
            "fileflow_stages.analysis.handler.lambda_handler",
            ["runtime", "images", "analysis", "common"],
            2048,
            60,
            {"BUCKET_NAME", "TABLE_NAME"},
        ),
        (
            "AiStageFunction",
            "fileflow_stages.ai.handler.lambda_handler",
            ["runtime", "ai", "common"],
            512,
            120,
            {"TABLE_NAME", "BUCKET_NAME"},
        ),
        (
            "FinalizeStageFunction",
            "fileflow_stages.finalize.handler.lambda_handler",
            ["runtime", "common"],
            256,
            30,
            {"TABLE_NAME"},
        ),
        (
            "NotifyStageFunction",
            "fileflow_stages.notify.handler.lambda_handler",
            ["runtime", "common"],
            256,
            30,
            {"TABLE_NAME"},
        ),
        (
            "FailureStageFunction",
            "fileflow_stages.failure.handler.lambda_handler",
            ["runtime", "common"],
            256,
            30,
            {"TABLE_NAME"},
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
            "fileflow_api.uploads.sweeper_handler.lambda_handler",
            ["runtime", "common"],
            256,
            120,
            {"BUCKET_NAME", "TABLE_NAME", "WEBHOOK_QUEUE_URL"},
        ),
        (
            "WebhookSenderFunction",
            "fileflow_webhooks.handler.lambda_handler",
            ["runtime", "webhooks", "common"],
            256,
            60,
            {
                "TABLE_NAME",
                "WEBHOOK_QUEUE_URL",
                "WEBHOOK_RETRY_SCHEDULE",
                "WEBHOOK_DISABLE_AFTER",
                "WEBHOOKS_ALLOW_LOCAL_HTTP",
            },
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
        "crypto": synthesized.logical_id(stack_layers.crypto),
        "images": synthesized.logical_id(stack_layers.images),
        "documents": synthesized.logical_id(stack_layers.documents),
        "video": synthesized.logical_id(stack_layers.video),
        "analysis": synthesized.logical_id(stack_layers.analysis),
        "webhooks": synthesized.logical_id(stack_layers.webhooks),
        "ai": synthesized.logical_id(stack_layers.ai),
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
    # runtime, crypto, api, images, documents, video, analysis, ai, webhooks, common, web
    assert len(layers) == 11
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
    assert variables["QUEUE_URL"] == {"Ref": synthesized.logical_id(stack.intake.queue)}
    assert json.loads(variables["ALLOWED_ORIGINS"]) == list(DEFAULT_ALLOWED_ORIGINS)


def test_starter_env_names_the_workflow_and_the_table(synthesized: Synthesized) -> None:
    # Given the starter function
    stack = synthesized.stack
    # When reading its environment
    variables = synthesized.resources["StarterFunction"]["Properties"]["Environment"]["Variables"]
    # Then it starts executions of this stack's state machine and records files in its table
    assert variables["STATE_MACHINE_ARN"] == {"Ref": synthesized.logical_id(stack.pipeline.state_machine)}
    assert variables["TABLE_NAME"] == {"Ref": synthesized.logical_id(stack.metadata.table)}


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


CONTENT_STAGE_S3_ACTIONS = {
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


@pytest.mark.parametrize("stage", STAGES, ids=lambda stage: stage.name)
def test_each_stage_reads_originals_and_writes_derivatives_only(
    synthesized: Synthesized, stage: StageSpec
) -> None:
    # Given one stage function's role
    bucket_id = synthesized.logical_id(synthesized.stack.storage.bucket)
    role_id = synthesized.resources[stage.construct_id]["Properties"]["Role"]["Fn::GetAtt"][0]
    statements = _role_statements(synthesized, role_id)
    # When collecting its S3 actions, and the statements that allow s3:PutObject
    s3_actions = {action for s in statements for action in _as_list(s["Action"]) if action.startswith("s3:")}
    put_statements = [s for s in statements if "s3:PutObject" in _as_list(s["Action"])]
    # Then a content stage reads (any version) and writes nothing but keys under derived/: never an
    # original, so no derivative can start a workflow; detect only reads; the others never touch S3
    expected = {
        "read_write": CONTENT_STAGE_S3_ACTIONS,
        "read": {"s3:GetObject*", "s3:GetBucket*", "s3:List*"},
        "none": set(),
    }[stage.bucket]
    assert s3_actions == expected
    if stage.bucket == "read_write":
        assert len(put_statements) == 1
        assert put_statements[0]["Resource"] == {
            "Fn::Join": ["", [{"Fn::GetAtt": [bucket_id, "Arn"]}, "/derived/*"]]
        }
