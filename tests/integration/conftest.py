"""In-process cloud (moto `mock_aws`, no network) and the environment the functions read."""

import os
from collections.abc import Iterator
from dataclasses import dataclass

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters
from moto import mock_aws
from mypy_boto3_dynamodb.service_resource import Table
from mypy_boto3_s3 import S3Client
from mypy_boto3_sqs import SQSClient
from mypy_boto3_stepfunctions import SFNClient

from fileflow_api.handler import asgi_handler
from fileflow_authorizer.handler import verifier as authorizer_verifier
from fileflow_common.aws import clear_cached_clients
from fileflow_intake import handler as intake_handler
from fileflow_stages._runtime import stage as stage_runtime
from fileflow_stages.ai import adapters as ai_adapters
from fileflow_stages.analysis import handler as analysis_handler

REGION = "us-east-1"
BUCKET_NAME = "fileflow-uploads-example"  # the bucket named in events/starter/*.json
TABLE_NAME = "fileflow-metadata"
AUDIT_TABLE_NAME = "fileflow-audit"
# The metadata table's indexes (infra/constructs/metadata.py): gsi1 (sweeper; files by date), gsi2, gsi3.
METADATA_INDEXES = ("gsi1", "gsi2", "gsi3")
QUEUE_NAME = "fileflow-processing"
STATE_MACHINE_NAME = "fileflow-pipeline"
# The starter's tests only need StartExecution to answer: the stages run in-process (workflow.py).
PASS_DEFINITION = '{"StartAt": "Started", "States": {"Started": {"Type": "Pass", "End": true}}}'
ALLOWED_ORIGINS = '["https://app.example.com"]'
SIGNING_SECRET_NAME = "fileflow-signing-key"
# What Secrets Manager generates for the stack (64 characters, no punctuation).
SIGNING_KEY = "s3cr3tK3y" * 7 + "x"
# The analysis stage's OCR model here: "tiny" reads the test images' text word for word in a fifth of
# the time of the deployed "small" (the unit test of the OCR and the e2e suite read with "small").
OCR_MODEL = "tiny"


@dataclass(frozen=True)
class FakeLambdaContext:
    function_name: str = "fileflow-test-function"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:123456789012:function:fileflow-test-function"
    aws_request_id: str = "52fdfc07-2182-454f-963f-5f0f9a621d72"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


@dataclass(frozen=True)
class Cloud:
    s3: S3Client
    sqs: SQSClient
    table: Table
    queue_url: str
    sfn: SFNClient
    state_machine_arn: str


def _reset_cached_state() -> None:
    clear_cached_clients()
    asgi_handler.cache_clear()
    authorizer_verifier.cache_clear()
    # Powertools' cached secrets (and its client) would outlive the mock
    parameters.clear_caches()  # type: ignore[no-untyped-call]
    stage_runtime.services.cache_clear()
    ai_adapters.ai_settings.cache_clear()
    ai_adapters.analyzer.cache_clear()
    analysis_handler.analysis_settings.cache_clear()
    intake_handler.services.cache_clear()
    intake_handler.stepfunctions_client.cache_clear()


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext()


@pytest.fixture
def cloud(monkeypatch: pytest.MonkeyPatch, tmp_path: os.PathLike[str]) -> Iterator[Cloud]:
    # Given fake credentials, no local-cloud endpoint and no developer AWS config
    for name in [name for name in os.environ if name.startswith("AWS_ENDPOINT_URL") or name == "AWS_PROFILE"]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.path.join(tmp_path, "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.path.join(tmp_path, "no-credentials"))
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    _reset_cached_state()
    with mock_aws():
        s3 = boto3.client("s3")
        sqs = boto3.client("sqs")
        s3.create_bucket(Bucket=BUCKET_NAME)
        queue_url = sqs.create_queue(QueueName=QUEUE_NAME)["QueueUrl"]
        table = boto3.resource("dynamodb").create_table(
            TableName=TABLE_NAME,
            BillingMode="PAY_PER_REQUEST",
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": name, "AttributeType": "S"}
                for name in (
                    "pk",
                    "sk",
                    *(f"{index}{key}" for index in METADATA_INDEXES for key in ("pk", "sk")),
                )
            ],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": index,
                    "KeySchema": [
                        {"AttributeName": f"{index}pk", "KeyType": "HASH"},
                        {"AttributeName": f"{index}sk", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
                for index in METADATA_INDEXES
            ],
        )
        table.wait_until_exists()
        # The workflow the starter starts (a Pass state: moto only records the executions)
        sfn = boto3.client("stepfunctions")
        state_machine_arn = sfn.create_state_machine(
            name=STATE_MACHINE_NAME,
            definition=PASS_DEFINITION,
            roleArn="arn:aws:iam::123456789012:role/fileflow-pipeline",
        )["stateMachineArn"]
        # The audit log's table (infra/constructs/audit.py)
        boto3.client("dynamodb").create_table(
            TableName=AUDIT_TABLE_NAME,
            BillingMode="PAY_PER_REQUEST",
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[{"AttributeName": name, "AttributeType": "S"} for name in ("pk", "sk")],
        )
        # And the functions' environment
        monkeypatch.setenv("BUCKET_NAME", BUCKET_NAME)
        monkeypatch.setenv("TABLE_NAME", TABLE_NAME)
        monkeypatch.setenv("QUEUE_URL", queue_url)
        monkeypatch.setenv("STATE_MACHINE_ARN", state_machine_arn)
        monkeypatch.setenv("AUDIT_TABLE_NAME", AUDIT_TABLE_NAME)
        monkeypatch.setenv("ALLOWED_ORIGINS", ALLOWED_ORIGINS)
        monkeypatch.setenv("ANALYSIS_OCR_MODEL", OCR_MODEL)
        # And the token signing secret the authorizer and the API read (by ARN, never by value)
        secret = boto3.client("secretsmanager").create_secret(
            Name=SIGNING_SECRET_NAME, SecretString=SIGNING_KEY
        )
        monkeypatch.setenv("TOKEN_SECRET_ARN", secret["ARN"])
        yield Cloud(
            s3=s3, sqs=sqs, table=table, queue_url=queue_url, sfn=sfn, state_machine_arn=state_machine_arn
        )
    _reset_cached_state()
