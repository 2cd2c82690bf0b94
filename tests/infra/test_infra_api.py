"""The REST API: its routes proxied to ApiFunction, stage `prod` logged, traced and throttled."""

from __future__ import annotations

from typing import Any

from infra.constructs.api import STAGE_NAME
from tests.infra.synth import Synthesized


def api_methods(synthesized: Synthesized) -> dict[tuple[str, str], dict[str, Any]]:
    """Every method of the REST API by (HTTP method, full resource path)."""
    resources = synthesized.resources
    api_id = synthesized.logical_id(synthesized.stack.api.rest_api)

    def path_of(resource_id: dict[str, Any]) -> str:
        if "Ref" not in resource_id:
            assert resource_id == {"Fn::GetAtt": [api_id, "RootResourceId"]}
            return ""
        properties = resources[resource_id["Ref"]]["Properties"]
        return f"{path_of(properties['ParentId'])}/{properties['PathPart']}"

    return {
        (method["Properties"]["HttpMethod"], path_of(method["Properties"]["ResourceId"]) or "/"): method[
            "Properties"
        ]
        for method in synthesized.of_type("AWS::ApiGateway::Method").values()
    }


def test_routes_are_proxied_to_the_api_function(synthesized: Synthesized) -> None:
    # Given the REST API's methods
    methods = api_methods(synthesized)
    # Then exactly these routes exist (no greedy root proxy: unknown paths end at API Gateway) ...
    assert set(methods) == {
        ("GET", "/health"),
        ("GET", "/openapi.json"),
        ("ANY", "/v1/{proxy+}"),
        ("OPTIONS", "/v1/{proxy+}"),
        ("ANY", "/uppy/{token}/{proxy+}"),
        ("GET", "/app"),
        ("GET", "/app/{proxy+}"),
    }
    for route, method in methods.items():
        integration = method["Integration"]
        # ... each a Lambda proxy integration invoking ApiFunction
        assert integration["Type"] == "AWS_PROXY", route
        assert integration["IntegrationHttpMethod"] == "POST", route
        assert "ApiFunction" in str(integration["Uri"]), route


def test_stage_prod_has_access_logs_tracing_logging_and_throttling(synthesized: Synthesized) -> None:
    # Given the API's stage and its access log group
    access_log_group_id = synthesized.logical_id(synthesized.stack.api.access_log_group)
    (stage,) = synthesized.of_type("AWS::ApiGateway::Stage").values()
    properties = stage["Properties"]
    # Then stage `prod` sends access logs to that group, is traced, and logs errors and throttles every method
    assert properties["StageName"] == STAGE_NAME == "prod"
    destination = properties["AccessLogSetting"]["DestinationArn"]["Fn::Join"][1]
    assert ":log-group:" in destination
    assert {"Ref": access_log_group_id} in destination
    assert '"requestId"' in properties["AccessLogSetting"]["Format"]
    assert properties["TracingEnabled"] is True
    (settings,) = properties["MethodSettings"]
    assert settings["HttpMethod"] == "*"
    assert settings["ResourcePath"] == "/*"
    assert settings["LoggingLevel"] == "ERROR"
    assert settings["DataTraceEnabled"] is False
    assert settings["ThrottlingRateLimit"] > 0
    assert settings["ThrottlingBurstLimit"] > 0


def test_api_gateway_can_write_logs_without_a_custom_resource(synthesized: Synthesized) -> None:
    # Given the account-level API Gateway setting that lets API Gateway write to CloudWatch Logs
    (account,) = synthesized.of_type("AWS::ApiGateway::Account").values()
    role_id = account["Properties"]["CloudWatchRoleArn"]["Fn::GetAtt"][0]
    # Then it is a native resource whose role API Gateway can assume
    trust = synthesized.resources[role_id]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "apigateway.amazonaws.com"}}
    ]


def test_api_is_regional(synthesized: Synthesized) -> None:
    # Given the REST API
    properties = synthesized.resource(synthesized.stack.api.rest_api)["Properties"]
    # Then it is a regional endpoint (no CloudFront edge distribution in front of presigned-URL issuing)
    assert properties["EndpointConfiguration"] == {"Types": ["REGIONAL"]}
