"""The intake: the processing queue, its DLQ and the event source mapping that feeds the starter."""

from __future__ import annotations

from typing import Any

from tests.infra.synth import Synthesized

FOURTEEN_DAYS = 14 * 24 * 3600


def _queue(synthesized: Synthesized, which: str) -> dict[str, Any]:
    processing = synthesized.stack.intake
    queue = processing.queue if which == "queue" else processing.dlq
    properties: dict[str, Any] = synthesized.resource(queue)["Properties"]
    return properties


def test_messages_move_to_the_dlq_after_three_receives(synthesized: Synthesized) -> None:
    # Given the processing queue and its DLQ
    dlq_id = synthesized.logical_id(synthesized.stack.intake.dlq)
    # When reading the queue's redrive policy and the DLQ's retention
    redrive = _queue(synthesized, "queue")["RedrivePolicy"]
    # Then a message goes to the DLQ on its third failed receive and is kept there 14 days
    assert redrive == {"deadLetterTargetArn": {"Fn::GetAtt": [dlq_id, "Arn"]}, "maxReceiveCount": 3}
    assert _queue(synthesized, "dlq")["MessageRetentionPeriod"] == FOURTEEN_DAYS


def test_visibility_timeout_is_at_least_six_times_the_starter_timeout(synthesized: Synthesized) -> None:
    # Given the processor function and its queue
    starter_timeout = synthesized.resources["StarterFunction"]["Properties"]["Timeout"]
    # When reading the queue's visibility timeout
    visibility = _queue(synthesized, "queue")["VisibilityTimeout"]
    # Then a message stays invisible through retries of a whole batch (AWS: >= 6 x function timeout)
    assert visibility >= 6 * starter_timeout


def test_both_queues_are_encrypted_tls_only_and_long_polled(synthesized: Synthesized) -> None:
    policies = synthesized.of_type("AWS::SQS::QueuePolicy").values()
    for which in ("queue", "dlq"):
        # Given one of the queues
        processing = synthesized.stack.intake
        queue_id = synthesized.logical_id(processing.queue if which == "queue" else processing.dlq)
        properties = _queue(synthesized, which)
        # When reading its encryption and its resource policy
        statements = [
            s
            for p in policies
            if p["Properties"]["Queues"] == [{"Ref": queue_id}]
            for s in p["Properties"]["PolicyDocument"]["Statement"]
        ]
        # Then SQS-managed encryption is on and plain-HTTP requests are denied
        assert properties["SqsManagedSseEnabled"] is True, which
        assert any(
            s["Effect"] == "Deny"
            and s["Action"] == "sqs:*"
            and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            for s in statements
        ), which
    # And the processing queue is long-polled
    assert _queue(synthesized, "queue")["ReceiveMessageWaitTimeSeconds"] == 20


def test_event_source_mapping_reports_partial_batch_failures(synthesized: Synthesized) -> None:
    # Given the event source mapping of the starter
    (mapping,) = [
        mapping
        for mapping in synthesized.of_type("AWS::Lambda::EventSourceMapping").values()
        if mapping["Properties"]["FunctionName"] == {"Ref": "StarterFunction"}
    ]
    properties = mapping["Properties"]
    queue_id = synthesized.logical_id(synthesized.stack.intake.queue)
    # Then it reads the processing queue in batches of 10, with no batching window (a lone file starts at
    # once; starting a workflow takes milliseconds), and honours partial batch responses
    assert properties["FunctionName"] == {"Ref": "StarterFunction"}
    assert properties["EventSourceArn"] == {"Fn::GetAtt": [queue_id, "Arn"]}
    assert properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert properties["BatchSize"] == 10
    assert "MaximumBatchingWindowInSeconds" not in properties


def test_starter_knows_the_queue_and_its_redrive_policy(synthesized: Synthesized) -> None:
    # Given the starter's environment and the queue's redrive policy
    variables = synthesized.resources["StarterFunction"]["Properties"]["Environment"]["Variables"]
    queue_id = synthesized.logical_id(synthesized.stack.intake.queue)
    redrive = _queue(synthesized, "queue")["RedrivePolicy"]
    # Then it can reset the visibility of failed messages (retry backoff) on this queue, and knows
    # which attempt is the last one (to mark the job failed before the message is dead-lettered)
    assert variables["QUEUE_URL"] == {"Ref": queue_id}
    assert int(variables["MAX_RECEIVE_COUNT"]) == redrive["maxReceiveCount"]
    backoff = int(variables["RETRY_BACKOFF_SECONDS"])
    # And the three backoffs together stay far below the visibility timeout they replace
    assert 0 < backoff * (1 + 2 + 4) < _queue(synthesized, "queue")["VisibilityTimeout"]


def test_starter_may_change_message_visibility_on_the_processing_queue(synthesized: Synthesized) -> None:
    # Given the starter's role policy
    role_id = synthesized.resources["StarterFunction"]["Properties"]["Role"]["Fn::GetAtt"][0]
    queue_id = synthesized.logical_id(synthesized.stack.intake.queue)
    statements = [
        statement
        for policy in synthesized.of_type("AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    # Then the statement on the processing queue allows ChangeMessageVisibility (and consuming)
    [queue_statement] = [s for s in statements if s["Resource"] == {"Fn::GetAtt": [queue_id, "Arn"]}]
    assert {"sqs:ChangeMessageVisibility", "sqs:ReceiveMessage", "sqs:DeleteMessage"} <= set(
        queue_statement["Action"]
    )


def test_starter_appends_its_refusals_to_the_audit_log(synthesized: Synthesized) -> None:
    # Given the starter's environment
    variables = synthesized.resources["StarterFunction"]["Properties"]["Environment"]["Variables"]
    # Then it writes the objects it refuses into the API's audit table (its grants: test_infra_hardening)
    assert variables["AUDIT_TABLE_NAME"] == {"Ref": synthesized.logical_id(synthesized.stack.audit.table)}
