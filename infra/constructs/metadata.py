"""DynamoDB: the single metadata table (docs/architecture.md)."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

GSI1_NAME = "gsi1"
# The files listing indexes (docs/architecture.md, "Access patterns"): by status, and by name.
GSI2_NAME = "gsi2"
GSI3_NAME = "gsi3"
METADATA_TTL_ATTRIBUTE = "expires_at"


def _string(name: str) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=name, type=dynamodb.AttributeType.STRING)


def _table(
    scope: Construct,
    construct_id: str,
    *,
    partition_key: str,
    sort_key: str | None = None,
    ttl_attribute: str,
) -> dynamodb.Table:
    return dynamodb.Table(
        scope,
        construct_id,
        partition_key=_string(partition_key),
        sort_key=_string(sort_key) if sort_key else None,
        time_to_live_attribute=ttl_attribute,
        billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
        encryption=dynamodb.TableEncryption.AWS_MANAGED,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
        removal_policy=RemovalPolicy.DESTROY,
    )


class Metadata(Construct):
    """Files, processing jobs, their stage events and upload sessions in one table."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.table = _table(
            self,
            "MetadataTable",
            partition_key="pk",
            sort_key="sk",
            ttl_attribute=METADATA_TTL_ATTRIBUTE,
        )
        # gsi1: expired upload sessions (the sweeper) and a user's files by creation date (overloaded).
        for index_name in (GSI1_NAME, GSI2_NAME, GSI3_NAME):
            self.table.add_global_secondary_index(
                index_name=index_name,
                partition_key=_string(f"{index_name}pk"),
                sort_key=_string(f"{index_name}sk"),
                projection_type=dynamodb.ProjectionType.ALL,
            )
