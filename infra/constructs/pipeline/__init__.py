"""The processing workflow: a Step Functions Standard state machine and one Lambda function per stage."""

from __future__ import annotations

from aws_cdk import ArnFormat, RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra.constructs.lambda_function import PythonFunction
from infra.constructs.layers import Layers
from infra.constructs.pipeline.definition import build_definition
from infra.constructs.pipeline.lanes import LANE_PARTITION, StandardLane
from infra.constructs.pipeline.stages import STAGES, StageSpec
from infra.constructs.storage import DERIVED_PREFIX
from infra.context import (
    AiContext,
    ReviewContext,
    ai_context,
    stage_concurrency_scale,
    standard_lane_slots,
)
from infra.nag import (
    acknowledge,
    acknowledge_bucket_grant_put,
    acknowledge_bucket_grant_read,
    acknowledge_table_index_access,
)


class FilePipeline(Construct):
    """One execution per stored object version; each stage its own function, role, memory and layers."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        layers: Layers,
        bucket: s3.IBucket,
        table: dynamodb.ITable,
        review: ReviewContext | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.review = review or ReviewContext()
        self.concurrency_scale = stage_concurrency_scale(self)
        self.lane = StandardLane(self, table=table, slots=standard_lane_slots(self))
        stage_layers: dict[str, lambda_.ILayerVersion] = {
            "images": layers.images,
            "documents": layers.documents,
            "crypto": layers.crypto,
            "video": layers.video,
            "ai": layers.ai,
            "analysis": layers.analysis,
        }
        self.ai = ai_context(self)
        self.stages: dict[str, PythonFunction] = {}
        for spec in STAGES:
            self.stages[spec.name] = self._stage_function(spec, stage_layers, layers, bucket, table)
        self._grant_anthropic_secret(self.stages["ai"], self.ai)

        stack_name = Stack.of(self).stack_name
        self.state_machine_name = f"{stack_name}-pipeline"
        self.log_group = logs.LogGroup(
            self,
            "LogGroup",
            log_group_name=f"/aws/vendedlogs/states/{self.state_machine_name}",
            retention=logs.RetentionDays.ONE_MONTH,
            removal_policy=RemovalPolicy.DESTROY,
        )
        # Errors only: every event of an execution is in its history already (the console, and
        # GetExecutionHistory, for 90 days); logging them all too costs per event on AWS, and on the local
        # cloud it nearly doubled the time a burst of 100 files took (bench-pipeline: 79 s -> 43-49 s).
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            state_machine_name=self.state_machine_name,
            state_machine_type=sfn.StateMachineType.STANDARD,
            definition_body=sfn.DefinitionBody.from_chainable(
                build_definition(
                    self,
                    {name: stage.function for name, stage in self.stages.items()},
                    self.lane,
                    self.review,
                )
            ),
            logs=sfn.LogOptions(
                destination=self.log_group, level=sfn.LogLevel.ERROR, include_execution_data=True
            ),
            tracing_enabled=True,
            comment="Fileflow: one execution per stored object version (docs/processing.md)",
        )
        # The lane's semaphore: its one item only (the leading key), read and updated, nothing else.
        self.state_machine.add_to_role_policy(
            iam.PolicyStatement(
                actions=["dynamodb:UpdateItem", "dynamodb:GetItem"],
                resources=[table.table_arn],
                conditions={"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [LANE_PARTITION]}},
            )
        )
        acknowledge(
            self.state_machine,
            "AwsSolutions-IAM5[Resource::*]",
            "Step Functions logging to CloudWatch Logs and X-Ray tracing need Resource '*' (log delivery "
            "and xray:PutTraceSegments support no resource-level permissions).",
        )
        acknowledge(
            self.state_machine,
            "AwsSolutions-SF1",
            "Logs errors (with execution data), not ALL: every event of every execution is in its history "
            "(GetExecutionHistory, the console) for 90 days; logging each too costs per event and, on the "
            "local cloud, made a burst of 100 files take 59-79 s instead of 43-49 s (docs/processing.md).",
        )
        for spec in STAGES:
            acknowledge(
                self.state_machine,
                f"AwsSolutions-IAM5[Resource::<{spec.construct_id}.Arn>:*]",
                "lambda:InvokeFunction on the stage function's versions and aliases (CDK's grant).",
            )

    def allow_review_decisions(self, function: PythonFunction) -> None:
        """A reviewer's decision resumes (or fails) the waiting execution: on this state machine only."""
        function.function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["states:SendTaskSuccess", "states:SendTaskFailure"],
                resources=[self.state_machine.state_machine_arn],
            )
        )

    def _stage_function(
        self,
        spec: StageSpec,
        stage_layers: dict[str, lambda_.ILayerVersion],
        layers: Layers,
        bucket: s3.IBucket,
        table: dynamodb.ITable,
    ) -> PythonFunction:
        function = PythonFunction(
            self,
            spec.construct_id,
            source_dir="stages",
            handler=spec.handler,
            service_name=f"stage-{spec.name}",
            description=spec.description,
            memory_size=spec.memory_mb,
            timeout=spec.timeout,
            layers=[layers.runtime, *(stage_layers[name] for name in spec.layers), layers.common],
            ephemeral_storage_mib=spec.ephemeral_storage_mib,
            reserved_concurrency=spec.reserved_concurrency * self.concurrency_scale or None,
            environment={
                "TABLE_NAME": table.table_name,
                "BUCKET_NAME": bucket.bucket_name,
                **(dict(self.ai.environment) if spec.name == "ai" else {}),
            },
        )
        table.grant_read_write_data(function.function)
        acknowledge_table_index_access(function.role, table)
        if spec.bucket in ("read", "read_write"):
            bucket.grant_read(function.function)
            acknowledge_bucket_grant_read(function.role, bucket)
        if spec.bucket == "read_write":
            # Derivatives only, outside the notification prefix, so they never start a workflow.
            bucket.grant_put(function.function, f"{DERIVED_PREFIX}*")
            acknowledge_bucket_grant_put(function.role, bucket, f"{DERIVED_PREFIX}*")
        return function

    def _grant_anthropic_secret(self, function: PythonFunction, ai: AiContext) -> None:
        """GetSecretValue on the Anthropic key's secret only (no DescribeSecret, no other secret).

        By name, with Secrets Manager's six-character suffix: the secret is made outside the stack (an
        operator puts the key in; the e2e suite puts in `test`), so its ARN is not known at synth.
        """
        secret_arn = Stack.of(self).format_arn(
            service="secretsmanager",
            resource="secret",
            resource_name=f"{ai.secret_name}-??????",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        function.role.add_to_policy(
            iam.PolicyStatement(actions=["secretsmanager:GetSecretValue"], resources=[secret_arn])
        )
        pattern = "arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:"
        acknowledge(
            function.role,
            f"AwsSolutions-IAM5[Resource::{pattern}{ai.secret_name}-??????]",
            "GetSecretValue on the Anthropic API key's secret only: '-??????' is the random suffix Secrets "
            "Manager appends to a secret's name, unknown at synth: the secret is made outside the stack.",
        )
