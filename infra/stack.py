"""The Fileflow stack: wires the constructs of infra/constructs/ together, and nothing else."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from infra import outputs
from infra.constructs.api import STAGE_NAME, Api
from infra.constructs.audit import AuditLog
from infra.constructs.auth import Auth
from infra.constructs.intake import Intake
from infra.constructs.lane_reclaimer import LaneReclaimer
from infra.constructs.layers import Layers
from infra.constructs.metadata import Metadata
from infra.constructs.observability import Observability, WorkQueue
from infra.constructs.pipeline import FilePipeline
from infra.constructs.pipeline.stages import stage_event_name
from infra.constructs.storage import UploadsStorage
from infra.constructs.sweeper import UploadSweeper
from infra.constructs.webhooks import Webhooks
from infra.context import alarm_email, allowed_origins, review_context, token_context, webhook_context


class FileflowStack(Stack):
    """Uploads bucket -> intake queue -> starter -> a workflow per file (a function per stage) -> metadata
    table, behind a REST API."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        origins = allowed_origins(self)

        self.layers = Layers(self, "Layers")
        self.storage = UploadsStorage(self, "Storage", allowed_origins=origins)
        self.metadata = Metadata(self, "Metadata")
        self.audit = AuditLog(self, "Audit")
        self.pipeline = FilePipeline(
            self,
            "Pipeline",
            layers=self.layers,
            bucket=self.storage.bucket,
            table=self.metadata.table,
            review=review_context(self),
        )
        # Construct id "Processing": the queues keep their logical ids (and the bucket's notification its
        # target) across the move from the single processor to the workflow.
        self.intake = Intake(
            self,
            "Processing",
            layers=self.layers,
            bucket=self.storage.bucket,
            table=self.metadata.table,
            audit_log=self.audit,
            state_machine=self.pipeline.state_machine,
        )
        self.storage.notify_object_created(self.intake.queue)
        self.auth = Auth(self, "Auth", layers=self.layers, tokens=token_context(self))
        self.api = Api(
            self,
            "Api",
            layers=self.layers,
            bucket=self.storage.bucket,
            table=self.metadata.table,
            queue=self.intake.queue,
            allowed_origins=origins,
            auth=self.auth,
        )
        # Reviewers' decisions resume the executions waiting on a review (SendTaskSuccess).
        self.pipeline.allow_review_decisions(self.api.handler)
        # The upload page (/app/ on the API) uploads straight to the bucket from the API's origin.
        self.storage.allow_browser_origin(self.api.page_origin)
        self.api.use_audit_log(self.audit)
        self.sweeper = UploadSweeper(
            self, "Sweeper", layers=self.layers, bucket=self.storage.bucket, table=self.metadata.table
        )
        self.webhooks = Webhooks(
            self, "Webhooks", layers=self.layers, table=self.metadata.table, settings=webhook_context(self)
        )
        # Producers of webhook events: the notify stage, the sweeper (upload.expired), the API (redeliver).
        for producer in (self.pipeline.stages["notify"], self.sweeper.handler, self.api.handler):
            self.webhooks.allow_producer(producer)
        for name, value in self.webhooks.api_environment.items():
            self.api.handler.function.add_environment(name, value)
        self.lane_reclaimer = LaneReclaimer(
            self,
            "Lanes",
            layers=self.layers,
            table=self.metadata.table,
            state_machine_arn=self.pipeline.state_machine.state_machine_arn,
            state_machine_name=self.pipeline.state_machine_name,
        )
        self.observability = Observability(
            self,
            "Observability",
            rest_api=self.api.rest_api,
            functions={
                "Api": self.api.handler.function,
                "Starter": self.intake.starter.function,
                **{
                    f"{name.capitalize()}Stage": stage.function
                    for name, stage in self.pipeline.stages.items()
                },
                "Authorizer": self.auth.authorizer_function.function,
                "Sweeper": self.sweeper.handler.function,
                "WebhookSender": self.webhooks.sender.function,
                "LaneReclaimer": self.lane_reclaimer.handler.function,
            },
            queues=[
                WorkQueue("Processing", self.intake.queue, self.intake.dlq),
                WorkQueue("Webhook", self.webhooks.queue, self.webhooks.dlq),
            ],
            state_machine=self.pipeline.state_machine,
            stages={stage_event_name(name): name for name in self.pipeline.stages},
            alarm_email=alarm_email(self),
            ai_monthly_budget_usd=float(dict(self.pipeline.ai.environment)["AI_MONTHLY_BUDGET_USD"]),
            review_wait=self.pipeline.review.longest_wait,
        )

        for name, value, description in (
            (outputs.API_ID, self.api.rest_api.rest_api_id, "REST API id"),
            (outputs.API_STAGE, STAGE_NAME, "REST API stage"),
            (outputs.API_URL, self.api.rest_api.url, "REST API base URL (on AWS)"),
            (outputs.BUCKET_NAME, self.storage.bucket.bucket_name, "Uploads bucket"),
            (outputs.TABLE_NAME, self.metadata.table.table_name, "Metadata table"),
            (outputs.QUEUE_URL, self.intake.queue.queue_url, "Processing (intake) queue"),
            (outputs.DLQ_URL, self.intake.dlq.queue_url, "Processing (intake) dead-letter queue"),
            (
                outputs.STATE_MACHINE_ARN,
                self.pipeline.state_machine.state_machine_arn,
                "Processing workflow (one execution per stored object version)",
            ),
            (outputs.API_FUNCTION_NAME, self.api.handler.function.function_name, "API function"),
            (outputs.STARTER_FUNCTION_NAME, self.intake.starter.function.function_name, "Starter function"),
            *(
                (
                    outputs.stage_function_output(name),
                    stage.function.function_name,
                    f"The {name} stage's function",
                )
                for name, stage in self.pipeline.stages.items()
            ),
            (outputs.DASHBOARD_NAME, self.observability.dashboard_name, "CloudWatch dashboard"),
            (
                outputs.SIGNING_SECRET_ARN,
                self.auth.signing_secret.secret_arn,
                "Secret holding the JWT HS256 key",
            ),
            (outputs.TOKEN_ISSUER, self.auth.issuer, "Issuer (iss) of Fileflow's own JWTs"),
            (
                outputs.AUTHORIZER_FUNCTION_NAME,
                self.auth.authorizer_function.function.function_name,
                "API Gateway authorizer function",
            ),
            (
                outputs.SWEEPER_FUNCTION_NAME,
                self.sweeper.handler.function.function_name,
                "Upload sweeper function",
            ),
            (
                outputs.LANE_RECLAIMER_FUNCTION_NAME,
                self.lane_reclaimer.handler.function.function_name,
                "Standard lane slot reclaimer function",
            ),
            (
                outputs.AUDIT_TABLE_NAME,
                self.audit.table.table_name,
                "Audit log table (append-only for the API)",
            ),
            (outputs.WEBHOOK_QUEUE_URL, self.webhooks.queue.queue_url, "Webhook queue (events and attempts)"),
            (outputs.WEBHOOK_DLQ_URL, self.webhooks.dlq.queue_url, "Webhook dead-letter queue"),
            (
                outputs.WEBHOOK_SENDER_FUNCTION_NAME,
                self.webhooks.sender.function.function_name,
                "Webhook sender function",
            ),
        ):
            CfnOutput(self, name, value=value, description=description)
