"""The local cloud's fixes to LocalStack community's CloudFormation (tools/localstack_host/cfn_fixes.py)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from mypy_boto3_cloudformation.type_defs import WaiterConfigTypeDef

from tools.stack import client_kwargs, endpoint_url

pytestmark = pytest.mark.skipif(endpoint_url() is None, reason="a LocalStack-specific fix")

# CloudFormation waiters poll every 30 s by default; a local stack settles in seconds
FAST: WaiterConfigTypeDef = {"Delay": 1, "MaxAttempts": 120}


def rest_api_template(methods: list[str]) -> str:
    """A REST API whose Deployment's logical id changes with its methods, as CDK makes it."""
    resources: dict[str, Any] = {
        "Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": "stage-update-test"}},
    }
    for method in methods:
        resources[f"Method{method}"] = {
            "Type": "AWS::ApiGateway::Method",
            "Properties": {
                "RestApiId": {"Ref": "Api"},
                "ResourceId": {"Fn::GetAtt": ["Api", "RootResourceId"]},
                "HttpMethod": method,
                "AuthorizationType": "NONE",
                "Integration": {"Type": "MOCK"},
            },
        }
    deployment = f"Deployment{''.join(methods)}"
    resources[deployment] = {
        "Type": "AWS::ApiGateway::Deployment",
        "Properties": {"RestApiId": {"Ref": "Api"}},
        "DependsOn": [f"Method{m}" for m in methods],
    }
    resources["Stage"] = {
        "Type": "AWS::ApiGateway::Stage",
        "Properties": {"RestApiId": {"Ref": "Api"}, "StageName": "prod", "DeploymentId": {"Ref": deployment}},
    }
    return json.dumps({"Resources": resources, "Outputs": {"ApiId": {"Value": {"Ref": "Api"}}}})


def test_stack_update_with_a_new_deployment_keeps_the_stage(local_cloud: None):
    cloudformation = boto3.client("cloudformation", **client_kwargs())
    apigateway = boto3.client("apigateway", **client_kwargs())
    name = f"stage-update-{uuid.uuid4().hex[:8]}"
    # Given a deployed REST API with a stage
    cloudformation.create_stack(StackName=name, TemplateBody=rest_api_template(["GET"]))
    cloudformation.get_waiter("stack_create_complete").wait(StackName=name, WaiterConfig=FAST)
    try:
        api_id = cloudformation.describe_stacks(StackName=name)["Stacks"][0]["Outputs"][0]["OutputValue"]
        first = apigateway.get_stage(restApiId=api_id, stageName="prod")["deploymentId"]
        # When an update adds a method, so a new Deployment replaces the old one
        cloudformation.update_stack(StackName=name, TemplateBody=rest_api_template(["GET", "POST"]))
        cloudformation.get_waiter("stack_update_complete").wait(StackName=name, WaiterConfig=FAST)
        # Then the stage still exists and serves the new deployment
        stage = apigateway.get_stage(restApiId=api_id, stageName="prod")
        assert stage["deploymentId"] != first
        deployments = {d["id"] for d in apigateway.get_deployments(restApiId=api_id)["items"]}
        assert stage["deploymentId"] in deployments
    except ClientError as error:
        pytest.fail(f"the stage did not survive the update: {error}")
    finally:
        cloudformation.delete_stack(StackName=name)
