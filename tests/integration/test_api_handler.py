import json
from typing import Any

import pytest
from pydantic_settings.exceptions import SettingsError

from fileflow_api.core.security import SECURITY_HEADERS
from fileflow_api.handler import lambda_handler
from fileflow_common.aws import stepfunctions_client
from tests.conftest import LogReader
from tests.events import load_event
from tests.integration.conftest import BUCKET_NAME, TABLE_NAME, Cloud, FakeLambdaContext


def invoke(event: dict[str, Any], context: FakeLambdaContext) -> tuple[int, dict[str, str], Any]:
    response = lambda_handler(event, context)
    return response["statusCode"], response["headers"], json.loads(response["body"])


def emf_documents(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith('{"_aws"')]


def test_health_is_ok_when_every_dependency_is_reachable(
    cloud: Cloud, lambda_context: FakeLambdaContext
) -> None:
    # Given the bucket, table and queue exist
    # When API Gateway (REST, stage prod) proxies GET /health
    status, headers, body = invoke(load_event("api/health"), lambda_context)
    # Then 200 with every check ok, and the security headers
    assert status == 200
    assert body["status"] == "ok"
    assert {name: check["status"] for name, check in body["checks"].items()} == {
        "bucket": "ok",
        "table": "ok",
        "queue": "ok",
    }
    assert all(check["latency_ms"] >= 0 for check in body["checks"].values())
    assert headers["content-type"] == "application/json"
    for name, value in SECURITY_HEADERS.items():
        assert headers[name.lower()] == value


@pytest.mark.parametrize(
    ("dependency", "remove", "error_code"),
    [
        pytest.param(
            "queue",
            lambda cloud: cloud.sqs.delete_queue(QueueUrl=cloud.queue_url),
            "AWS.SimpleQueueService.NonExistentQueue",
            id="queue",
        ),
        pytest.param(
            "bucket", lambda cloud: cloud.s3.delete_bucket(Bucket=BUCKET_NAME), "NoSuchBucket", id="bucket"
        ),
        pytest.param(
            "table",
            lambda cloud: cloud.table.meta.client.delete_table(TableName=TABLE_NAME),
            "ResourceNotFoundException",
            id="table",
        ),
    ],
)
def test_health_is_degraded_naming_the_missing_dependency(
    cloud: Cloud,
    lambda_context: FakeLambdaContext,
    captured_logs: LogReader,
    capsys: pytest.CaptureFixture[str],
    dependency: str,
    remove: Any,
    error_code: str,
) -> None:
    # Given one dependency was deleted
    remove(cloud)
    # When GET /health is proxied
    event = load_event("api/health")
    status, _, body = invoke(event, lambda_context)
    # Then 503 naming only that dependency, with the AWS error code and no stack trace
    assert status == 503
    assert body["status"] == "degraded"
    failing = {name: check for name, check in body["checks"].items() if check["status"] == "error"}
    assert list(failing) == [dependency]
    assert failing[dependency]["error"] == error_code
    assert "Traceback" not in json.dumps(body)
    # And the warning carries API Gateway's request id as correlation id
    [warning] = [line for line in captured_logs() if line["message"] == "dependency unhealthy"]
    assert warning["dependency"] == dependency
    assert warning["correlation_id"] == event["requestContext"]["requestId"]
    # And the UnhealthyDependencies metric is published
    [emf] = emf_documents(capsys.readouterr().out)
    assert emf["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "FileflowTest"
    assert emf["UnhealthyDependencies"] in (1.0, [1.0])


def test_unknown_route_is_fastapis_404(cloud: Cloud, lambda_context: FakeLambdaContext) -> None:
    # Given a proxy event for a path the API does not serve
    event = load_event("api/health")
    event["path"] = "/no-such-route"
    event["requestContext"]["path"] = "/prod/no-such-route"
    # When invoked / Then FastAPI's own 404 body
    status, _, body = invoke(event, lambda_context)
    assert (status, body) == (404, {"detail": "Not Found"})


def test_a_cold_start_builds_no_step_functions_client_until_a_review_decision(
    cloud: Cloud, lambda_context: FakeLambdaContext
) -> None:
    # Given a new execution environment (no client built yet)
    assert stepfunctions_client.cache_info().currsize == 0
    # When its first request is not a review decision
    status, _, _ = invoke(load_event("api/health"), lambda_context)
    # Then the app is built without a Step Functions client (its model is loaded only when one is needed)
    assert status == 200
    assert stepfunctions_client.cache_info().currsize == 0


def test_misconfigured_function_fails_at_its_first_invocation(
    cloud: Cloud, lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given ALLOWED_ORIGINS is not a JSON list
    monkeypatch.setenv("ALLOWED_ORIGINS", "https://app.example.com")
    # When invoked / Then the settings error surfaces (the function errors instead of serving)
    with pytest.raises(SettingsError, match="allowed_origins"):
        lambda_handler(load_event("api/health"), lambda_context)
