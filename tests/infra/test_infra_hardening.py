"""Hardening review, as properties of the template: private TLS-only encrypted storage, TLS-only encrypted
queues, encrypted tables with PITR, an append-only audit log, and each function's S3 and DynamoDB
permissions exactly what it needs (nothing more, nothing missing).
"""

from __future__ import annotations

from typing import Any

from infra.constructs.audit import AUDIT_TTL_ATTRIBUTE
from infra.constructs.pipeline.stages import STAGES
from tests.infra.synth import Synthesized

BLOCK_ALL = {
    "BlockPublicAcls": True,
    "BlockPublicPolicy": True,
    "IgnorePublicAcls": True,
    "RestrictPublicBuckets": True,
}
DENY_PLAIN_HTTP = {"Bool": {"aws:SecureTransport": "false"}}
TABLE_READ = {
    "dynamodb:BatchGetItem",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:Query",
    "dynamodb:GetItem",
    "dynamodb:Scan",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DescribeTable",
}
TABLE_WRITE = {"dynamodb:BatchWriteItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"}
S3_READ = {"s3:GetObject*", "s3:GetBucket*", "s3:List*"}
S3_PUT = {
    "s3:PutObject",
    "s3:PutObjectLegalHold",
    "s3:PutObjectRetention",
    "s3:PutObjectTagging",
    "s3:PutObjectVersionTagging",
    "s3:Abort*",
}
S3_DELETE = {"s3:DeleteObject*"}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _describe(resource: Any, names: dict[str, str]) -> str:
    """A resource ARN as `<name>` or `<name>/suffix`, naming the stack's buckets and tables."""
    if isinstance(resource, dict) and "Fn::GetAtt" in resource:
        logical_id = str(resource["Fn::GetAtt"][0])
        return names.get(logical_id, logical_id)
    if isinstance(resource, dict) and "Fn::Join" in resource:
        return "".join(_describe(part, names) for part in resource["Fn::Join"][1])
    return str(resource)


def _grants(synthesized: Synthesized, function: str, names: dict[str, str]) -> set[tuple[str, str]]:
    """(action, resource) pairs of a function's role on the named buckets and tables."""
    role = synthesized.resources[function]["Properties"]["Role"]["Fn::GetAtt"][0]
    pairs = set()
    for policy in synthesized.of_type("AWS::IAM::Policy").values():
        if {"Ref": role} not in policy["Properties"]["Roles"]:
            continue
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            assert statement["Effect"] == "Allow"
            for resource in _as_list(statement["Resource"]):
                described = _describe(resource, names)
                if described.split("/")[0] in names.values():
                    pairs |= {(action, described) for action in _as_list(statement["Action"])}
    return pairs


def _names(synthesized: Synthesized) -> dict[str, str]:
    stack = synthesized.stack
    return {
        synthesized.logical_id(stack.storage.bucket): "bucket",
        synthesized.logical_id(stack.storage.access_logs_bucket): "logs-bucket",
        synthesized.logical_id(stack.metadata.table): "table",
        synthesized.logical_id(stack.audit.table): "audit",
    }


def _pairs(actions: set[str], *resources: str) -> set[tuple[str, str]]:
    return {(action, resource) for action in actions for resource in resources}


def test_every_function_gets_exactly_the_storage_access_it_needs(synthesized: Synthesized) -> None:
    names = _names(synthesized)
    table_data = _pairs(TABLE_READ | TABLE_WRITE, "table", "table/index/*")
    expected = {
        # Presigned GETs (any object) and PUTs of originals; deletes of a file's objects; the table; the
        # audit log append-only.
        "ApiFunction": _pairs(S3_READ, "bucket", "bucket/*")
        | _pairs(S3_PUT, "bucket/uploads/*")
        | _pairs(S3_DELETE, "bucket/uploads/*", "bucket/derived/*")
        | table_data
        | _pairs({"dynamodb:PutItem", "dynamodb:Query"}, "audit"),
        # Records stored versions; deletes an original version that arrived for a deleted file or that no
        # upload accounts for, and appends that refusal to the audit log (PutItem only).
        "StarterFunction": _pairs(S3_DELETE, "bucket/uploads/*")
        | table_data
        | _pairs({"dynamodb:PutItem"}, "audit"),
        # Content stages read originals and write derivatives; the others touch the table only.
        **{
            stage.construct_id: {
                "read_write": _pairs(S3_READ, "bucket", "bucket/*") | _pairs(S3_PUT, "bucket/derived/*"),
                "read": _pairs(S3_READ, "bucket", "bucket/*"),
                "none": set(),
            }[stage.bucket]
            | table_data
            for stage in STAGES
        },
        "SweeperFunction": _pairs(S3_READ, "bucket", "bucket/uploads/*")
        | {("s3:AbortMultipartUpload", "bucket/uploads/*")}
        | table_data,
        "AuthorizerFunction": set(),
    }
    for function, grants in expected.items():
        # Given the function's role / Then its S3 and DynamoDB permissions are exactly these
        actual = _grants(synthesized, function, names)
        assert actual == grants, (function, sorted(actual - grants), sorted(grants - actual))


