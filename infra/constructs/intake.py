"""The intake: ObjectCreated events -> IntakeQueue (+DLQ) -> the starter -> one workflow per version."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra.constructs.audit import AuditLog
from infra.constructs.lambda_function import PythonFunction
from infra.constructs.layers import Layers
from infra.constructs.queues import queue_with_dlq
from infra.constructs.storage import UPLOADS_PREFIX
from infra.nag import acknowledge_bucket_grant_delete, acknowledge_table_index_access

# The starter records a batch of versions and starts their workflows: milliseconds a message.
STARTER_TIMEOUT = Duration.seconds(30)
STARTER_MEMORY_MB = 256
# AWS's guidance for SQS event sources: visibility timeout >= 6 x the function timeout.
QUEUE_VISIBILITY_TIMEOUT = Duration.seconds(6 * int(STARTER_TIMEOUT.to_seconds()))
MAX_RECEIVE_COUNT = 3
BATCH_SIZE = 10
# A failed message is retried after 10, 20, then 40 s (starter-set visibility), then dead-lettered.
RETRY_BACKOFF_SECONDS = 10


class Intake(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        layers: Layers,
        bucket: s3.IBucket,
        table: dynamodb.ITable,
        audit_log: AuditLog,
        state_machine: sfn.IStateMachine,
    ) -> None:
        super().__init__(scope, construct_id)
        self.queue, self.dlq = queue_with_dlq(
            self,
            "ProcessingQueue",
            "ProcessingDLQ",
            visibility_timeout=QUEUE_VISIBILITY_TIMEOUT,
            max_receive_count=MAX_RECEIVE_COUNT,
        )
        self.starter = PythonFunction(
            self,
            "StarterFunction",
            source_dir="intake",
            handler="fileflow_intake.handler.lambda_handler",
            service_name="starter",
            description="Records each stored upload and starts its processing workflow (one per version)",
            memory_size=STARTER_MEMORY_MB,
            timeout=STARTER_TIMEOUT,
            layers=[layers.runtime, layers.common],
            environment={
                "TABLE_NAME": table.table_name,
                "AUDIT_TABLE_NAME": audit_log.table.table_name,
                "BUCKET_NAME": bucket.bucket_name,
                "STATE_MACHINE_ARN": state_machine.state_machine_arn,
                "QUEUE_URL": self.queue.queue_url,
                "MAX_RECEIVE_COUNT": str(MAX_RECEIVE_COUNT),
                "RETRY_BACKOFF_SECONDS": str(RETRY_BACKOFF_SECONDS),
            },
        )
        function = self.starter.function
        table.grant_read_write_data(function)
        acknowledge_table_index_access(self.starter.role, table)
        state_machine.grant_start_execution(function)
        # An original version that arrived after its file was deleted, or that no upload accounts for
        # (a presigned URL used after abort, expiry or complete), is removed: DeleteObjectVersion.
        bucket.grant_delete(function, f"{UPLOADS_PREFIX}*")
        # ...and said so in its owner's audit trail: PutItem only (append-only).
        audit_log.grant_put(function)
        acknowledge_bucket_grant_delete(self.starter.role, bucket, f"{UPLOADS_PREFIX}*")
        # The event source grants consume rights on the queue (ChangeMessageVisibility: the retry backoff).
        function.add_event_source(
            event_sources.SqsEventSource(self.queue, batch_size=BATCH_SIZE, report_batch_item_failures=True)
        )
