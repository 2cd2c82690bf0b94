"""The one helper that builds every Lambda function of the stack."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Duration, RemovalPolicy, Size, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.constructs.cloud import local_or_aws
from infra.nag import acknowledge
from infra.paths import FUNCTIONS_DIR

RUNTIME = lambda_.Runtime.PYTHON_3_13
# Must match the platform layers/build.py installs wheels for.
ARCHITECTURE = lambda_.Architecture.X86_64
METRICS_NAMESPACE = "Fileflow"


class PythonFunction(Construct):
    """A Python function with its own role, its own log group (with retention) and active tracing.

    The CloudFormation logical id of the function is the construct's id (e.g. `ApiFunction`), so
    `sam local invoke -t cdk.out/<stack>.template.json ApiFunction` finds it.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        source_dir: str,
        handler: str,
        service_name: str,
        description: str,
        memory_size: int,
        timeout: Duration,
        layers: Sequence[lambda_.ILayerVersion],
        environment: Mapping[str, str] | None = None,
        log_level: str = "INFO",
        ephemeral_storage_mib: int | None = None,
        reserved_concurrency: int | None = None,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH,
    ) -> None:
        super().__init__(scope, construct_id)
        # A concrete name (the stack name is known at synth) so the log group can be /aws/lambda/<name>.
        self.function_name = f"{Stack.of(self).stack_name}-{service_name}"

        self.log_group = logs.LogGroup(
            self,
            "LogGroup",
            log_group_name=f"/aws/lambda/{self.function_name}",
            retention=log_retention,
            removal_policy=RemovalPolicy.DESTROY,
        )
        # Least privilege instead of AWSLambdaBasicExecutionRole: write to this function's log group only.
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Execution role of {self.function_name}",
        )
        self.log_group.grant_write(self.role)

        self.function = lambda_.Function(
            self,
            "Function",
            function_name=self.function_name,
            description=description,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=handler,
            code=lambda_.Code.from_asset(
                str(FUNCTIONS_DIR / source_dir), exclude=["**/__pycache__", "**/*.pyc"]
            ),
            layers=list(layers),
            memory_size=memory_size,
            timeout=timeout,
            ephemeral_storage_size=Size.mebibytes(ephemeral_storage_mib) if ephemeral_storage_mib else None,
            reserved_concurrent_executions=reserved_concurrency,
            role=self.role,
            log_group=self.log_group,
            tracing=lambda_.Tracing.ACTIVE,
            environment={
                "POWERTOOLS_SERVICE_NAME": service_name,
                "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
                "LOG_LEVEL": log_level,
                # X-Ray on AWS; the local cloud has no daemon to send segments to
                "POWERTOOLS_TRACE_DISABLED": local_or_aws(self, local="true", aws="false"),
                **(environment or {}),
            },
        )
        cfn_function = self.function.node.default_child
        assert isinstance(cfn_function, lambda_.CfnFunction)
        cfn_function.override_logical_id(construct_id)
        acknowledge(
            self.role,
            "AwsSolutions-IAM5[Resource::*]",
            "Active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level "
            "permissions, so AWS requires Resource '*' for them.",
        )
        acknowledge(
            self.function,
            "AwsSolutions-L1",
            "Pinned to python3.13 on purpose: the layers are built with CPython 3.13 wheels "
            "(layers/build.py) and the local Lambda executor runs 3.13; runtime and layers move together.",
        )
