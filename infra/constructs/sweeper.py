"""The upload sweeper: an EventBridge rule runs it every 15 minutes to finish expired upload sessions.

It aborts their multipart uploads (S3 frees the parts) and marks them expired; the bucket's lifecycle
rule (abort incomplete multipart uploads after 2 days) is the backstop if it ever stops.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.constructs.lambda_function import PythonFunction
from infra.constructs.layers import Layers
from infra.constructs.storage import UPLOADS_PREFIX
from infra.nag import acknowledge, acknowledge_table_index_access, arn_in_finding

SWEEP_INTERVAL = Duration.minutes(15)
SWEEPER_TIMEOUT = Duration.seconds(120)


class UploadSweeper(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        layers: Layers,
        bucket: s3.IBucket,
        table: dynamodb.ITable,
    ) -> None:
        super().__init__(scope, construct_id)
        self.handler = PythonFunction(
            self,
            "SweeperFunction",
            # The API's code asset: the sweeper shares its upload and quota adapters (no FastAPI import).
            source_dir="api",
            handler="fileflow_api.uploads.sweeper_handler.lambda_handler",
            service_name="sweeper",
            description="Aborts abandoned multipart uploads and marks their upload sessions expired",
            memory_size=256,
            timeout=SWEEPER_TIMEOUT,
            layers=[layers.runtime, layers.common],
            environment={"TABLE_NAME": table.table_name, "BUCKET_NAME": bucket.bucket_name},
        )
        function = self.handler.function
        originals = f"{UPLOADS_PREFIX}*"
        table.grant_read_write_data(function)
        # HeadObject of originals (an upload that finished without its complete call).
        bucket.grant_read(function, originals)
        iam.Grant.add_to_principal(
            grantee=function,
            actions=["s3:AbortMultipartUpload"],
            resource_arns=[bucket.arn_for_objects(originals)],
        )
        reason = (
            f"bucket.grant_read(fn, '{originals}') and AbortMultipartUpload: read-only object actions and "
            f"multipart aborts on the originals under {UPLOADS_PREFIX} of this one bucket."
        )
        for finding in ("Action::s3:GetObject*", "Action::s3:GetBucket*", "Action::s3:List*"):
            acknowledge(self.handler.role, f"AwsSolutions-IAM5[{finding}]", reason)
        acknowledge(
            self.handler.role, f"AwsSolutions-IAM5[Resource::{arn_in_finding(bucket)}/{originals}]", reason
        )
        acknowledge_table_index_access(self.handler.role, table)

        self.schedule = events.Rule(
            self,
            "Schedule",
            description="Sweep expired upload sessions",
            schedule=events.Schedule.rate(SWEEP_INTERVAL),
            # A failed sweep is retried; sweeping twice changes nothing (conditional writes).
            targets=[targets.LambdaFunction(function, retry_attempts=2, max_event_age=Duration.hours(1))],
        )
