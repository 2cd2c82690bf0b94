"""One CloudWatch dashboard and the alarms that say Fileflow is unhealthy, with actions to the alarm topic.

The dashboard shows AWS's metrics (API Gateway, Lambda, SQS, Step Functions) next to Fileflow's own EMF
metrics (uploads, bytes, per-stage latency and failures, dead letters, refusals, webhooks).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import Duration, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra.constructs.observability.alarms import OLDEST_MESSAGE_AGE, Alarms, AlarmTopic
from infra.constructs.observability.metrics import PERIOD, fileflow, stage_metric

# The sweeper measures the review backlog on each of its runs (every 15 minutes).
REVIEW_GAUGE_PERIOD = Duration.minutes(15)


def review_gauge(name: str, *, label: str | None = None) -> cloudwatch.Metric:
    """One of the sweeper's review-queue gauges (`ReviewBacklog`, `ReviewOldestAge`): its latest value."""
    return fileflow(name, "sweeper", statistic="Maximum", label=label, period=REVIEW_GAUGE_PERIOD)


@dataclass(frozen=True)
class WorkQueue:
    """A queue and its DLQ, by what they carry."""

    name: str
    queue: sqs.IQueue
    dlq: sqs.IQueue


class Observability(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        rest_api: apigw.RestApi,
        functions: Mapping[str, lambda_.IFunction],
        queues: Sequence[WorkQueue],
        state_machine: sfn.StateMachine,
        stages: Mapping[str, str],
        alarm_email: str | None,
        ai_monthly_budget_usd: float,
        review_wait: Duration,
    ) -> None:
        """`stages`: each stage as its events name it -> its function's name (infra/.../stages.py);
        `review_wait`: the longest an open review waits before its timeout rule closes it."""
        super().__init__(scope, construct_id)
        self.topic = AlarmTopic(self, "AlarmTopic", email=alarm_email)
        self.alarms = Alarms(self, "Alarms", topic=self.topic)
        self._alarm_on_api(rest_api)
        self._alarm_on_queues(queues)
        self._alarm_on_workflow(state_machine)
        self._alarm_on_functions(functions)
        self.webhook_endpoints_disabled_alarm = self.alarms.at_least(
            "WebhookEndpointsDisabledAlarm",
            fileflow("WebhookEndpointsDisabled", "webhooks"),
            "A webhook endpoint was disabled (410 Gone, or repeated failures): its owner gets no more events",
        )

        # No alarm sees a whole month: a day that spends more than 80 % of a day's share of the monthly
        # budget is on course to spend it before the month ends (the AI stage stops at the budget itself).
        daily_share_micro_usd = ai_monthly_budget_usd / 30 * 1_000_000
        self.ai_spend_alarm = self.alarms.at_least(
            "AiSpendRateAlarm",
            stage_metric("AiCostMicroUsd", "ai", period=Duration.days(1)),
            "Claude spent over 80 % of a day's share of the monthly AI budget today: it is near its end",
            threshold=round(0.8 * daily_share_micro_usd),
        )

        # The timeout rule closes every review in `review_wait`: one still open an hour (4 sweeps) later
        # was not closed by its workflow (docs/runbooks/stuck-review.md).
        self.review_stuck_alarm = self.alarms.at_least(
            "ReviewStuckAlarm",
            review_gauge("ReviewOldestAge"),
            "A review has waited past its timeout rule's end: its workflow did not close it",
            threshold=review_wait.to_seconds() + 3600,
        )

        self.dashboard_name = f"{Stack.of(self).stack_name}-dashboard"
        self.dashboard = cloudwatch.Dashboard(
            self, "Dashboard", dashboard_name=self.dashboard_name, default_interval=Duration.hours(3)
        )
        self._api_widgets(rest_api)
        self._upload_widgets()
        self._workflow_widgets(state_machine, stages)
        self._queue_widgets(queues)
        self._function_widgets(functions)
        self._webhook_widgets()
        self._ai_and_review_widgets()

    # --- alarms -------------------------------------------------------------------------------------
    def _alarm_on_api(self, rest_api: apigw.RestApi) -> None:
        self.api_5xx_alarm = self.alarms.at_least(
            "Api5xxAlarm",
            rest_api.metric_server_error(period=PERIOD, statistic="Sum"),
            "The API answered 5xx",
        )
        # An error rate, not a count: 5 % of the requests of 5 minutes answered 5xx.
        error_rate = cloudwatch.MathExpression(
            expression="100 * errors / MAX([requests, 1])",
            using_metrics={
                "errors": rest_api.metric_server_error(period=Duration.minutes(5), statistic="Sum"),
                "requests": rest_api.metric_count(period=Duration.minutes(5), statistic="Sum"),
            },
            period=Duration.minutes(5),
        )
        self.api_error_rate_alarm = self.alarms.at_least(
            "ApiErrorRateAlarm", error_rate, "At least 5 % of the API's requests answered 5xx", threshold=5
        )

    def _alarm_on_queues(self, queues: Sequence[WorkQueue]) -> None:
        self.dlq_alarms: dict[str, cloudwatch.Alarm] = {}
        for work in queues:
            self.dlq_alarms[work.name] = self.alarms.at_least(
                f"{work.name}DlqNotEmptyAlarm",
                work.dlq.metric_approximate_number_of_messages_visible(period=PERIOD, statistic="Maximum"),
                f"Messages of the {work.name} queue failed 3 times and wait in its DLQ",
            )
            self.alarms.at_least(
                f"{work.name}OldestMessageAlarm",
                work.queue.metric_approximate_age_of_oldest_message(period=PERIOD, statistic="Maximum"),
                f"The {work.name} queue's oldest message waited {OLDEST_MESSAGE_AGE.to_minutes():g} minutes",
                threshold=OLDEST_MESSAGE_AGE.to_seconds(),
                periods=2,
            )

    def _alarm_on_workflow(self, state_machine: sfn.StateMachine) -> None:
        self.executions_failed_alarm = self.alarms.at_least(
            "ExecutionsFailedAlarm",
            state_machine.metric_failed(period=PERIOD, statistic="Sum"),
            "Processing workflows failed: not a bad file, but a dependency or a bug (see processing_error)",
        )
        self.alarms.at_least(
            "ExecutionsTimedOutAlarm",
            state_machine.metric_timed_out(period=PERIOD, statistic="Sum"),
            "Processing workflows timed out",
        )

    def _alarm_on_functions(self, functions: Mapping[str, lambda_.IFunction]) -> None:
        self.function_error_alarms = [
            self.alarms.at_least(
                f"{name}ErrorsAlarm",
                function.metric_errors(period=PERIOD, statistic="Sum"),
                f"{name}Function raised errors",
            )
            for name, function in functions.items()
        ]
        self.function_throttle_alarms = [
            self.alarms.at_least(
                f"{name}ThrottlesAlarm",
                function.metric_throttles(period=PERIOD, statistic="Sum"),
                f"{name}Function was throttled for 3 minutes running (at its reserved concurrency)",
                periods=3,
            )
            for name, function in functions.items()
        ]

    # --- dashboard ----------------------------------------------------------------------------------
    def _api_widgets(self, rest_api: apigw.RestApi) -> None:
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="API 4xx / 5xx",
                left=[
                    rest_api.metric_client_error(period=PERIOD, statistic="Sum"),
                    rest_api.metric_server_error(period=PERIOD, statistic="Sum"),
                ],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="API latency (p50 / p99)",
                left=[
                    rest_api.metric_latency(period=PERIOD, statistic="p50"),
                    rest_api.metric_latency(period=PERIOD, statistic="p99"),
                ],
                width=8,
            ),
            cloudwatch.AlarmStatusWidget(title="Alarms", alarms=list(self.alarms.all), width=8),
        )

    def _upload_widgets(self) -> None:
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Uploads: started / completed / aborted / expired",
                left=[
                    fileflow("UploadsStarted", "api", label="started"),
                    fileflow("UploadsCompleted", "api", label="completed"),
                    fileflow("UploadsAborted", "api", label="aborted"),
                    fileflow("UploadsExpired", "sweeper", label="expired"),
                ],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Bytes uploaded", left=[fileflow("UploadedBytes", "api", label="bytes")], width=8
            ),
            cloudwatch.GraphWidget(
                title="Refusals: rate limit / quota / stray objects",
                left=[
                    fileflow("RateLimitRefusals", "api", label="rate limited"),
                    fileflow("QuotaRefusals", "api", label="over quota"),
                    fileflow("ObjectsRefused", "starter", label="objects refused"),
                ],
                width=8,
            ),
        )

    def _workflow_widgets(self, state_machine: sfn.StateMachine, stages: Mapping[str, str]) -> None:
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Workflow executions: started / succeeded / failed / timed out",
                left=[
                    state_machine.metric_started(period=PERIOD, statistic="Sum", label="started"),
                    state_machine.metric_succeeded(period=PERIOD, statistic="Sum", label="succeeded"),
                    state_machine.metric_failed(period=PERIOD, statistic="Sum", label="failed"),
                    state_machine.metric_timed_out(period=PERIOD, statistic="Sum", label="timed out"),
                ],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Per-stage latency (p99, ms)",
                left=[
                    stage_metric("StageDuration", stage, function, statistic="p99", label=stage)
                    for stage, function in stages.items()
                ],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Per-stage failures / rejected files",
                left=[
                    stage_metric(name, stage, function, label=f"{stage} {what}")
                    for stage, function in stages.items()
                    for name, what in (("StageFailures", "failures"), ("StageRejections", "rejected"))
                ],
                width=8,
            ),
        )

    def _queue_widgets(self, queues: Sequence[WorkQueue]) -> None:
        self.dashboard.add_widgets(
            *(
                cloudwatch.GraphWidget(
                    title=f"{work.name} queue: oldest message age (s) / depth / DLQ depth",
                    left=[
                        work.queue.metric_approximate_age_of_oldest_message(
                            period=PERIOD, statistic="Maximum", label="oldest message age"
                        )
                    ],
                    right=[
                        work.queue.metric_approximate_number_of_messages_visible(
                            period=PERIOD, statistic="Maximum", label="depth"
                        ),
                        work.dlq.metric_approximate_number_of_messages_visible(
                            period=PERIOD, statistic="Maximum", label="DLQ depth"
                        ),
                    ],
                    width=8,
                )
                for work in queues
            ),
            cloudwatch.GraphWidget(
                title="Dead letters sent by the starter",
                left=[fileflow("MessagesDeadLettered", "starter", label="dead-lettered")],
                width=8,
            ),
        )

    def _function_widgets(self, functions: Mapping[str, lambda_.IFunction]) -> None:
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Function errors / throttles",
                left=[
                    metric
                    for name, function in functions.items()
                    for metric in (
                        function.metric_errors(period=PERIOD, statistic="Sum", label=f"{name} errors"),
                        function.metric_throttles(period=PERIOD, statistic="Sum", label=f"{name} throttles"),
                    )
                ],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Function duration (p99)",
                left=[
                    function.metric_duration(period=PERIOD, statistic="p99", label=name)
                    for name, function in functions.items()
                ],
                width=12,
            ),
        )

    def _webhook_widgets(self) -> None:
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Webhooks: delivered / retried / failed / endpoints disabled",
                left=[
                    fileflow("WebhooksDelivered", "webhooks", label="delivered"),
                    fileflow("WebhookRetries", "webhooks", label="retried"),
                    fileflow("WebhookDeliveriesFailed", "webhooks", label="failed"),
                    fileflow("WebhookEndpointsDisabled", "webhooks", label="endpoints disabled"),
                ],
                width=12,
            ),
        )

    def _ai_and_review_widgets(self) -> None:
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="AI cost (micro-USD) / calls / cache hits",
                left=[stage_metric("AiCostMicroUsd", "ai", label="cost")],
                right=[
                    stage_metric("AiCalls", "ai", label="calls"),
                    stage_metric("AiCacheHits", "ai", label="cache hits"),
                ],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="AI tokens: input / output / cache read / cache write",
                left=[
                    stage_metric("AiInputTokens", "ai", label="input"),
                    stage_metric("AiOutputTokens", "ai", label="output"),
                    stage_metric("AiCacheReadTokens", "ai", label="cache read"),
                    stage_metric("AiCacheWriteTokens", "ai", label="cache write"),
                ],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Reviews: opened / escalated / expired",
                left=[
                    stage_metric("ReviewsOpened", "review", label="opened"),
                    stage_metric("ReviewsEscalated", "review", label="escalated"),
                    stage_metric("ReviewsExpired", "review", label="expired"),
                ],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Review backlog (open reviews) / oldest review's wait (s)",
                left=[review_gauge("ReviewBacklog", label="open")],
                right=[review_gauge("ReviewOldestAge", label="oldest wait")],
                width=8,
            ),
        )
