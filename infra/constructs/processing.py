"""The processing queue, its DLQ, and the processor function fed by them."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.constructs.lambda_function import PythonFunction
from infra.constructs.layers import Layers
from infra.constructs.storage import DERIVED_PREFIX, UPLOADS_PREFIX
from infra.nag import (
    acknowledge_bucket_grant_delete,
    acknowledge_bucket_grant_put,
    acknowledge_bucket_grant_read,
    acknowledge_table_index_access,
)

# Sizing (docs/processing.md): a file takes at most ~15 s (a 50-megapixel image, a 100 MiB document);
# a batch of 5 then fits twice in the timeout, and the handler starts no record with under 20 s left.
PROCESSOR_TIMEOUT = Duration.seconds(120)
# Lambda's CPU grows with memory: 1769 MB is one full vCPU; 2048 MB also holds a 50 MP RGBA frame (200 MB)
# several times over while Pillow resizes it.
PROCESSOR_MEMORY_MB = 2048
# AWS's guidance for SQS event sources: visibility timeout >= 6 x the function timeout.
QUEUE_VISIBILITY_TIMEOUT = Duration.seconds(6 * int(PROCESSOR_TIMEOUT.to_seconds()))
MAX_RECEIVE_COUNT = 3
BATCH_SIZE = 5
# Uploads come in bursts (a user drops a folder): 1 s gathers a burst without delaying a lone file much.
MAX_BATCHING_WINDOW = Duration.seconds(1)
# A failed message is retried after 10, 20, then 40 s (processor-set visibility), then dead-lettered.
RETRY_BACKOFF_SECONDS = 10


class Processing(Construct):
    """ObjectCreated events -> ProcessingQueue -> ProcessorFunction (partial batch responses) -> table."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        layers: Layers,
        bucket: s3.IBucket,
        table: dynamodb.ITable,
        idempotency_table: dynamodb.ITable,
    ) -> None:
        super().__init__(scope, construct_id)
        self.dlq = sqs.Queue(
            self,
            "ProcessingDLQ",
            retention_period=Duration.days(14),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
        )
        self.queue = sqs.Queue(
            self,
            "ProcessingQueue",
            visibility_timeout=QUEUE_VISIBILITY_TIMEOUT,
            receive_message_wait_time=Duration.seconds(20),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            dead_letter_queue=sqs.DeadLetterQueue(queue=self.dlq, max_receive_count=MAX_RECEIVE_COUNT),
        )

        self.processor = PythonFunction(
            self,
            "ProcessorFunction",
            source_dir="processor",
            handler="fileflow_processor.handler.lambda_handler",
            service_name="processor",
            description="Processes uploaded files: one SQS batch of S3 ObjectCreated events per invocation",
            memory_size=PROCESSOR_MEMORY_MB,
            timeout=PROCESSOR_TIMEOUT,
            layers=[layers.runtime, layers.processing, layers.common],
            environment={
                "TABLE_NAME": table.table_name,
                "BUCKET_NAME": bucket.bucket_name,
                "IDEMPOTENCY_TABLE_NAME": idempotency_table.table_name,
                "QUEUE_URL": self.queue.queue_url,
                "MAX_RECEIVE_COUNT": str(MAX_RECEIVE_COUNT),
                "RETRY_BACKOFF_SECONDS": str(RETRY_BACKOFF_SECONDS),
            },
        )
        function = self.processor.function
        # Reads originals (any version); writes derivatives under derived/ only (outside the
        # notification prefix, so they never trigger processing).
        bucket.grant_read(function)
        bucket.grant_put(function, f"{DERIVED_PREFIX}*")
        table.grant_read_write_data(function)
        idempotency_table.grant_read_write_data(function)
        acknowledge_bucket_grant_read(self.processor.role, bucket)
        acknowledge_bucket_grant_put(self.processor.role, bucket, f"{DERIVED_PREFIX}*")
        # A file deleted while it was processed: the derivatives just written, and an original that
        # arrived after the delete (a presigned URL used late), are removed (docs/files-api.md, "Delete").
        for prefix in (UPLOADS_PREFIX, DERIVED_PREFIX):
            bucket.grant_delete(function, f"{prefix}*")
            acknowledge_bucket_grant_delete(self.processor.role, bucket, f"{prefix}*")
        acknowledge_table_index_access(self.processor.role, table)
        # The event source grants consume rights on the queue (ChangeMessageVisibility included: the
        # retry backoff).
        function.add_event_source(
            event_sources.SqsEventSource(
                self.queue,
                batch_size=BATCH_SIZE,
                max_batching_window=MAX_BATCHING_WINDOW,
                report_batch_item_failures=True,
            )
        )
