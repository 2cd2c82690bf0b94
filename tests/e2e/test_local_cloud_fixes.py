"""The local cloud's fixes to LocalStack community's CloudFormation (tools/localstack_host/cfn_fixes.py)
and the resource types it adds (cfn_dashboard.py)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from mypy_boto3_cloudformation.type_defs import WaiterConfigTypeDef

from infra import outputs as names
from tools.stack import StackOutputs, client_kwargs, endpoint_url

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


def dashboard_template(title: str) -> str:
    body = {
        "widgets": [
            {"type": "text", "x": 0, "y": 0, "width": 6, "height": 2, "properties": {"markdown": title}}
        ]
    }
    resources = {
        "Board": {
            "Type": "AWS::CloudWatch::Dashboard",
            "Properties": {"DashboardName": {"Ref": "AWS::StackName"}, "DashboardBody": json.dumps(body)},
        }
    }
    return json.dumps({"Resources": resources, "Outputs": {"Name": {"Value": {"Ref": "Board"}}}})


def test_a_dashboard_is_created_updated_and_deleted_by_cloudformation(local_cloud: None):
    cloudformation = boto3.client("cloudformation", **client_kwargs())
    cloudwatch = boto3.client("cloudwatch", **client_kwargs())
    name = f"dashboard-{uuid.uuid4().hex[:8]}"
    # Given a stack holding a dashboard
    cloudformation.create_stack(StackName=name, TemplateBody=dashboard_template("first"))
    cloudformation.get_waiter("stack_create_complete").wait(StackName=name, WaiterConfig=FAST)
    try:
        # Then CloudWatch holds it, and Ref names it
        (output,) = cloudformation.describe_stacks(StackName=name)["Stacks"][0]["Outputs"]
        assert output["OutputValue"] == name
        body = json.loads(cloudwatch.get_dashboard(DashboardName=name)["DashboardBody"])
        assert body["widgets"][0]["properties"]["markdown"] == "first"
        # When the stack is updated with another body, the dashboard changes with it
        cloudformation.update_stack(StackName=name, TemplateBody=dashboard_template("second"))
        cloudformation.get_waiter("stack_update_complete").wait(StackName=name, WaiterConfig=FAST)
        body = json.loads(cloudwatch.get_dashboard(DashboardName=name)["DashboardBody"])
        assert body["widgets"][0]["properties"]["markdown"] == "second"
    finally:
        cloudformation.delete_stack(StackName=name)
        cloudformation.get_waiter("stack_delete_complete").wait(StackName=name, WaiterConfig=FAST)
    # And deleting the stack deletes it
    names = [entry["DashboardName"] for entry in cloudwatch.list_dashboards()["DashboardEntries"]]
    assert name not in names


def test_the_deployed_stack_has_its_dashboard(stack: StackOutputs):
    cloudwatch = boto3.client("cloudwatch", **client_kwargs())
    body = json.loads(cloudwatch.get_dashboard(DashboardName=stack[names.DASHBOARD_NAME])["DashboardBody"])
    titles = {widget["properties"].get("title") for widget in body["widgets"]}
    assert "API 4xx / 5xx" in titles
    # its metrics name the deployed resources: the state machine's executions among them
    state_machine = stack[names.STATE_MACHINE_ARN]
    assert state_machine in json.dumps(body)
