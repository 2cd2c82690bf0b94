"""The one way the stack builds a work queue: encrypted, TLS-only, long-polled, with its dead-letter queue."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_sqs as sqs
from constructs import Construct

DLQ_RETENTION = Duration.days(14)


def queue_with_dlq(
    scope: Construct,
    queue_id: str,
    dlq_id: str,
    *,
    visibility_timeout: Duration,
    max_receive_count: int,
) -> tuple[sqs.Queue, sqs.Queue]:
    """(queue, dlq): a message received `max_receive_count` times moves to the DLQ, kept 14 days.

    The ids are the queues' construct ids in `scope` (their logical ids stay as they were)."""
    dlq = sqs.Queue(
        scope,
        dlq_id,
        retention_period=DLQ_RETENTION,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
    )
    queue = sqs.Queue(
        scope,
        queue_id,
        visibility_timeout=visibility_timeout,
        receive_message_wait_time=Duration.seconds(20),
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        dead_letter_queue=sqs.DeadLetterQueue(queue=dlq, max_receive_count=max_receive_count),
    )
    return queue, dlq
