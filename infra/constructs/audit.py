"""The audit log's table: append-only for the API (PutItem and Query only), PITR, expiring by TTL."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from constructs import Construct

AUDIT_TTL_ATTRIBUTE = "expires_at"
# Exactly what appending and reading one's own events needs: no UpdateItem, DeleteItem or BatchWriteItem.
AUDIT_WRITER_ACTIONS = ("dynamodb:PutItem", "dynamodb:Query")


class AuditLog(Construct):
    """``USER#{user_id}`` / ``{at}#{event_id}``: one partition per user, events in time order."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.table = dynamodb.Table(
            self,
            "AuditTable",
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.STRING),
            time_to_live_attribute=AUDIT_TTL_ATTRIBUTE,
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            # Like every table of the stack (local stacks come and go); choose RETAIN per environment.
            removal_policy=RemovalPolicy.DESTROY,
        )

    def grant_put(self, grantee: iam.IGrantable) -> iam.Grant:
        """Append events only (a function that records, never reads, the trail)."""
        return self.table.grant(grantee, "dynamodb:PutItem")

    def grant_append(self, grantee: iam.IGrantable) -> iam.Grant:
        """Append events and read them back; never change or delete one."""
        return self.table.grant(grantee, *AUDIT_WRITER_ACTIONS)
