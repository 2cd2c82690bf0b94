"""Which cloud the template is deployed to, decided by CloudFormation itself at deploy time.

One condition, true only in LocalStack's default account (000000000000, never an AWS account), so the
same template deploys unchanged to both clouds: what differs (no Lambda authorizer invoked locally, no
X-Ray daemon to send traces to) is an `Fn::If` on it.
"""

from __future__ import annotations

from aws_cdk import Aws, CfnCondition, Fn, Stack
from constructs import IConstruct

LOCALSTACK_ACCOUNT_ID = "000000000000"
CONDITION_ID = "OnLocalCloud"


def on_local_cloud(scope: IConstruct) -> CfnCondition:
    """The stack's one `OnLocalCloud` condition (created the first time it is asked for)."""
    stack = Stack.of(scope)
    existing = stack.node.try_find_child(CONDITION_ID)
    if isinstance(existing, CfnCondition):
        return existing
    return CfnCondition(
        stack, CONDITION_ID, expression=Fn.condition_equals(Aws.ACCOUNT_ID, LOCALSTACK_ACCOUNT_ID)
    )


def local_or_aws(scope: IConstruct, *, local: str, aws: str) -> str:
    """A value that is `local` on the local cloud and `aws` on AWS."""
    return Fn.condition_if(on_local_cloud(scope).logical_id, local, aws).to_string()
