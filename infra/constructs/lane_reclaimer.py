"""The lane's slot reclaimer: an EventBridge rule runs it every minute, beside the upload sweeper's.

A standard-lane slot whose execution ended without giving it back (stopped, timed out) would shrink the
lane for good; the reclaimer gives back every slot whose execution is no longer running
(fileflow_intake.slots, docs/processing.md "Priorities").
"""

from __future__ import annotations

from aws_cdk import ArnFormat, Duration, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from constructs import Construct

from infra.constructs.lambda_function import PythonFunction
from infra.constructs.layers import Layers
from infra.constructs.pipeline.lanes import LANE_PARTITION
from infra.nag import acknowledge

RECLAIM_INTERVAL = Duration.minutes(1)
RECLAIMER_TIMEOUT = Duration.seconds(60)


class LaneReclaimer(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        layers: Layers,
        table: dynamodb.ITable,
        state_machine_arn: str,
        state_machine_name: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.handler = PythonFunction(
            self,
            "LaneReclaimerFunction",
            # The intake's code asset: the reclaimer lives beside the starter that names the executions.
            source_dir="intake",
            handler="fileflow_intake.slots_handler.lambda_handler",
            service_name="lane-reclaimer",
            description="Gives back the standard lane's slots whose executions ended without releasing them",
            memory_size=256,
            timeout=RECLAIMER_TIMEOUT,
            layers=[layers.runtime, layers.common],
            environment={"TABLE_NAME": table.table_name, "STATE_MACHINE_ARN": state_machine_arn},
        )
        function = self.handler.function
        # The semaphore's one item (its leading key), read and updated; nothing else of the table.
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["dynamodb:GetItem", "dynamodb:UpdateItem"],
                resources=[table.table_arn],
                conditions={"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [LANE_PARTITION]}},
            )
        )
        executions = Stack.of(self).format_arn(
            service="states",
            resource="execution",
            resource_name=f"{state_machine_name}:*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        function.add_to_role_policy(
            iam.PolicyStatement(actions=["states:DescribeExecution"], resources=[executions])
        )
        acknowledge(
            self.handler.role,
            f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:"
            f"execution:{state_machine_name}:*]",
            "states:DescribeExecution on the executions of the processing workflow only (named by job).",
        )
        self.schedule = events.Rule(
            self,
            "Schedule",
            description="Reclaim the standard lane's slots of executions that ended without releasing",
            schedule=events.Schedule.rate(RECLAIM_INTERVAL),
            # A missed run is made up by the next one a minute later; reclaiming twice changes nothing.
            targets=[targets.LambdaFunction(function, retry_attempts=0, max_event_age=Duration.minutes(5))],
        )
