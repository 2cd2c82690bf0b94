"""The Fileflow stack: wires the constructs of infra/constructs/ together, and nothing else."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from infra import outputs
from infra.constructs.api import STAGE_NAME, Api
from infra.constructs.audit import AuditLog
from infra.constructs.auth import Auth
from infra.constructs.layers import Layers
from infra.constructs.metadata import Metadata
from infra.constructs.observability import Observability
from infra.constructs.processing import Processing
from infra.constructs.storage import UploadsStorage
from infra.constructs.sweeper import UploadSweeper
from infra.context import allowed_origins, token_context


class FileflowStack(Stack):
    """Uploads bucket -> processing queue -> processor -> metadata table, behind a REST API."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        origins = allowed_origins(self)

        self.layers = Layers(self, "Layers")
        self.storage = UploadsStorage(self, "Storage", allowed_origins=origins)
        self.metadata = Metadata(self, "Metadata")
        self.processing = Processing(
            self,
            "Processing",
            layers=self.layers,
            bucket=self.storage.bucket,
            table=self.metadata.table,
            idempotency_table=self.metadata.idempotency_table,
        )
        self.storage.notify_object_created(self.processing.queue)
        self.auth = Auth(self, "Auth", layers=self.layers, tokens=token_context(self))
        self.api = Api(
            self,
            "Api",
            layers=self.layers,
            bucket=self.storage.bucket,
            table=self.metadata.table,
            queue=self.processing.queue,
            allowed_origins=origins,
            auth=self.auth,
        )
        # The upload page (/app/ on the API) uploads straight to the bucket from the API's origin.
        self.storage.allow_browser_origin(self.api.page_origin)
        self.audit = AuditLog(self, "Audit")
        self.api.use_audit_log(self.audit)
        self.sweeper = UploadSweeper(
            self, "Sweeper", layers=self.layers, bucket=self.storage.bucket, table=self.metadata.table
        )
        self.observability = Observability(
            self,
            "Observability",
            rest_api=self.api.rest_api,
            functions={
                "Api": self.api.handler.function,
                "Processor": self.processing.processor.function,
                "Authorizer": self.auth.authorizer_function.function,
                "Sweeper": self.sweeper.handler.function,
            },
            queue=self.processing.queue,
            dlq=self.processing.dlq,
        )

        for name, value, description in (
            (outputs.API_ID, self.api.rest_api.rest_api_id, "REST API id"),
            (outputs.API_STAGE, STAGE_NAME, "REST API stage"),
            (outputs.API_URL, self.api.rest_api.url, "REST API base URL (on AWS)"),
            (outputs.BUCKET_NAME, self.storage.bucket.bucket_name, "Uploads bucket"),
            (outputs.TABLE_NAME, self.metadata.table.table_name, "Metadata table"),
            (outputs.QUEUE_URL, self.processing.queue.queue_url, "Processing queue"),
            (outputs.DLQ_URL, self.processing.dlq.queue_url, "Processing dead-letter queue"),
            (outputs.API_FUNCTION_NAME, self.api.handler.function.function_name, "API function"),
            (
                outputs.PROCESSOR_FUNCTION_NAME,
                self.processing.processor.function.function_name,
                "Processor function",
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
                outputs.AUDIT_TABLE_NAME,
                self.audit.table.table_name,
                "Audit log table (append-only for the API)",
            ),
        ):
            CfnOutput(self, name, value=value, description=description)
