"""Stack updates reach the resources on the local cloud (tools/localstack_host cfn_updates.py).

LocalStack community skips updates of buckets and tables and reports success; a small stack of
its own shows that a new CORS origin and a new GSI are applied, as CloudFormation applies them.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import boto3
import pytest

from tests.e2e.conftest import AwsClients
from tools.stack import client_kwargs, endpoint_url

pytestmark = pytest.mark.skipif(endpoint_url() is None, reason="exercises the local cloud's update fixes")

FIRST_ORIGIN = "http://first.example"
NEW_ORIGIN = "http://new.example"


def template(*, origins: list[str], with_index: bool) -> str:
    table: dict[str, Any] = {
        "Type": "AWS::DynamoDB::Table",
        "Properties": {
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        },
    }
    if with_index:
        table["Properties"]["AttributeDefinitions"].append({"AttributeName": "byName", "AttributeType": "S"})
        table["Properties"]["GlobalSecondaryIndexes"] = [
            {
                "IndexName": "ByName",
                "KeySchema": [{"AttributeName": "byName", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ]
        table["Properties"]["TimeToLiveSpecification"] = {"AttributeName": "expiresAt", "Enabled": True}
    bucket = {
        "Type": "AWS::S3::Bucket",
        "Properties": {
            "CorsConfiguration": {
                "CorsRules": [{"AllowedMethods": ["PUT"], "AllowedOrigins": origins, "AllowedHeaders": ["*"]}]
            }
        },
    }
    return json.dumps(
        {
            "Resources": {"Uploads": bucket, "Files": table},
            "Outputs": {"Bucket": {"Value": {"Ref": "Uploads"}}, "Table": {"Value": {"Ref": "Files"}}},
        }
    )


@pytest.fixture
def cloudformation(local_cloud: None) -> Any:
    return boto3.client("cloudformation", **client_kwargs())


def outputs(cloudformation: Any, name: str) -> dict[str, str]:
    stack = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
    return {output["OutputKey"]: output["OutputValue"] for output in stack["Outputs"]}


def test_an_update_adds_a_cors_origin_and_an_index(cloudformation: Any, aws: AwsClients):
    # Given a stack with a bucket allowing one origin and a table without indexes
    name = f"updates-{uuid.uuid4().hex[:8]}"
    cloudformation.create_stack(
        StackName=name, TemplateBody=template(origins=[FIRST_ORIGIN], with_index=False)
    )
    cloudformation.get_waiter("stack_create_complete").wait(StackName=name, WaiterConfig={"Delay": 1})
    try:
        created = outputs(cloudformation, name)
        # When the stack is updated with a second origin, a GSI and a TTL
        cloudformation.update_stack(
            StackName=name, TemplateBody=template(origins=[FIRST_ORIGIN, NEW_ORIGIN], with_index=True)
        )
        cloudformation.get_waiter("stack_update_complete").wait(StackName=name, WaiterConfig={"Delay": 1})
        # Then the same bucket allows both origins
        assert outputs(cloudformation, name) == created
        rules = aws.s3.get_bucket_cors(Bucket=created["Bucket"])["CORSRules"]
        assert [rule["AllowedOrigins"] for rule in rules] == [[FIRST_ORIGIN, NEW_ORIGIN]]
        # and the same table has the index, and expires items
        table = aws.dynamodb.describe_table(TableName=created["Table"])["Table"]
        assert [index["IndexName"] for index in table.get("GlobalSecondaryIndexes", [])] == ["ByName"]
        ttl = aws.dynamodb.describe_time_to_live(TableName=created["Table"])["TimeToLiveDescription"]
        assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expiresAt"}
    finally:
        cloudformation.delete_stack(StackName=name)
        cloudformation.get_waiter("stack_delete_complete").wait(StackName=name, WaiterConfig={"Delay": 1})
