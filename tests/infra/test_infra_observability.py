"""The dashboard, the alarms and their actions, log retention and tracing (issue #14)."""

from __future__ import annotations

import json
import re
from typing import Any

from aws_cdk import App, Stack
from aws_cdk.assertions import Template

from infra.constructs.observability.alarms import AlarmTopic
from infra.constructs.pipeline.stages import STAGES
from tests.infra.synth import REPO_ROOT, Synthesized

FUNCTIONS = {
    "ApiFunction",
    "StarterFunction",
    "AuthorizerFunction",
    "SweeperFunction",
    "WebhookSenderFunction",
    "LaneReclaimerFunction",
    *(stage.construct_id for stage in STAGES),
}


def _alarms(synthesized: Synthesized) -> list[dict[str, Any]]:
    return [alarm["Properties"] for alarm in synthesized.of_type("AWS::CloudWatch::Alarm").values()]


def _alarm_on(synthesized: Synthesized, metric_name: str, namespace: str) -> list[dict[str, Any]]:
    return [
        alarm
        for alarm in _alarms(synthesized)
        if alarm.get("MetricName") == metric_name and alarm.get("Namespace") == namespace
    ]


def _fires_on_first(alarm: dict[str, Any]) -> bool:
    return {
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "Threshold": 1,
        "EvaluationPeriods": 1,
        "TreatMissingData": "notBreaching",
    }.items() <= alarm.items()


def test_both_dlqs_alarm_on_the_first_dead_letter(synthesized: Synthesized) -> None:
    stack = synthesized.stack
    dlqs = {synthesized.logical_id(stack.intake.dlq), synthesized.logical_id(stack.webhooks.dlq)}
    alarms = _alarm_on(synthesized, "ApproximateNumberOfMessagesVisible", "AWS/SQS")
    watched = {alarm["Dimensions"][0]["Value"]["Fn::GetAtt"][0] for alarm in alarms}
    assert watched == dlqs
    assert all(_fires_on_first(alarm) for alarm in alarms)


def test_every_function_has_error_and_throttle_alarms_and_the_api_a_5xx_count_and_rate(
    synthesized: Synthesized,
) -> None:
    errors = _alarm_on(synthesized, "Errors", "AWS/Lambda")
    throttles = _alarm_on(synthesized, "Throttles", "AWS/Lambda")
    assert {alarm["Dimensions"][0]["Value"]["Ref"] for alarm in errors} == FUNCTIONS
    assert {alarm["Dimensions"][0]["Value"]["Ref"] for alarm in throttles} == FUNCTIONS
    assert all(_fires_on_first(alarm) for alarm in errors)
    (api_5xx,) = _alarm_on(synthesized, "5XXError", "AWS/ApiGateway")
    assert _fires_on_first(api_5xx)
    (rate,) = [alarm for alarm in _alarms(synthesized) if "Metrics" in alarm]
    expression = next(metric["Expression"] for metric in rate["Metrics"] if "Expression" in metric)
    assert expression == "100 * errors / MAX([requests, 1])"
    assert rate["Threshold"] == 5


def test_queue_age_executions_and_disabled_webhooks_are_alarmed(synthesized: Synthesized) -> None:
    ages = _alarm_on(synthesized, "ApproximateAgeOfOldestMessage", "AWS/SQS")
    assert len(ages) == 2
    assert {alarm["Threshold"] for alarm in ages} == {300}
    assert len(_alarm_on(synthesized, "ExecutionsFailed", "AWS/States")) == 1
    assert len(_alarm_on(synthesized, "ExecutionsTimedOut", "AWS/States")) == 1
    (disabled,) = _alarm_on(synthesized, "WebhookEndpointsDisabled", "Fileflow")
    assert disabled["Dimensions"] == [{"Name": "service", "Value": "webhooks"}]


def test_every_alarm_notifies_the_alarm_topic_when_it_fires_and_when_it_clears(
    synthesized: Synthesized,
) -> None:
    topic = {"Ref": synthesized.logical_id(synthesized.stack.observability.topic.topic)}
    alarms = _alarms(synthesized)
    assert len(alarms) > len(FUNCTIONS) * 2
    for alarm in alarms:
        assert alarm["AlarmActions"] == [topic], alarm.get("AlarmDescription")
        assert alarm["OKActions"] == [topic], alarm.get("AlarmDescription")