def test_the_audit_log_is_append_only_and_read_by_the_api_alone(synthesized: Synthesized) -> None:
    names = _names(synthesized)
    functions = ("ApiFunction", "StarterFunction", "SweeperFunction", "AuthorizerFunction")
    for function in (*functions, *(stage.construct_id for stage in STAGES)):
        on_audit = {
            action for action, resource in _grants(synthesized, function, names) if resource == "audit"
        }
        # Then only the API reads the audit table, the starter only appends (the objects it refuses), and
        # nobody may change an event
        expected = {
            "ApiFunction": {"dynamodb:PutItem", "dynamodb:Query"},
            "StarterFunction": {"dynamodb:PutItem"},
        }.get(function, set())
        assert on_audit == expected, function
    # And the table keeps its history (PITR), is encrypted, and expires events by TTL
    properties = synthesized.resource(synthesized.stack.audit.table)["Properties"]
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert properties["SSESpecification"] == {"SSEEnabled": True}
    assert properties["TimeToLiveSpecification"] == {"AttributeName": AUDIT_TTL_ATTRIBUTE, "Enabled": True}
    assert [key["AttributeName"] for key in properties["KeySchema"]] == ["pk", "sk"]
    environment = synthesized.resources["ApiFunction"]["Properties"]["Environment"]["Variables"]
    assert environment["AUDIT_TABLE_NAME"] == {"Ref": synthesized.logical_id(synthesized.stack.audit.table)}


def test_every_bucket_is_private_encrypted_and_tls_only(synthesized: Synthesized) -> None:
    policies = synthesized.of_type("AWS::S3::BucketPolicy").values()
    buckets = synthesized.of_type("AWS::S3::Bucket")
    assert buckets
    for logical_id, bucket in buckets.items():
        properties = bucket["Properties"]
        # Then Block Public Access is complete and objects are encrypted at rest ...
        assert properties["PublicAccessBlockConfiguration"] == BLOCK_ALL, logical_id
        assert properties["BucketEncryption"]["ServerSideEncryptionConfiguration"], logical_id
        # ... and its policy denies every request that does not come over TLS
        statements = [
            statement
            for policy in policies
            if policy["Properties"]["Bucket"] == {"Ref": logical_id}
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        ]
        assert any(
            s["Effect"] == "Deny" and s["Action"] == "s3:*" and s["Condition"] == DENY_PLAIN_HTTP
            for s in statements
        ), logical_id


def test_every_queue_is_encrypted_and_tls_only(synthesized: Synthesized) -> None:
    policies = synthesized.of_type("AWS::SQS::QueuePolicy").values()
    queues = synthesized.of_type("AWS::SQS::Queue")
    assert len(queues) >= 2
    for logical_id, queue in queues.items():
        assert queue["Properties"]["SqsManagedSseEnabled"] is True, logical_id
        statements = [
            statement
            for policy in policies
            if {"Ref": logical_id} in policy["Properties"]["Queues"]
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        ]
        assert any(
            s["Effect"] == "Deny" and s["Action"] == "sqs:*" and s["Condition"] == DENY_PLAIN_HTTP
            for s in statements
        ), logical_id


def test_every_table_is_encrypted_with_point_in_time_recovery(synthesized: Synthesized) -> None:
    tables = synthesized.of_type("AWS::DynamoDB::Table")
    assert len(tables) == 2
    for logical_id, table in tables.items():
        properties = table["Properties"]
        assert properties["SSESpecification"] == {"SSEEnabled": True}, logical_id
        assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}, (
            logical_id
        )


def test_the_files_indexes_serve_listing_by_date_status_and_name(synthesized: Synthesized) -> None:
    properties = synthesized.resource(synthesized.stack.metadata.table)["Properties"]
    indexes = {index["IndexName"]: index for index in properties["GlobalSecondaryIndexes"]}
    # Then gsi1 (by date, shared with the sweeper), gsi2 (status + date) and gsi3 (name) project everything
    assert set(indexes) == {"gsi1", "gsi2", "gsi3"}
    for name, index in indexes.items():
        assert index["KeySchema"] == [
            {"AttributeName": f"{name}pk", "KeyType": "HASH"},
            {"AttributeName": f"{name}sk", "KeyType": "RANGE"},
        ]
        assert index["Projection"] == {"ProjectionType": "ALL"}
