"""cdk-nag (v3) acknowledgments: each one names the exact finding and says why it is acceptable.

cdk-nag 3 runs as a CDK policy-validation plugin; an acknowledgment on a construct covers its children.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, CfnResource, Stack, Validations
from constructs import IConstruct


def acknowledge(scope: IConstruct, rule_id: str, reason: str) -> None:
    """Acknowledge one finding, e.g. `AwsSolutions-IAM5[Action::s3:List*]`, on scope and its children."""
    Validations.of(scope).acknowledge(Acknowledgment(id=rule_id, reason=reason))


def arn_in_finding(resource: IConstruct) -> str:
    """How cdk-nag writes a resource's `Fn::GetAtt Arn` in a finding id: `<LogicalId.Arn>`."""
    cfn_resource = resource.node.default_child
    assert isinstance(cfn_resource, CfnResource), f"{resource.node.path} has no CloudFormation resource"
    stack = Stack.of(resource)
    return f"<{stack.resolve(stack.get_logical_id(cfn_resource))}.Arn>"


# Findings that CDK's own grant_* methods produce: least privilege as CDK scopes it, acknowledged here once.
def acknowledge_bucket_grant_read(role: IConstruct, bucket: IConstruct) -> None:
    """Findings of `bucket.grant_read(fn)`: read-only actions on this one bucket and its objects."""
    reason = "bucket.grant_read(): read-only object and bucket actions, on this bucket and its objects only."
    for finding in ("Action::s3:GetObject*", "Action::s3:GetBucket*", "Action::s3:List*"):
        acknowledge(role, f"AwsSolutions-IAM5[{finding}]", reason)
    acknowledge(role, f"AwsSolutions-IAM5[Resource::{arn_in_finding(bucket)}/*]", reason)


def acknowledge_bucket_grant_put(role: IConstruct, bucket: IConstruct, key_pattern: str) -> None:
    """Findings of `bucket.grant_put(fn, key_pattern)`: writes and multipart aborts under one prefix."""
    reason = (
        f"bucket.grant_put(): PutObject* and AbortMultipartUpload (s3:Abort*) on keys {key_pattern} only."
    )
    acknowledge(role, "AwsSolutions-IAM5[Action::s3:Abort*]", reason)
    acknowledge(role, f"AwsSolutions-IAM5[Resource::{arn_in_finding(bucket)}/{key_pattern}]", reason)


def acknowledge_table_index_access(role: IConstruct, table: IConstruct) -> None:
    """Finding of `table.grant_read_write_data(fn)` on a table with a GSI: queries of its indexes."""
    acknowledge(
        role,
        f"AwsSolutions-IAM5[Resource::{arn_in_finding(table)}/index/*]",
        "table.grant_*_data(): the indexes of this one table (gsi1), which the function queries.",
    )


def acknowledge_bucket_grant_delete(role: IConstruct, bucket: IConstruct, key_pattern: str) -> None:
    """Findings of `bucket.grant_delete(fn, key_pattern)`: deleting objects (and versions) under a prefix."""
    reason = (
        f"bucket.grant_delete(): s3:DeleteObject* (objects and their versions) on keys {key_pattern} only, "
        "which DELETE /v1/files/{id} and the processor's clean-up of deleted files need."
    )
    acknowledge(role, "AwsSolutions-IAM5[Action::s3:DeleteObject*]", reason)
    acknowledge(role, f"AwsSolutions-IAM5[Resource::{arn_in_finding(bucket)}/{key_pattern}]", reason)
