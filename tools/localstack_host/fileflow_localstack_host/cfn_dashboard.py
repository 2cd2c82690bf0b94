"""A CloudFormation resource provider for ``AWS::CloudWatch::Dashboard``, which LocalStack community lacks.

Without it the community edition skips the resource (it ignores unsupported types) and the stack's
dashboard never exists locally. CloudWatch's own API (``PutDashboard``, ``GetDashboard``,
``DeleteDashboards``) is there: this provider only drives it, as CloudFormation does on AWS, so the
template stays the same on both clouds and ``aws cloudwatch get-dashboard`` returns the deployed body.
"""

from __future__ import annotations

from typing import Any, TypedDict

from botocore.exceptions import ClientError
from localstack.services.cloudformation.resource_provider import (
    CloudFormationResourceProviderPlugin,
    OperationStatus,
    ProgressEvent,
    ResourceProvider,
    ResourceRequest,
)

TYPE = "AWS::CloudWatch::Dashboard"
# DeleteDashboards' answers for a name that does not exist
_GONE = frozenset({"ResourceNotFound", "DashboardNotFoundError"})


class DashboardProperties(TypedDict, total=False):
    DashboardName: str
    DashboardBody: str


# The parts of AWS's resource schema the CloudFormation engine reads (identifier, create-only names).
SCHEMA: dict[str, Any] = {
    "typeName": TYPE,
    "properties": {
        "DashboardName": {"type": "string"},
        "DashboardBody": {"type": "string"},
    },
    "required": ["DashboardBody"],
    "createOnlyProperties": ["/properties/DashboardName"],
    "primaryIdentifier": ["/properties/DashboardName"],
    "additionalProperties": False,
}


def dashboard_name(request: ResourceRequest[DashboardProperties]) -> str:
    """The given name, or CloudFormation's kind of generated one: `<logical id>-<suffix>`."""
    given = request.desired_state.get("DashboardName")
    if given:
        return given
    suffix = request.stack_id.rsplit("/", 1)[-1].replace("-", "")[:12] if request.stack_id else "local"
    return f"{request.logical_resource_id}-{suffix}"


class CloudWatchDashboardProvider(ResourceProvider[DashboardProperties]):
    TYPE = TYPE
    SCHEMA = SCHEMA

    def create(self, request: ResourceRequest[DashboardProperties]) -> ProgressEvent[DashboardProperties]:
        model = request.desired_state
        model["DashboardName"] = dashboard_name(request)
        request.aws_client_factory.cloudwatch.put_dashboard(
            DashboardName=model["DashboardName"], DashboardBody=model["DashboardBody"]
        )
        return ProgressEvent(status=OperationStatus.SUCCESS, resource_model=model)

    def read(self, request: ResourceRequest[DashboardProperties]) -> ProgressEvent[DashboardProperties]:
        name = request.desired_state["DashboardName"]
        found = request.aws_client_factory.cloudwatch.get_dashboard(DashboardName=name)
        model: DashboardProperties = {"DashboardName": name, "DashboardBody": found["DashboardBody"]}
        return ProgressEvent(status=OperationStatus.SUCCESS, resource_model=model)

    def update(self, request: ResourceRequest[DashboardProperties]) -> ProgressEvent[DashboardProperties]:
        previous = request.previous_state or {}
        if request.desired_state.get("DashboardName", previous.get("DashboardName")) != previous.get(
            "DashboardName"
        ):
            return self.create(request)  # a new name is a replacement: CloudFormation deletes the old one
        model = request.desired_state
        model["DashboardName"] = previous["DashboardName"]
        request.aws_client_factory.cloudwatch.put_dashboard(
            DashboardName=model["DashboardName"], DashboardBody=model["DashboardBody"]
        )
        return ProgressEvent(status=OperationStatus.SUCCESS, resource_model=model)

    def delete(self, request: ResourceRequest[DashboardProperties]) -> ProgressEvent[DashboardProperties]:
        model = request.desired_state
        name = model.get("DashboardName") or (request.previous_state or {}).get("DashboardName")
        if name:
            try:
                request.aws_client_factory.cloudwatch.delete_dashboards(DashboardNames=[name])
            except ClientError as error:
                if error.response["Error"]["Code"] not in _GONE:
                    raise  # already gone: the delete succeeded
        return ProgressEvent(status=OperationStatus.SUCCESS, resource_model=model)


class CloudWatchDashboardProviderPlugin(CloudFormationResourceProviderPlugin):
    """Registered under the type's name, like the community edition's own providers (pyproject.toml)."""

    name = TYPE

    def __init__(self) -> None:
        self.factory: type[ResourceProvider[Any]] | None = None

    def load(self) -> None:
        self.factory = CloudWatchDashboardProvider
