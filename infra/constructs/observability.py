"""One CloudWatch dashboard and the alarms that say Fileflow is unhealthy (no SNS: alarms only)."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

PERIOD = Duration.minutes(1)


def _alarm(
    scope: Construct, construct_id: str, metric: cloudwatch.Metric, description: str
) -> cloudwatch.Alarm:
    """Alarm as soon as one period sums to at least 1; no data (idle) is healthy."""
    return metric.create_alarm(
        scope,
        construct_id,
        alarm_description=description,
        threshold=1,
        evaluation_periods=1,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
    )


class Observability(Construct):
    """Dashboard: API 4xx/5xx/latency, function errors/duration/throttles, queue age/depth, DLQ depth."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        rest_api: apigw.RestApi,
        functions: Mapping[str, lambda_.IFunction],
        queue: sqs.Queue,
        dlq: sqs.Queue,
        state_machine: sfn.StateMachine,
    ) -> None:
        super().__init__(scope, construct_id)
        stack_name = Stack.of(self).stack_name
        api_4xx = rest_api.metric_client_error(period=PERIOD, statistic="Sum")
        api_5xx = rest_api.metric_server_error(period=PERIOD, statistic="Sum")
        # Alarms get unlabelled metrics: a label turns an alarm into a metric-math alarm.
        dlq_depth = dlq.metric_approximate_number_of_messages_visible(period=PERIOD, statistic="Maximum")

        self.dlq_alarm = _alarm(
            self, "DlqNotEmptyAlarm", dlq_depth, "Uploads failed processing 3 times and wait in the DLQ"
        )
        self.api_5xx_alarm = _alarm(self, "Api5xxAlarm", api_5xx, "The API answered 5xx")
        executions_failed = state_machine.metric_failed(period=PERIOD, statistic="Sum")
        self.executions_failed_alarm = _alarm(
            self,
            "ExecutionsFailedAlarm",
            executions_failed,
            "Processing workflows failed: not a bad file, but a dependency or a bug (see processing_error)",
        )
        self.function_error_alarms = [
            _alarm(
                self,
                f"{name}ErrorsAlarm",
                function.metric_errors(period=PERIOD, statistic="Sum"),
                f"{name}Function raised errors",
            )
            for name, function in functions.items()
        ]

        self.dashboard_name = f"{stack_name}-dashboard"
        self.dashboard = cloudwatch.Dashboard(
            self, "Dashboard", dashboard_name=self.dashboard_name, default_interval=Duration.hours(3)
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(title="API 4xx / 5xx", left=[api_4xx, api_5xx], width=8),
            cloudwatch.GraphWidget(
                title="API latency (p50 / p99)",
                left=[
                    rest_api.metric_latency(period=PERIOD, statistic="p50"),
                    rest_api.metric_latency(period=PERIOD, statistic="p99"),
                ],
                width=8,
            ),
            cloudwatch.AlarmStatusWidget(
                title="Alarms",
                alarms=[
                    self.dlq_alarm,
                    self.api_5xx_alarm,
                    self.executions_failed_alarm,
                    *self.function_error_alarms,
                ],
                width=8,
            ),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Workflow executions: started / succeeded / failed / timed out",
                left=[
                    state_machine.metric_started(period=PERIOD, statistic="Sum", label="started"),
                    state_machine.metric_succeeded(period=PERIOD, statistic="Sum", label="succeeded"),
                    state_machine.metric_failed(period=PERIOD, statistic="Sum", label="failed"),
                    state_machine.metric_timed_out(period=PERIOD, statistic="Sum", label="timed out"),
                ],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Workflow execution time (p50 / p99, ms)",
                left=[
                    state_machine.metric_time(period=PERIOD, statistic="p50", label="p50"),
                    state_machine.metric_time(period=PERIOD, statistic="p99", label="p99"),
                ],
                width=12,
            ),
        )
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
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Function duration (p99)",
                left=[
                    function.metric_duration(period=PERIOD, statistic="p99", label=name)
                    for name, function in functions.items()
                ],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Processing queue: oldest message age (s) / depth / DLQ depth",
                left=[
                    queue.metric_approximate_age_of_oldest_message(
                        period=PERIOD, statistic="Maximum", label="oldest message age"
                    )
                ],
                right=[
                    queue.metric_approximate_number_of_messages_visible(
                        period=PERIOD, statistic="Maximum", label="depth"
                    ),
                    dlq_depth.with_(label="DLQ depth"),
                ],
                width=8,
            ),
        )
