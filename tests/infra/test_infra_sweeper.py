"""The upload sweeper: scheduled every 15 minutes, allowed to abort multipart uploads of originals only."""

from __future__ import annotations

from typing import Any

from tests.infra.synth import Synthesized


def _sweeper_statements(synthesized: Synthesized) -> list[dict[str, Any]]:
    role_id = synthesized.resources["SweeperFunction"]["Properties"]["Role"]["Fn::GetAtt"][0]
    return [
        statement
        for policy in synthesized.of_type("AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_a_rule_invokes_the_sweeper_every_15_minutes(synthesized: Synthesized) -> None:
    # Given the EventBridge rules of the stack
    rules = synthesized.of_type("AWS::Events::Rule")
    # When picking the one that targets the sweeper
    (rule,) = [
        r
        for r in rules.values()
        if any(t["Arn"] == {"Fn::GetAtt": ["SweeperFunction", "Arn"]} for t in r["Properties"]["Targets"])
    ]
    # Then it runs every 15 minutes, enabled, retrying a failed sweep
    assert rule["Properties"]["ScheduleExpression"] == "rate(15 minutes)"
    assert rule["Properties"]["State"] == "ENABLED"
    (target,) = rule["Properties"]["Targets"]
    assert target["RetryPolicy"]["MaximumRetryAttempts"] == 2
    # And EventBridge may invoke the function
    permissions = [
        p["Properties"]
        for p in synthesized.of_type("AWS::Lambda::Permission").values()
        if p["Properties"]["FunctionName"] == {"Fn::GetAtt": ["SweeperFunction", "Arn"]}
    ]
    assert [p["Principal"] for p in permissions] == ["events.amazonaws.com"]


def test_the_sweeper_may_abort_and_read_originals_but_never_write_objects(synthesized: Synthesized) -> None:
    bucket_id = synthesized.logical_id(synthesized.stack.storage.bucket)
    originals = {"Fn::Join": ["", [{"Fn::GetAtt": [bucket_id, "Arn"]}, "/uploads/*"]]}
    # Given the sweeper's policy statements on S3
    s3_statements = [
        s for s in _sweeper_statements(synthesized) if any(a.startswith("s3:") for a in _as_list(s["Action"]))
    ]
    s3_actions = {action for s in s3_statements for action in _as_list(s["Action"])}
    # Then it may abort multipart uploads and read, on originals only, and never put or delete
    assert "s3:AbortMultipartUpload" in s3_actions
    assert not any(action.startswith(("s3:Put", "s3:Delete")) for action in s3_actions)
    for statement in s3_statements:
        resources = _as_list(statement["Resource"])
        object_resources = [r for r in resources if r != {"Fn::GetAtt": [bucket_id, "Arn"]}]
        assert object_resources == [originals], statement


def test_the_sweeper_finds_expired_sessions_through_the_index(synthesized: Synthesized) -> None:
    table_id = synthesized.logical_id(synthesized.stack.metadata.table)
    actions = {
        action
        for s in _sweeper_statements(synthesized)
        if {"Fn::Join": ["", [{"Fn::GetAtt": [table_id, "Arn"]}, "/index/*"]]} in _as_list(s["Resource"])
        for action in _as_list(s["Action"])
    }
    assert "dynamodb:Query" in actions
    variables = synthesized.resources["SweeperFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["TABLE_NAME"] == {"Ref": table_id}
