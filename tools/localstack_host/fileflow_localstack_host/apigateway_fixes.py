"""API Gateway on the local cloud invokes a Lambda integration once per request, as AWS does.

LocalStack's REST API integration invokes the function with an internal boto3 client built with
botocore's defaults: a 60 s read timeout and retries. An invocation that waits for the host's capacity
(capacity.py) past 60 s was therefore invoked a second time, and both ran: under 100 concurrent
uploads, 19 initiates each created two upload sessions, one of them never answered to the client.
API Gateway never repeats an integration request; a non-idempotent route (POST /v1/uploads) relies
on that. This client does not retry, and waits as long as the longest Lambda timeout (15 min): the
caller's own timeout decides when to give up, as a client's does on AWS.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from localstack.runtime import hooks

# Lambda's longest function timeout; the host may queue an invocation before it starts.
READ_TIMEOUT_SECONDS = 15 * 60


def single_attempt_factory(factory: Any) -> Any:
    """`get_service_factory(region_name, role_arn)` whose clients never retry and wait long."""
    if getattr(factory, "fileflow_single_attempt", False):
        return factory
    from botocore.config import Config
    from localstack.aws.connect import connect_to
    from localstack.utils.aws.client_types import ServicePrincipal

    config = Config(retries={"total_max_attempts": 1}, read_timeout=READ_TIMEOUT_SECONDS)

    @lru_cache(maxsize=64)
    def get_service_factory(region_name: str, role_arn: str) -> Any:
        if role_arn:
            return connect_to.with_assumed_role(
                role_arn=role_arn,
                region_name=region_name,
                service_principal=ServicePrincipal.apigateway,
                session_name="BackplaneAssumeRoleSession",
                config=config,
            )
        return connect_to(region_name=region_name, config=config)

    get_service_factory.fileflow_single_attempt = True  # type: ignore[attr-defined]
    return get_service_factory


@hooks.on_infra_start()
def invoke_lambda_integrations_once() -> None:
    from localstack.services.apigateway.next_gen.execute_api.integrations import aws

    # `call_lambda` looks the factory up in its module at each call.
    aws.get_service_factory = single_attempt_factory(aws.get_service_factory)
