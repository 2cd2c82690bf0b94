"""Webhooks: the queue and its DLQ, the sender, its least-privilege grants, the producers' access, and the
context keys (the local-http allowance refused on AWS by a template rule)."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import App

from infra.context import DEFAULT_WEBHOOK_RETRY_SCHEDULE, webhook_context
from tests.infra.conftest import COLLECT_VALIDATION_REPORT
from tests.infra.synth import Synthesized, cdk_json_context

FOURTEEN_DAYS = 14 * 24 * 3600
PRODUCERS = ("NotifyStageFunction", "SweeperFunction", "ApiFunction")


def _properties(synthesized: Synthesized, which: str) -> dict[str, Any]:
    webhooks = synthesized.stack.webhooks
    properties: dict[str, Any] = synthesized.resource(webhooks.queue if which == "queue" else webhooks.dlq)[
        "Properties"
    ]
    return properties


def _role_statements(template: dict[str, Any], function_id: str) -> list[dict[str, Any]]:
    resources = template["Resources"]
    role_id = resources[function_id]["Properties"]["Role"]["Fn::GetAtt"][0]
    return [
        statement
        for resource in resources.values()
        if resource["Type"] == "AWS::IAM::Policy" and {"Ref": role_id} in resource["Properties"]["Roles"]
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]
    ]


def _actions(statement: dict[str, Any]) -> set[str]:
    action = statement["Action"]
    return {action} if isinstance(action, str) else set(action)


def _variables(template: dict[str, Any], function_id: str) -> dict[str, Any]:
    variables: dict[str, Any] = template["Resources"][function_id]["Properties"]["Environment"]["Variables"]
    return variables


def test_the_queue_dead_letters_after_five_receives_and_outlasts_the_sender(synthesized: Synthesized) -> None:
    # Given the webhook queue, its DLQ and the sender
    dlq_id = synthesized.logical_id(synthesized.stack.webhooks.dlq)
    queue = _properties(synthesized, "queue")
    sender_timeout = synthesized.resources["WebhookSenderFunction"]["Properties"]["Timeout"]
    # Then a message is dead-lettered on its fifth failed receive and kept 14 days
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": [dlq_id, "Arn"]},
        "maxReceiveCount": 5,
    }
    assert _properties(synthesized, "dlq")["MessageRetentionPeriod"] == FOURTEEN_DAYS
    # And it stays invisible while a batch runs (>= 6 x the 60 s function timeout), long-polled
    assert sender_timeout == 60
    assert queue["VisibilityTimeout"] >= 6 * sender_timeout
    assert queue["ReceiveMessageWaitTimeSeconds"] == 20


def test_both_webhook_queues_are_encrypted_and_tls_only(synthesized: Synthesized) -> None:
    policies = synthesized.of_type("AWS::SQS::QueuePolicy").values()
    for which in ("queue", "dlq"):
        # Given one of the queues and its resource policy
        webhooks = synthesized.stack.webhooks
        queue_id = synthesized.logical_id(webhooks.queue if which == "queue" else webhooks.dlq)
        statements = [
            statement
            for policy in policies
            if policy["Properties"]["Queues"] == [{"Ref": queue_id}]
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        ]
        # Then SQS-managed encryption is on and plain-HTTP requests are denied
        assert _properties(synthesized, which)["SqsManagedSseEnabled"] is True, which
        assert any(
            s["Effect"] == "Deny"
            and s["Action"] == "sqs:*"
            and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            for s in statements
        ), which


def test_the_sender_reads_the_queue_with_partial_batch_responses(synthesized: Synthesized) -> None:
    # Given the event source mapping of the sender
    queue_id = synthesized.logical_id(synthesized.stack.webhooks.queue)
    [mapping] = [
        m["Properties"]
        for m in synthesized.of_type("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["FunctionName"] == {"Ref": "WebhookSenderFunction"}
    ]
    # Then it reads the webhook queue in batches of 10 and honours partial batch responses
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": [queue_id, "Arn"]}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BatchSize"] == 10


def test_the_sender_env_names_its_table_queue_and_the_default_policy(synthesized: Synthesized) -> None:
    # Given the sender's environment (cdk.json's context: no webhook keys)
    stack = synthesized.stack
    variables = _variables(synthesized.template_json, "WebhookSenderFunction")
    # Then it names this stack's table and webhook queue, the notes' schedule, 5 failures, no local http
    assert variables["TABLE_NAME"] == {"Ref": synthesized.logical_id(stack.metadata.table)}
    assert variables["WEBHOOK_QUEUE_URL"] == {"Ref": synthesized.logical_id(stack.webhooks.queue)}
    assert variables["WEBHOOK_RETRY_SCHEDULE"] == DEFAULT_WEBHOOK_RETRY_SCHEDULE
    assert variables["WEBHOOK_DISABLE_AFTER"] == "5"
    assert variables["WEBHOOKS_ALLOW_LOCAL_HTTP"] == "false"
    # And the sender's layers carry httpx and standardwebhooks
    layers = synthesized.resources["WebhookSenderFunction"]["Properties"]["Layers"]
    assert {"Ref": synthesized.logical_id(stack.layers.webhooks)} in layers


def test_the_sender_may_only_read_and_write_items_and_send_to_its_queue(synthesized: Synthesized) -> None:
    # Given the sender's role
    stack = synthesized.stack
    table_arn = {"Fn::GetAtt": [synthesized.logical_id(stack.metadata.table), "Arn"]}
    queue_arn = {"Fn::GetAtt": [synthesized.logical_id(stack.webhooks.queue), "Arn"]}
    statements = _role_statements(synthesized.template_json, "WebhookSenderFunction")
    # Then its table statement allows exactly Get/Query/Put/Update, on the table and not its indexes
    [table_statement] = [s for s in statements if any(a.startswith("dynamodb:") for a in _actions(s))]
    assert _actions(table_statement) == {
        "dynamodb:GetItem",
        "dynamodb:Query",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
    }
    assert table_statement["Resource"] == table_arn
    # And on SQS it may send to (and consume) its own queue only
    sqs_statements = [s for s in statements if any(a.startswith("sqs:") for a in _actions(s))]
    assert sqs_statements
    assert all(s["Resource"] == queue_arn for s in sqs_statements)
    assert "sqs:SendMessage" in set().union(*(_actions(s) for s in sqs_statements))
    # And nothing else: no S3, no secrets, no other table
    services = {a.split(":")[0] for s in statements for a in _actions(s)}
    assert services == {"dynamodb", "sqs", "logs", "xray"}


def test_only_the_producers_may_send_to_the_webhook_queue(synthesized: Synthesized) -> None:
    # Given the webhook queue and every function of the stack
    queue_id = synthesized.logical_id(synthesized.stack.webhooks.queue)
    queue_arn = {"Fn::GetAtt": [queue_id, "Arn"]}
    functions = synthesized.of_type("AWS::Lambda::Function")
    for function_id in functions:
        statements = _role_statements(synthesized.template_json, function_id)
        on_queue = set().union(*(_actions(s) for s in statements if s["Resource"] == queue_arn))
        variables = _variables(synthesized.template_json, function_id)
        if function_id in PRODUCERS:
            # Then the notify stage, the sweeper and the API may send to it (and only send) and know its URL
            assert "sqs:SendMessage" in on_queue, function_id
            assert not on_queue & {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:PurgeQueue"}, function_id
            assert variables["WEBHOOK_QUEUE_URL"] == {"Ref": queue_id}, function_id
        elif function_id != "WebhookSenderFunction":
            # And no other function has any right on it
            assert not on_queue, function_id
            assert "WEBHOOK_QUEUE_URL" not in variables, function_id


def test_the_api_checks_urls_and_rotates_secrets_by_the_context(synthesized: Synthesized) -> None:
    variables = _variables(synthesized.template_json, "ApiFunction")
    assert variables["WEBHOOKS_ALLOW_LOCAL_HTTP"] == "false"
    assert variables["WEBHOOK_ROTATION_OVERLAP_SECONDS"] == "86400"


def test_by_default_the_template_carries_no_local_cloud_rule(synthesized: Synthesized) -> None:
    # Given the template without webhooks_allow_local_http
    rules = synthesized.template_json.get("Rules", {})
    # Then only CDK's bootstrap check is there
    assert set(rules) == {"CheckBootstrapVersion"}


@pytest.fixture(scope="module")
def local_template(built_layers: None) -> dict[str, Any]:
    """The stack as the e2e suite deploys it: local http allowed, a short schedule, 3 failures."""
    from infra.stack import FileflowStack

    app = App(
        context={
            **cdk_json_context(),
            **COLLECT_VALIDATION_REPORT,
            "webhooks_allow_local_http": "true",
            "webhook_retry_schedule": "1,1,1,1",
            "webhook_disable_after": "3",
            "webhook_rotation_overlap_seconds": "60",
        }
    )
    stack = FileflowStack(app, "FileflowLocalWebhooks", stack_name="FileflowLocalWebhooks")
    template: dict[str, Any] = app.synth().get_stack_by_name(stack.stack_name).template
    return template


def test_the_local_allowance_comes_with_a_rule_that_refuses_aws(local_template: dict[str, Any]) -> None:
    # Given the template synthesized with webhooks_allow_local_http=true
    rules = local_template["Rules"]
    [rule_id] = [rule for rule in rules if rule != "CheckBootstrapVersion"]
    [assertion] = rules[rule_id]["Assertions"]
    # Then a rule fails the deploy unless the account is LocalStack's 000000000000 (AWS never issues it)
    assert assertion["Assert"] == {"Fn::Equals": [{"Ref": "AWS::AccountId"}, "000000000000"]}
    assert "webhooks_allow_local_http" in assertion["AssertDescription"]
    # And the sender and the API get the allowance, with the context's schedule, failures and overlap
    sender = _variables(local_template, "WebhookSenderFunction")
    assert sender["WEBHOOKS_ALLOW_LOCAL_HTTP"] == "true"
    assert sender["WEBHOOK_RETRY_SCHEDULE"] == "1,1,1,1"
    assert sender["WEBHOOK_DISABLE_AFTER"] == "3"
    api = _variables(local_template, "ApiFunction")
    assert api["WEBHOOKS_ALLOW_LOCAL_HTTP"] == "true"
    assert api["WEBHOOK_ROTATION_OVERLAP_SECONDS"] == "60"


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"webhooks_allow_local_http": "yes"}, "webhooks_allow_local_http"),
        ({"webhook_retry_schedule": "5,soon"}, "webhook_retry_schedule"),
        ({"webhook_retry_schedule": "5,90000"}, "webhook_retry_schedule"),
        ({"webhook_disable_after": "0"}, "webhook_disable_after"),
        ({"webhook_rotation_overlap_seconds": "604801"}, "webhook_rotation_overlap_seconds"),
    ],
)
def test_bad_webhook_context_values_are_refused(context: dict[str, str], message: str) -> None:
    # Given a context value the sender or the API could not use
    # Then the app refuses to synthesize, naming the key
    with pytest.raises(ValueError, match=message):
        webhook_context(App(context=context))


def test_webhook_context_from_the_command_line() -> None:
    # Given the e2e suite's context (strings, as `--context key=value` gives them)
    settings = webhook_context(
        App(context={"webhooks_allow_local_http": "true", "webhook_retry_schedule": "1, 1,1,1"})
    )
    # Then they are read as a bool and a normalised schedule, the rest defaulted
    assert settings.allow_local_http is True
    assert settings.retry_schedule == "1,1,1,1"
    assert (settings.disable_after, settings.rotation_overlap_seconds) == (5, 86400)


def test_the_infra_default_schedule_is_the_senders() -> None:
    from fileflow_webhooks.settings import DEFAULT_RETRY_SCHEDULE

    assert ",".join(str(delay) for delay in DEFAULT_RETRY_SCHEDULE) == DEFAULT_WEBHOOK_RETRY_SCHEDULE