def test_the_alarm_topic_is_encrypted_tls_only_and_mails_the_configured_address() -> None:
    stack = Stack(App(), "Topic")
    AlarmTopic(stack, "AlarmTopic", email="ops@example.com")
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": "ops@example.com"}
    )
    (topic,) = template.find_resources("AWS::SNS::Topic").values()
    assert "KmsMasterKeyId" in topic["Properties"]
    (policy,) = template.find_resources("AWS::SNS::TopicPolicy").values()
    assert "aws:SecureTransport" in json.dumps(policy)
    (key,) = template.find_resources("AWS::KMS::Key").values()
    assert "cloudwatch.amazonaws.com" in json.dumps(key["Properties"]["KeyPolicy"])


def test_dashboard_graphs_aws_metrics_and_fileflow_metrics_the_code_emits(synthesized: Synthesized) -> None:
    (dashboard,) = synthesized.of_type("AWS::CloudWatch::Dashboard").values()
    assert dashboard["Properties"]["DashboardName"] == f"{synthesized.stack.stack_name}-dashboard"
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for metric in ("4XXError", "5XXError", "Latency", "Errors", "Duration", "Throttles", "ExecutionsFailed"):
        assert f'\\"{metric}\\"' in body, metric
    # Every Fileflow metric graphed or alarmed is one a function writes (a quoted name in functions/)
    names = set(re.findall(r'\\"Fileflow\\",\\"(\w+)\\"', body)) | {
        alarm["MetricName"] for alarm in _alarms(synthesized) if alarm.get("Namespace") == "Fileflow"
    }
    assert {"UploadsStarted", "UploadedBytes", "StageDuration", "WebhookEndpointsDisabled"} <= names
    source = "\n".join(path.read_text() for path in (REPO_ROOT / "functions").rglob("*.py"))
    emitted = set(re.findall(r'"([A-Z][A-Za-z]+)"', source))
    assert names - emitted == set()


def test_every_log_group_has_a_retention_and_every_function_traces_on_aws_only(
    synthesized: Synthesized,
) -> None:
    for log_group in synthesized.of_type("AWS::Logs::LogGroup").values():
        assert log_group["Properties"].get("RetentionInDays"), log_group
    condition = synthesized.stack.resolve(synthesized.stack.auth.on_local_cloud.logical_id)
    for logical_id in FUNCTIONS:
        environment = synthesized.resources[logical_id]["Properties"]["Environment"]["Variables"]
        assert environment["POWERTOOLS_TRACE_DISABLED"] == {"Fn::If": [condition, "true", "false"]}
        assert synthesized.resources[logical_id]["Properties"]["TracingConfig"] == {"Mode": "Active"}


def test_ai_spend_on_course_to_pass_the_monthly_budget_is_alarmed(synthesized: Synthesized) -> None:
    (spend,) = _alarm_on(synthesized, "AiCostMicroUsd", "Fileflow")
    # 80 % of a day's share of the default 100 USD monthly budget, in micro-dollars, over one day
    assert spend["Threshold"] == round(0.8 * 100 / 30 * 1_000_000)
    assert spend["Period"] == 86400
    assert {"Name": "stage", "Value": "ai"} in spend["Dimensions"]


def test_the_review_backlog_is_graphed_and_a_review_open_past_its_timeout_rule_is_alarmed(
    synthesized: Synthesized,
) -> None:
    (dashboard,) = synthesized.of_type("AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for gauge in ("ReviewBacklog", "ReviewOldestAge"):
        assert f'\\"Fileflow\\",\\"{gauge}\\",\\"service\\",\\"sweeper\\"' in body, gauge
    (stuck,) = _alarm_on(synthesized, "ReviewOldestAge", "Fileflow")
    # The default rule escalates once: a review waits at most twice the default day, then an hour of
    # sweeps; measured on each 15-minute sweep
    assert stuck["Threshold"] == 2 * 86400 + 3600
    assert (stuck["Statistic"], stuck["Period"]) == ("Maximum", 900)
    assert stuck["Dimensions"] == [{"Name": "service", "Value": "sweeper"}]
