"""The uploads bucket: private, TLS-only, encrypted, versioned, CORS for browsers, native notification."""

from __future__ import annotations

from typing import Any

from infra.constructs.storage import UPLOADS_PREFIX
from infra.context import DEFAULT_ALLOWED_ORIGINS
from tests.infra.synth import Synthesized

BLOCK_ALL = {
    "BlockPublicAcls": True,
    "BlockPublicPolicy": True,
    "IgnorePublicAcls": True,
    "RestrictPublicBuckets": True,
}


def _bucket_policy_statements(synthesized: Synthesized, bucket_logical_id: str) -> list[dict[str, Any]]:
    policies = [
        policy
        for policy in synthesized.of_type("AWS::S3::BucketPolicy").values()
        if policy["Properties"]["Bucket"] == {"Ref": bucket_logical_id}
    ]
    assert len(policies) == 1, f"expected one bucket policy on {bucket_logical_id}"
    statements: list[dict[str, Any]] = policies[0]["Properties"]["PolicyDocument"]["Statement"]
    return statements


def _denies_insecure_transport(statements: list[dict[str, Any]]) -> bool:
    return any(
        statement["Effect"] == "Deny"
        and statement["Action"] == "s3:*"
        and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        and statement["Principal"] == {"AWS": "*"}
        for statement in statements
    )


def test_both_buckets_are_private_encrypted_and_tls_only(synthesized: Synthesized) -> None:
    # Given the uploads bucket and its access-log bucket
    storage = synthesized.stack.storage
    for bucket in (storage.bucket, storage.access_logs_bucket):
        logical_id = synthesized.logical_id(bucket)
        # When reading their properties and bucket policies
        properties = synthesized.resource(bucket)["Properties"]
        statements = _bucket_policy_statements(synthesized, logical_id)
        # Then public access is blocked, objects are SSE-S3 encrypted, and plain HTTP is denied
        assert properties["PublicAccessBlockConfiguration"] == BLOCK_ALL, logical_id
        assert properties["BucketEncryption"] == {
            "ServerSideEncryptionConfiguration": [
                {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
            ]
        }, logical_id
        assert _denies_insecure_transport(statements), logical_id
        assert properties["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}


def test_uploads_bucket_is_versioned_logged_and_aborts_stale_multipart_uploads(
    synthesized: Synthesized,
) -> None:
    # Given the uploads bucket
    storage = synthesized.stack.storage
    # When reading its properties
    properties = synthesized.resource(storage.bucket)["Properties"]
    # Then it is versioned, logs access to the log bucket and aborts incomplete multipart uploads after 2 days
    assert properties["VersioningConfiguration"] == {"Status": "Enabled"}
    assert properties["LoggingConfiguration"]["DestinationBucketName"] == {
        "Ref": synthesized.logical_id(storage.access_logs_bucket)
    }
    rules = properties["LifecycleConfiguration"]["Rules"]
    assert {
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 2},
        "Status": "Enabled",
    }.items() <= next(rule for rule in rules if "AbortIncompleteMultipartUpload" in rule).items()


def test_uploads_bucket_is_deleted_with_the_stack_without_a_custom_resource(synthesized: Synthesized) -> None:
    # Given the uploads bucket
    resource = synthesized.resource(synthesized.stack.storage.bucket)
    # When reading its deletion policy and tags
    tags = {tag["Key"] for tag in resource["Properties"].get("Tags", [])}
    # Then it is deleted with the stack, and autoDeleteObjects (a custom resource) is not used
    assert resource["DeletionPolicy"] == "Delete"
    assert "aws-cdk:auto-delete-objects" not in tags


def test_cors_lets_browsers_put_parts_and_read_their_etag(synthesized: Synthesized) -> None:
    # Given the uploads bucket
    properties = synthesized.resource(synthesized.stack.storage.bucket)["Properties"]
    # When reading its CORS rules
    configured, page = properties["CorsConfiguration"]["CorsRules"]
    # Then the default origins and the upload page's origin (the API's execute-api host) may
    # PUT/POST/GET/HEAD and read the ETag of each uploaded part
    assert configured["AllowedOrigins"] == list(DEFAULT_ALLOWED_ORIGINS)
    api_id = synthesized.logical_id(synthesized.stack.api.rest_api)
    assert page["AllowedOrigins"] == [
        {
            "Fn::Join": [
                "",
                [
                    "https://",
                    {"Ref": api_id},
                    ".execute-api.",
                    {"Ref": "AWS::Region"},
                    ".",
                    {"Ref": "AWS::URLSuffix"},
                ],
            ]
        }
    ]
    for rule in (configured, page):
        assert set(rule["AllowedMethods"]) == {"PUT", "POST", "GET", "HEAD"}
        assert rule["ExposedHeaders"] == ["ETag"]
        assert rule["MaxAge"] > 0


def test_object_created_under_uploads_goes_to_the_queue_natively(synthesized: Synthesized) -> None:
    # Given the uploads bucket and the processing queue
    queue_id = synthesized.logical_id(synthesized.stack.intake.queue)
    # When reading the bucket's own notification configuration (no Custom::S3BucketNotifications)
    properties = synthesized.resource(synthesized.stack.storage.bucket)["Properties"]
    # Then ObjectCreated events under uploads/ (only) are sent to the processing queue
    assert properties["NotificationConfiguration"] == {
        "QueueConfigurations": [
            {
                "Event": "s3:ObjectCreated:*",
                "Filter": {"S3Key": {"Rules": [{"Name": "prefix", "Value": UPLOADS_PREFIX}]}},
                "Queue": {"Fn::GetAtt": [queue_id, "Arn"]},
            }
        ]
    }


def test_bucket_is_created_after_the_queue_policy_that_lets_s3_send(synthesized: Synthesized) -> None:
    # Given the processing queue's resource policy
    processing = synthesized.stack.intake
    queue_id = synthesized.logical_id(processing.queue)
    policy_id, policy = next(
        (logical_id, resource)
        for logical_id, resource in synthesized.of_type("AWS::SQS::QueuePolicy").items()
        if resource["Properties"]["Queues"] == [{"Ref": queue_id}]
    )
    bucket = synthesized.resource(synthesized.stack.storage.bucket)
    # When reading the statement for S3
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    (statement,) = [s for s in statements if s.get("Principal") == {"Service": "s3.amazonaws.com"}]
    # Then S3 may send messages only for this account and this bucket's ARN, which is built from the bucket's
    # deterministic name rather than a reference to the bucket (that reference would close a cycle) ...
    assert statement["Effect"] == "Allow"
    assert statement["Action"] == "sqs:SendMessage"
    assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    first, *rest = bucket["Properties"]["BucketName"]["Fn::Join"][1]
    assert statement["Condition"]["ArnLike"] == {
        "aws:SourceArn": {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, f":s3:::{first}", *rest]]}
    }
    # ... and the bucket depends on that policy, since S3 checks the destination when it creates the bucket
    assert policy_id in bucket["DependsOn"]


def test_uploads_bucket_name_is_deterministic_and_lower_case(synthesized: Synthesized) -> None:
    # Given the uploads bucket
    properties = synthesized.resource(synthesized.stack.storage.bucket)["Properties"]
    # When reading its name
    parts = properties["BucketName"]["Fn::Join"][1]
    # Then it is the lower-cased stack name, account and region
    assert parts == [
        f"{synthesized.stack.stack_name.lower()}-uploads-",
        {"Ref": "AWS::AccountId"},
        "-",
        {"Ref": "AWS::Region"},
    ]
