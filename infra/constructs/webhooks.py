"""Webhooks: the webhook queue (+DLQ) and the sender that fans events out and delivers them.

Producers (the notify stage, the sweeper, the API's redeliver) send to the queue; the sender reads it in
batches (partial batch responses), delivers each attempt through its SSRF-guarded client and queues its
own retries on the same queue (SQS delays them; a longer wait is re-queued every 15 minutes).
"""

from __future__ import annotations

from aws_cdk import Aws, CfnRule, CfnRuleAssertion, Duration, Fn
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda_event_sources as event_sources
from constructs import Construct

from infra.constructs.cloud import LOCALSTACK_ACCOUNT_ID
from infra.constructs.lambda_function import PythonFunction
from infra.constructs.layers import Layers
from infra.constructs.queues import queue_with_dlq
from infra.context import WebhookContext

# Up to BATCH_SIZE attempts run in parallel threads, each within its 15 s deadline.
SENDER_TIMEOUT = Duration.seconds(60)
SENDER_MEMORY_MB = 256
# AWS's guidance for SQS event sources: visibility timeout >= 6 x the function timeout.
QUEUE_VISIBILITY_TIMEOUT = Duration.seconds(6 * int(SENDER_TIMEOUT.to_seconds()))
# A message the sender failed to handle (DynamoDB or SQS errors, not a receiver's failure: that is an
# attempt recorded and retried by schedule) is dead-lettered after its fifth receive.
MAX_RECEIVE_COUNT = 5
BATCH_SIZE = 10
# What the sender does with the table: read endpoints and deliveries, write deliveries (transactions of
# Put/Update), count failures and disable endpoints. No Scan, no Delete, no index.
SENDER_TABLE_ACTIONS = ("dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem")


class Webhooks(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        layers: Layers,
        table: dynamodb.ITable,
        settings: WebhookContext,
    ) -> None:
        super().__init__(scope, construct_id)
        self.settings = settings
        self.queue, self.dlq = queue_with_dlq(
            self,
            "WebhookQueue",
            "WebhookDLQ",
            visibility_timeout=QUEUE_VISIBILITY_TIMEOUT,
            max_receive_count=MAX_RECEIVE_COUNT,
        )
        self.sender = PythonFunction(
            self,
            "WebhookSenderFunction",
            source_dir="webhooks",
            handler="fileflow_webhooks.handler.lambda_handler",
            service_name="webhooks",
            description="Fans webhook events out to users' endpoints and delivers them, signed and retried",
            memory_size=SENDER_MEMORY_MB,
            timeout=SENDER_TIMEOUT,
            layers=[layers.runtime, layers.webhooks, layers.common],
            environment={
                "TABLE_NAME": table.table_name,
                "WEBHOOK_QUEUE_URL": self.queue.queue_url,
                "WEBHOOK_RETRY_SCHEDULE": settings.retry_schedule,
                "WEBHOOK_DISABLE_AFTER": str(settings.disable_after),
                "WEBHOOKS_ALLOW_LOCAL_HTTP": _bool(settings.allow_local_http),
            },
        )
        function = self.sender.function
        # The table itself, not its indexes (table.grant would add /index/*): the sender queries none.
        iam.Grant.add_to_principal(
            grantee=function, actions=list(SENDER_TABLE_ACTIONS), resource_arns=[table.table_arn]
        )
        # Retries (and attempts due later than 15 minutes) go back onto its own queue.
        self.queue.grant_send_messages(function)
        # The event source grants consume rights on the queue.
        function.add_event_source(
            event_sources.SqsEventSource(self.queue, batch_size=BATCH_SIZE, report_batch_item_failures=True)
        )
        if settings.allow_local_http:
            # Webhooks to 127.0.0.1 are for the local cloud: this template fails to deploy anywhere else.
            CfnRule(
                self,
                "LocalHttpOnlyOnLocalCloud",
                assertions=[
                    CfnRuleAssertion(
                        assert_=Fn.condition_equals(Aws.ACCOUNT_ID, LOCALSTACK_ACCOUNT_ID),
                        assert_description=(
                            "webhooks_allow_local_http=true lets webhooks reach 127.0.0.1 and localhost, "
                            f"for the local cloud (account {LOCALSTACK_ACCOUNT_ID}) only: deploy without it"
                        ),
                    )
                ],
            )

    def allow_producer(self, producer: PythonFunction) -> None:
        """A function that queues events (or redeliveries): SendMessage on the queue, and its URL."""
        producer.function.add_environment("WEBHOOK_QUEUE_URL", self.queue.queue_url)
        self.queue.grant_send_messages(producer.function)

    @property
    def api_environment(self) -> dict[str, str]:
        """What the API checks URLs and rotates secrets with."""
        return {
            "WEBHOOKS_ALLOW_LOCAL_HTTP": _bool(self.settings.allow_local_http),
            "WEBHOOK_ROTATION_OVERLAP_SECONDS": str(self.settings.rotation_overlap_seconds),
        }


def _bool(value: bool) -> str:
    return "true" if value else "false"
