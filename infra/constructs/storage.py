"""The uploads bucket, its access-log bucket, and its native S3 -> SQS notification."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Aws, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from constructs import Construct

# Only originals trigger processing; derivatives are written under derived/ (docs/architecture.md).
UPLOADS_PREFIX = "uploads/"
DERIVED_PREFIX = "derived/"
# Bucket names are at most 63 characters; what follows the stack-name part takes up to 40.
_STACK_NAME_PART_MAX = 20


def uploads_bucket_name(stack_name: str) -> str:
    """Deterministic name: the queue policy can name the bucket without referencing the bucket resource."""
    stack_part = stack_name.lower()[:_STACK_NAME_PART_MAX].rstrip("-")
    return f"{stack_part}-uploads-{Aws.ACCOUNT_ID}-{Aws.REGION}"


class UploadsStorage(Construct):
    """Private, versioned, TLS-only uploads bucket that browsers PUT to through presigned URLs."""

    def __init__(self, scope: Construct, construct_id: str, *, allowed_origins: Sequence[str]) -> None:
        super().__init__(scope, construct_id)
        self.access_logs_bucket = s3.Bucket(
            self,
            "AccessLogsBucket",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            # Server access log delivery supports SSE-S3 only.
            encryption=s3.BucketEncryption.S3_MANAGED,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[s3.LifecycleRule(id="expire-access-logs", expiration=Duration.days(90))],
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.bucket_name = uploads_bucket_name(Stack.of(self).stack_name)
        self.bucket = s3.Bucket(
            self,
            "UploadsBucket",
            bucket_name=self.bucket_name,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            encryption=s3.BucketEncryption.S3_MANAGED,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            versioned=True,
            server_access_logs_bucket=self.access_logs_bucket,
            server_access_logs_prefix="uploads-bucket/",
            cors=[self._browser_cors_rule(allowed_origins)],
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="abort-incomplete-multipart-uploads",
                    abort_incomplete_multipart_upload_after=Duration.days(2),
                ),
                # Versioning guards against overwrites; old versions need not live forever.
                s3.LifecycleRule(
                    id="expire-noncurrent-versions", noncurrent_version_expiration=Duration.days(30)
                ),
            ],
            # No auto_delete_objects: it is a custom resource, which LocalStack community never runs.
            removal_policy=RemovalPolicy.DESTROY,
        )

    @staticmethod
    def _browser_cors_rule(origins: Sequence[str]) -> s3.CorsRule:
        return s3.CorsRule(
            allowed_methods=[
                s3.HttpMethods.PUT,
                s3.HttpMethods.POST,
                s3.HttpMethods.GET,
                s3.HttpMethods.HEAD,
            ],
            allowed_origins=list(origins),
            allowed_headers=["*"],
            # Browsers read each part's ETag to complete a multipart upload.
            exposed_headers=["ETag"],
            max_age=3000,
        )

    def allow_browser_origin(self, origin: str) -> None:
        """Let pages of one more origin (e.g. the API's own, which serves the upload page) upload."""
        rule = self._browser_cors_rule([origin])
        self.bucket.add_cors_rule(
            allowed_methods=rule.allowed_methods,
            allowed_origins=rule.allowed_origins,
            allowed_headers=rule.allowed_headers,
            exposed_headers=rule.exposed_headers,
            max_age=rule.max_age,
        )

    @property
    def bucket_arn_by_name(self) -> str:
        """The bucket's ARN built from its name, free of any reference to the bucket resource."""
        return f"arn:{Aws.PARTITION}:s3:::{self.bucket_name}"

    def notify_object_created(self, queue: sqs.Queue) -> None:
        """Send ObjectCreated events under uploads/ to the queue, declared natively on the bucket.

        `bucket.add_event_notification` would create a custom resource instead (which LocalStack community
        marks CREATE_COMPLETE without configuring anything).
        """
        queue.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowUploadsBucketNotifications",
                principals=[iam.ServicePrincipal("s3.amazonaws.com")],
                actions=["sqs:SendMessage"],
                resources=[queue.queue_arn],
                conditions={
                    "ArnLike": {"aws:SourceArn": self.bucket_arn_by_name},
                    "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
                },
            )
        )
        cfn_bucket = self.bucket.node.default_child
        assert isinstance(cfn_bucket, s3.CfnBucket)
        cfn_bucket.notification_configuration = s3.CfnBucket.NotificationConfigurationProperty(
            queue_configurations=[
                s3.CfnBucket.QueueConfigurationProperty(
                    event="s3:ObjectCreated:*",
                    queue=queue.queue_arn,
                    filter=s3.CfnBucket.NotificationFilterProperty(
                        s3_key=s3.CfnBucket.S3KeyFilterProperty(
                            rules=[s3.CfnBucket.FilterRuleProperty(name="prefix", value=UPLOADS_PREFIX)]
                        )
                    ),
                )
            ]
        )
        # S3 checks it may send to the queue when the bucket is created: the policy must exist first.
        # add_to_resource_policy created the queue's QueuePolicy child (CDK's id "Policy").
        queue_policy = queue.node.find_child("Policy")
        cfn_queue_policy = queue_policy.node.default_child
        assert isinstance(cfn_queue_policy, sqs.CfnQueuePolicy)
        cfn_bucket.add_resource_dependency(cfn_queue_policy)
