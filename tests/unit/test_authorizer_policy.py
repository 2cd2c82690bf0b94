"""The IAM policy the authorizer answers for a verified user."""

from __future__ import annotations

from fileflow_authorizer.policy import allow_policy
from fileflow_common.tokens import TokenClaims
from tests.events import load_event


def test_policy_allows_the_whole_stage_as_the_user() -> None:
    # Given alice's verified claims and the ARN of the method she called
    claims = TokenClaims(
        sub="alice", iss="fileflow", aud="fileflow-api", exp=2_000_000_000, iat=1_900_000_000
    )
    method_arn = load_event("authorizer/token")["methodArn"]
    # When the policy is built
    policy = allow_policy(claims, method_arn)
    # Then she is the principal, her id rides in the context, and every method and path of the stage
    # is allowed: API Gateway caches the answer per token and reuses it for her other routes
    assert policy == {
        "principalId": "alice",
        "context": {"user_id": "alice"},
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": "execute-api:Invoke",
                    "Effect": "Allow",
                    "Resource": ["arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/prod/*/*"],
                }
            ],
        },
    }
