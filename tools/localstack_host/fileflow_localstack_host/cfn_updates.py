"""Stack updates that LocalStack community's CloudFormation skips, applied as CloudFormation would.

Its ``AWS::S3::Bucket`` and ``AWS::DynamoDB::Table`` providers have no ``update``: LocalStack logs
"Unable to update resource type" and reports the update as done, keeping the old resource. A new
entry in ``allowed_origins`` then never reaches the bucket's CORS rules, and a GSI added to the table
is never created. These updates apply what a stack of ours can change in place: a bucket's CORS
rules, versioning, tags and notifications; a table's GSIs (one change per UpdateTable call, as
DynamoDB requires), TTL, stream and point-in-time recovery. A change that needs a replacement (a new
name) is created as new, as CloudFormation does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from localstack.runtime import hooks
from localstack.services.cloudformation.resource_provider import (
    OperationStatus,
    ProgressEvent,
    ResourceRequest,
)
from localstack.services.dynamodb.resource_providers.aws_dynamodb_table import DynamoDBTableProvider
from localstack.services.s3.resource_providers.aws_s3_bucket import S3BucketProvider

Properties = dict[str, Any]


def changed(previous: Mapping[str, Any], desired: Mapping[str, Any], name: str) -> bool:
    return previous.get(name) != desired.get(name)


def _done(request: ResourceRequest[Any], model: Properties) -> ProgressEvent[Any]:
    return ProgressEvent(
        status=OperationStatus.SUCCESS, resource_model=model, custom_context=request.custom_context
    )


# --- S3 bucket -------------------------------------------------------------------------------------


def update_bucket(self: S3BucketProvider, request: ResourceRequest[Any]) -> ProgressEvent[Any]:
    model: Properties = request.desired_state
    previous: Properties = request.previous_state or {}
    if model.get("BucketName") and model["BucketName"] != previous.get("BucketName"):
        return self.create(request)  # a new name is a replacement: CloudFormation deletes the old one
    model["BucketName"] = bucket = previous["BucketName"]
    s3 = request.aws_client_factory.s3
    if changed(previous, model, "CorsConfiguration"):
        if cors := self._transform_cfn_cors(model.get("CorsConfiguration")):
            s3.put_bucket_cors(Bucket=bucket, CORSConfiguration=cors)
        else:
            s3.delete_bucket_cors(Bucket=bucket)
    if changed(previous, model, "VersioningConfiguration") and (
        versioning := model.get("VersioningConfiguration")
    ):
        s3.put_bucket_versioning(
            Bucket=bucket, VersioningConfiguration={"Status": versioning.get("Status", "Suspended")}
        )
    if changed(previous, model, "Tags"):
        if tags := model.get("Tags"):
            s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tags})
        else:
            s3.delete_bucket_tagging(Bucket=bucket)
    if changed(previous, model, "NotificationConfiguration"):
        notifications = self._get_s3_bucket_notification_config(model) or {
            "Bucket": bucket,
            "NotificationConfiguration": {},
        }
        s3.put_bucket_notification_configuration(**notifications)
    self._setup_post_creation_attributes(model, request.region_name)
    return _done(request, model)


# --- DynamoDB table --------------------------------------------------------------------------------


def index_changes(previous: Properties, desired: Properties) -> list[dict[str, Any]]:
    """The GSI updates, deletions first, one per UpdateTable call (DynamoDB's rule)."""
    old = {index["IndexName"]: index for index in previous.get("GlobalSecondaryIndexes") or []}
    new = {index["IndexName"]: index for index in desired.get("GlobalSecondaryIndexes") or []}
    updates: list[dict[str, Any]] = []
    for name in sorted(old.keys() - new.keys()):
        updates.append({"Delete": {"IndexName": name}})
    for name in sorted(new.keys() - old.keys()):
        index = new[name]
        create = {key: index[key] for key in ("IndexName", "KeySchema", "Projection") if key in index}
        if index.get("ProvisionedThroughput"):
            create["ProvisionedThroughput"] = index["ProvisionedThroughput"]
        updates.append({"Create": create})
    return updates


def update_table(self: DynamoDBTableProvider, request: ResourceRequest[Any]) -> ProgressEvent[Any]:
    model: Properties = request.desired_state
    previous: Properties = request.previous_state or {}
    if model.get("TableName") and model["TableName"] != previous.get("TableName"):
        return self.create(request)  # a new name is a replacement
    model["TableName"] = table = previous["TableName"]
    dynamodb = request.aws_client_factory.dynamodb
    self.get_ddb_global_sec_indexes(model)  # normalises the GSIs' throughput as create does
    for update in index_changes(previous, model):
        dynamodb.update_table(
            TableName=table,
            AttributeDefinitions=model["AttributeDefinitions"],
            GlobalSecondaryIndexUpdates=[update],
        )
    if changed(previous, model, "TimeToLiveSpecification"):
        ttl = model.get("TimeToLiveSpecification") or previous.get("TimeToLiveSpecification")
        if ttl:
            dynamodb.update_time_to_live(
                TableName=table,
                TimeToLiveSpecification={
                    "AttributeName": ttl["AttributeName"],
                    "Enabled": bool(model.get("TimeToLiveSpecification", {}).get("Enabled")),
                },
            )
    if changed(previous, model, "StreamSpecification"):
        stream = model.get("StreamSpecification")
        dynamodb.update_table(
            TableName=table,
            StreamSpecification={"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]}
            if stream
            else {"StreamEnabled": False},
        )
    if changed(previous, model, "PointInTimeRecoverySpecification"):
        enabled = bool(
            (model.get("PointInTimeRecoverySpecification") or {}).get("PointInTimeRecoveryEnabled")
        )
        dynamodb.update_continuous_backups(
            TableName=table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": enabled}
        )
    description = dynamodb.describe_table(TableName=table)["Table"]
    model["Arn"] = description["TableArn"]
    if description.get("LatestStreamArn"):
        model["StreamArn"] = description["LatestStreamArn"]
    return _done(request, model)


@hooks.on_infra_start()
def implement_bucket_and_table_updates() -> None:
    S3BucketProvider.update = update_bucket  # type: ignore[method-assign]
    DynamoDBTableProvider.update = update_table  # type: ignore[method-assign]
