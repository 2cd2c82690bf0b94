"""The REST API (API Gateway v1: v2 is not in LocalStack community) and the function behind it."""

from __future__ import annotations

import json
from collections.abc import Sequence

from aws_cdk import Aws, Duration, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.constructs.audit import AuditLog
from infra.constructs.auth import Auth
from infra.constructs.lambda_function import PythonFunction
from infra.constructs.layers import Layers
from infra.constructs.storage import DERIVED_PREFIX, UPLOADS_PREFIX
from infra.context import AI_BUDGET_VARIABLES, ai_context
from infra.nag import (
    acknowledge,
    acknowledge_bucket_grant_delete,
    acknowledge_bucket_grant_put,
    acknowledge_bucket_grant_read,
    acknowledge_table_index_access,
)

STAGE_NAME = "prod"
# API Gateway's integration timeout is 29 s; the function must not outlive it.
API_FUNCTION_TIMEOUT = Duration.seconds(29)


class Api(Construct):
    """Routes proxied to ApiFunction (FastAPI behind Mangum).

    Public: `GET /health`, `GET /openapi.json`, and the upload page (`GET /app`, `GET /app/{proxy+}`:
    static files). `ANY /v1/{proxy+}`: the Lambda TOKEN authorizer.
    `ANY /uppy/{token}/{proxy+}`: no gateway authorizer, the function verifies the upload token in the
    path (Uppy's stock client sends no Authorization header).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        layers: Layers,
        bucket: s3.IBucket,
        table: dynamodb.ITable,
        queue: sqs.IQueue,
        allowed_origins: Sequence[str],
        auth: Auth,
    ) -> None:
        super().__init__(scope, construct_id)
        self.handler = PythonFunction(
            self,
            "ApiFunction",
            source_dir="api",
            handler="fileflow_api.handler.lambda_handler",
            service_name="api",
            description="Fileflow HTTP API: upload sessions, presigned URLs, file metadata",
            memory_size=512,
            timeout=API_FUNCTION_TIMEOUT,
            layers=[layers.runtime, *auth.token_layers, layers.api, layers.common, layers.web],
            environment={
                "BUCKET_NAME": bucket.bucket_name,
                "TABLE_NAME": table.table_name,
                "QUEUE_URL": queue.queue_url,
                "ALLOWED_ORIGINS": json.dumps(list(allowed_origins)),
                **auth.token_environment,
                # GET /v1/usage reports the budgets the AI stage enforces (the same context values).
                **{
                    name: value for name, value in ai_context(self).environment if name in AI_BUDGET_VARIABLES
                },
            },
        )
        function = self.handler.function
        # Presigned GETs of any object; presigned PUTs and multipart uploads (PutObject, Abort*) of originals.
        bucket.grant_read(function)
        bucket.grant_put(function, f"{UPLOADS_PREFIX}*")
        # DELETE /v1/files/{id}: every version of the original and of its derivatives.
        for prefix in (UPLOADS_PREFIX, DERIVED_PREFIX):
            bucket.grant_delete(function, f"{prefix}*")
            acknowledge_bucket_grant_delete(self.handler.role, bucket, f"{prefix}*")
        table.grant_read_write_data(function)
        # The readiness probe reads the queue's attributes; the API never sends or receives messages.
        queue.grant(function, "sqs:GetQueueAttributes")
        # Bearer tokens are verified in the function where no authorizer ran; it also mints upload tokens.
        auth.signing_secret.grant_read(function)
        acknowledge_bucket_grant_read(self.handler.role, bucket)
        acknowledge_bucket_grant_put(self.handler.role, bucket, f"{UPLOADS_PREFIX}*")
        acknowledge_table_index_access(self.handler.role, table)

        self.access_log_group = logs.LogGroup(
            self,
            "AccessLogs",
            retention=logs.RetentionDays.ONE_MONTH,
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.rest_api = apigw.RestApi(
            self,
            "RestApi",
            rest_api_name=f"{Stack.of(self).stack_name}-api",
            description="Fileflow HTTP API",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            # An AWS::ApiGateway::Account (no custom resource): API Gateway needs it to write any logs.
            cloud_watch_role=True,
            deploy_options=apigw.StageOptions(
                stage_name=STAGE_NAME,
                access_log_destination=apigw.LogGroupLogDestination(self.access_log_group),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=False,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=False,
                ),
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,
                metrics_enabled=True,
                tracing_enabled=True,
                throttling_rate_limit=50,
                throttling_burst_limit=100,
            ),
        )
        integration = apigw.LambdaIntegration(function, proxy=True, allow_test_invoke=False)
        root = self.rest_api.root
        public_reason = "public by design: the probe that load balancers and monitors call without a token."
        for path, reason in (
            ("health", public_reason),
            ("openapi.json", "public by design: the API's OpenAPI description, which holds no user data."),
        ):
            acknowledge(root.add_resource(path).add_method("GET", integration), "AwsSolutions-APIG4", reason)
        page_reason = (
            "public by design: the upload page's static files (HTML, JavaScript, CSS; no user data), "
            "served from an allow-list of names under a strict CSP. Signing in happens in the page, which "
            "then calls the authorized /v1 routes with the user's bearer token."
        )
        page = root.add_resource("app")
        for page_resource in (page, page.add_resource("{proxy+}")):
            acknowledge(page_resource.add_method("GET", integration), "AwsSolutions-APIG4", page_reason)
        v1_proxy = root.add_resource("v1").add_resource("{proxy+}")
        auth.add_authorized_method(v1_proxy, "ANY", integration)
        acknowledge(
            v1_proxy.add_method("OPTIONS", integration),
            "AwsSolutions-APIG4",
            "CORS preflights carry no Authorization header by definition; the function answers them "
            "(CORSMiddleware) and serves nothing else on OPTIONS.",
        )
        acknowledge(
            root.add_resource("uppy")
            .add_resource("{token}")
            .add_resource("{proxy+}")
            .add_method("ANY", integration),
            "AwsSolutions-APIG4",
            "No gateway authorizer: Uppy's stock client cannot send an Authorization header, so the "
            "function verifies the short-lived upload token of the {token} path segment on every request.",
        )
        # The page at /app/ is served from this API's default execute-api host: its origin.
        self.page_origin = f"https://{self.rest_api.rest_api_id}.execute-api.{Aws.REGION}.{Aws.URL_SUFFIX}"
        # API Gateway's own 401 (authorizer refusal, missing header) in the API's error format.
        self.rest_api.add_gateway_response(
            "Unauthorized",
            type=apigw.ResponseType.UNAUTHORIZED,
            response_headers={"WWW-Authenticate": "'Bearer'"},
            templates={
                "application/json": json.dumps(
                    {"error": {"code": "Unauthenticated", "message": "a valid bearer token is required"}}
                )
            },
        )

        acknowledge(
            self.rest_api,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AmazonAPIGatewayPushToCloudWatchLogs]",
            "The API Gateway account's CloudWatch role (cloud_watch_role=True) uses the AWS-managed policy "
            "AWS prescribes for it; API Gateway needs that role to write access and execution logs.",
        )
        acknowledge(
            self.rest_api,
            "AwsSolutions-APIG2",
            "Requests are validated in ApiFunction (FastAPI + pydantic models) behind a greedy proxy; "
            "a gateway request validator would have no models to check against.",
        )
        acknowledge(
            self.rest_api,
            "AwsSolutions-APIG3",
            "No WAFv2 web ACL in this stack: WAFv2 is not in LocalStack community, where the stack is "
            "tested. Associate one per environment before exposing the API publicly.",
        )
        acknowledge(
            self.rest_api,
            "AwsSolutions-COG4",
            "Callers are authenticated by a Lambda TOKEN authorizer verifying JWTs (any OIDC provider "
            "through its JWKS), not a Cognito user pool authorizer: Cognito is not in LocalStack community.",
        )

    def use_audit_log(self, audit: AuditLog) -> None:
        """The function appends every mutating action to the audit log (and reads the caller's own)."""
        self.handler.function.add_environment("AUDIT_TABLE_NAME", audit.table.table_name)
        audit.grant_append(self.handler.function)
