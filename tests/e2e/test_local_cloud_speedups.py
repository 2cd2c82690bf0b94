"""The local cloud's speed-ups and its API Gateway fix (tools/localstack_host: gateway_speedups.py,
stepfunctions_speedups.py, apigateway_fixes.py), run in LocalStack's own interpreter against the
twisted, botocore and LocalStack code they wrap, and the host capacity of its executor (capacity.py)
on the running local cloud."""

from __future__ import annotations

import json
import subprocess
import textwrap
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from botocore.config import Config

from fileflow_localstack_host.capacity import host_concurrency
from tests.e2e.conftest import AwsClients
from tests.e2e.test_executor import create_function, invoke
from tools import localcloud
from tools.stack import client_kwargs, endpoint_url

pytestmark = pytest.mark.skipif(endpoint_url() is None, reason="LocalStack-specific fixes")


def in_localstack(code: str) -> Any:
    """Run `code` in LocalStack's venv; it prints one JSON value, returned here."""
    result = subprocess.run(
        [str(localcloud.VENV / "bin" / "python"), "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_content_type_cache_answers_as_twisted_does(local_cloud: None):
    answers = in_localstack(
        """
        import json
        from twisted.web import http
        from fileflow_localstack_host.gateway_speedups import cached_content_type
        values = [b"application/x-amz-json-1.0", b"Application/JSON; charset=UTF-8",
                  b'multipart/form-data; boundary="x;y"', b"text/plain", b"", b"not a type",
                  b"application/x-www-form-urlencoded; charset=utf-8"]
        original = http._parseContentType
        cached = cached_content_type(original)
        first = [cached(v).decode() for v in values]
        again = [cached(v).decode() for v in values]
        print(json.dumps({"original": [original(v).decode() for v in values], "first": first,
                          "again": again, "hits": cached.cache_info().hits,
                          "idempotent": cached_content_type(cached) is cached}))
        """
    )
    assert answers["first"] == answers["original"] == answers["again"]
    assert answers["original"][1] == "application/json"  # lower-cased, parameters dropped
    assert answers["hits"] == 7
    assert answers["idempotent"] is True


def test_step_functions_keep_one_client_per_service_region_and_role_until_it_ages(local_cloud: None):
    seen = in_localstack(
        """
        import json
        from types import SimpleNamespace
        from fileflow_localstack_host.stepfunctions_speedups import cached_clients
        made, now = [], [0.0]
        def factory(service, region, credentials):
            made.append((service, region, credentials.role_arn))
            return object()
        boto_client_for = cached_clients(factory, ttl=600, clock=lambda: now[0])
        role = SimpleNamespace(role_arn="arn:aws:iam::000000000000:role/a")
        other = SimpleNamespace(role_arn="arn:aws:iam::000000000000:role/b")
        a1 = boto_client_for("lambda", "us-east-1", role)
        a2 = boto_client_for("lambda", "us-east-1", role)
        b = boto_client_for("lambda", "us-east-1", other)
        d = boto_client_for("dynamodb", "us-east-1", role)
        now[0] = 601.0
        a3 = boto_client_for("lambda", "us-east-1", role)
        print(json.dumps({"made": made, "shared": a1 is a2, "per_role": b is not a1,
                          "per_service": d is not a1, "renewed": a3 is not a1,
                          "idempotent": cached_clients(boto_client_for) is boto_client_for}))
        """
    )
    assert seen["shared"]
    assert seen["per_role"]
    assert seen["per_service"]
    assert seen["renewed"]
    assert seen["idempotent"]
    assert len(seen["made"]) == 4  # a, b, dynamodb, then a again after 10 minutes


def test_api_gateway_invokes_its_lambda_integration_with_one_attempt_and_a_long_wait(local_cloud: None):
    config = in_localstack(
        """
        import json
        from localstack.services.apigateway.next_gen.execute_api.integrations import aws
        from fileflow_localstack_host.apigateway_fixes import single_attempt_factory
        factory = single_attempt_factory(aws.get_service_factory)
        client = factory(region_name="us-east-1", role_arn=None).lambda_
        print(json.dumps({"retries": client.meta.config.retries, "read": client.meta.config.read_timeout,
                          "idempotent": single_attempt_factory(factory) is factory}))
        """
    )
    assert config["retries"]["total_max_attempts"] == 1
    assert config["read"] == 900
    assert config["idempotent"] is True


HOLDS = """
import time
def handler(event, context):
    started = time.time()
    time.sleep(event["hold"])
    return {"started": started, "ended": time.time()}
"""


def test_a_function_runs_at_most_the_host_capacity_at_once_and_the_wait_is_not_its_time(
    local_cloud: None, aws: AwsClients
):
    # Given a function with a 3 s timeout, and twice the host's capacity of invocations at once,
    # each holding its environment for 2 s: a second-wave invocation timed from its request would
    # pass 3 s
    limit = host_concurrency()
    name = create_function(aws.lambda_, code={"app.py": HOLDS}, timeout=3)
    client = boto3.client(
        "lambda", config=Config(max_pool_connections=2 * limit, read_timeout=120), **client_kwargs()
    )
    try:
        with ThreadPoolExecutor(max_workers=2 * limit) as pool:
            results = list(pool.map(lambda _: invoke(client, name, {"hold": 2.0}), range(2 * limit)))
    finally:
        aws.lambda_.delete_function(FunctionName=name)
    # Then every one succeeds: those that waited for a slot were not timed while they waited
    assert [error for error, _ in results] == [None] * (2 * limit)
    # And no more than the limit ran at once
    spans = [(answer["started"], answer["ended"]) for _, answer in results]
    most = max(sum(start <= moment < end for start, end in spans) for moment, _ in spans)
    assert most <= limit
