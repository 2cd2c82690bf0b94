"""Fixes to LocalStack community's CloudFormation resource providers that our stack needs.

``AWS::ApiGateway::Stage`` has no ``update``: when a stack update creates a new
``AWS::ApiGateway::Deployment`` (CDK does so whenever the API's methods change), the stage keeps
pointing at the old deployment, and deleting that deployment then deletes the stage, leaving the
API without its stage ("API id ... does not correspond to a deployed API Gateway API"). Here the
stage is updated in place, as CloudFormation does on AWS.
"""

from __future__ import annotations

import json
from typing import Any

from localstack.runtime import hooks
from localstack.services.apigateway.resource_providers.aws_apigateway_stage import ApiGatewayStageProvider
from localstack.services.cloudformation.resource_provider import (
    OperationStatus,
    ProgressEvent,
    ResourceRequest,
)

# CloudFormation property -> API Gateway patch path, for the scalar settings a stage update may change.
SCALAR_PATHS = {
    "DeploymentId": "/deploymentId",
    "Description": "/description",
    "TracingEnabled": "/tracingEnabled",
    "CacheClusterEnabled": "/cacheClusterEnabled",
    "CacheClusterSize": "/cacheClusterSize",
}


def _patch_value(value: Any) -> str:
    return json.dumps(value) if isinstance(value, bool) else str(value)


def stage_patch_operations(previous: dict[str, Any], desired: dict[str, Any]) -> list[dict[str, str]]:
    """The update_stage operations that turn the previous properties into the desired ones."""
    operations = []
    for prop, path in SCALAR_PATHS.items():
        if desired.get(prop) is not None and desired.get(prop) != previous.get(prop):
            operations.append({"op": "replace", "path": path, "value": _patch_value(desired[prop])})
    old_variables = previous.get("Variables") or {}
    new_variables = desired.get("Variables") or {}
    for name in old_variables.keys() - new_variables.keys():
        operations.append({"op": "remove", "path": f"/variables/{name}"})
    for name, value in new_variables.items():
        if old_variables.get(name) != value:
            operations.append({"op": "replace", "path": f"/variables/{name}", "value": str(value)})
    old_log = previous.get("AccessLogSetting") or {}
    for key, value in (desired.get("AccessLogSetting") or {}).items():
        if value and old_log.get(key) != value:
            path_key = key[0].lower() + key[1:]
            operations.append(
                {"op": "replace", "path": f"/accessLogSettings/{path_key}", "value": str(value)}
            )
    return operations


def update_stage(self: ApiGatewayStageProvider, request: ResourceRequest[Any]) -> ProgressEvent[Any]:
    model = request.desired_state
    previous = request.previous_state or {}
    apigw = request.aws_client_factory.apigateway
    stage_name = previous.get("StageName") or model.get("StageName", "default")
    if (
        model.get("RestApiId") != previous.get("RestApiId")
        or model.get("StageName", stage_name) != stage_name
    ):
        # a replacement, not an update: create the new stage (CloudFormation deletes the old one)
        return self.create(request)
    operations = stage_patch_operations(previous, model)
    if operations:
        apigw.update_stage(restApiId=model["RestApiId"], stageName=stage_name, patchOperations=operations)
    model["StageName"] = stage_name
    return ProgressEvent(
        status=OperationStatus.SUCCESS, resource_model=model, custom_context=request.custom_context
    )


@hooks.on_infra_start()
def implement_apigateway_stage_update() -> None:
    ApiGatewayStageProvider.update = update_stage  # type: ignore[method-assign]
