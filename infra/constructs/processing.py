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
from infra.nag import acknowledge_bucket_grant_read, acknowledge_table_index_access

PROCESSOR_TIMEOUT = Duration.seconds(60)
# AWS's guidance for SQS event sources: visibility timeout >= 6 x the function timeout.
QUEUE_VISIBILITY_TIMEOUT = Duration.seconds(6 * int(PROCESSOR_TIMEOUT.to_seconds()))
MAX_RECEIVE_COUNT = 3


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
            memory_size=1024,
            timeout=PROCESSOR_TIMEOUT,
            layers=[layers.runtime, layers.common],
            environment={
                "TABLE_NAME": table.table_name,
                "BUCKET_NAME": bucket.bucket_name,
                "IDEMPOTENCY_TABLE_NAME": idempotency_table.table_name,
            },
        )
        function = self.processor.function
        bucket.grant_read(function)
        table.grant_read_write_data(function)
        idempotency_table.grant_read_write_data(function)
        acknowledge_bucket_grant_read(self.processor.role, bucket)
        acknowledge_table_index_access(self.processor.role, table)
        # The event source grants consume rights on the queue.
        function.add_event_source(
            event_sources.SqsEventSource(
                self.queue,
                batch_size=10,
                max_batching_window=Duration.seconds(1),
                report_batch_item_failures=True,
            )
        )
