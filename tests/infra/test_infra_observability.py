"""The dashboard and the alarms: DLQ not empty, function errors, API 5xx."""

from __future__ import annotations

from typing import Any

from infra.constructs.pipeline.stages import STAGES
from tests.infra.synth import Synthesized


def _alarm_on(synthesized: Synthesized, metric_name: str, namespace: str) -> list[dict[str, Any]]:
    return [
        alarm["Properties"]
        for alarm in synthesized.of_type("AWS::CloudWatch::Alarm").values()
        if alarm["Properties"]["MetricName"] == metric_name and alarm["Properties"]["Namespace"] == namespace
    ]


def _fires_on_first(alarm: dict[str, Any]) -> bool:
    return {
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "Threshold": 1,
        "EvaluationPeriods": 1,
        "TreatMissingData": "notBreaching",
    }.items() <= alarm.items()


def test_dlq_alarm_fires_on_the_first_dead_letter(synthesized: Synthesized) -> None:
    # Given the DLQ
    dlq_id = synthesized.logical_id(synthesized.stack.intake.dlq)
    # When finding the alarms on its visible messages
    (alarm,) = _alarm_on(synthesized, "ApproximateNumberOfMessagesVisible", "AWS/SQS")
    # Then one alarm watches that queue and fires as soon as one message is there
    assert alarm["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [dlq_id, "QueueName"]}}]
    assert _fires_on_first(alarm)


def test_every_function_and_the_api_have_error_alarms(synthesized: Synthesized) -> None:
    # When finding the alarms on function errors and API 5xx
    function_alarms = _alarm_on(synthesized, "Errors", "AWS/Lambda")
    api_alarms = _alarm_on(synthesized, "5XXError", "AWS/ApiGateway")
    # Then each function has one, the API has one, and all fire on the first error
    watched = {alarm["Dimensions"][0]["Value"]["Ref"] for alarm in function_alarms}
    assert watched == {
        "ApiFunction",
        "StarterFunction",
        "AuthorizerFunction",
        "SweeperFunction",
        "WebhookSenderFunction",
        "LaneReclaimerFunction",
        *(stage.construct_id for stage in STAGES),
    }
    assert len(api_alarms) == 1
    assert all(_fires_on_first(alarm) for alarm in [*function_alarms, *api_alarms])


def test_dashboard_shows_api_functions_and_queues(synthesized: Synthesized) -> None:
    # Given the dashboard
    (dashboard,) = synthesized.of_type("AWS::CloudWatch::Dashboard").values()
    body = str(dashboard["Properties"]["DashboardBody"])
    # Then it is named after the stack and graphs the API, the functions and both queues
    assert dashboard["Properties"]["DashboardName"] == f"{synthesized.stack.stack_name}-dashboard"
    for metric in (
        "4XXError",
        "5XXError",
        "Latency",
        "Errors",
        "Duration",
        "Throttles",
        "ApproximateAgeOfOldestMessage",
        "ApproximateNumberOfMessagesVisible",
    ):
        assert f'"{metric}"' in body, metric
