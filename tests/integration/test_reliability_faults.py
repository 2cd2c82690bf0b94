"""Faults at the adapter boundary (issue #9), in-process against moto: nothing lost, nothing doubled.

- DynamoDB throttling and 5xx, S3 5xx, SlowDown and connection failures, raised from the very boto3
  clients the API uses (a botocore `before-call` hook registered first, the way botocore's Stubber answers:
  the call never reaches moto, as when the SDK's own retries are spent): the API answers 503
  `ServiceUnavailable` with Retry-After, leaves nothing behind, and the SDK's retry then succeeds once.
- The same faults under a workflow stage: it raises `TransientStageError`, which the definition retries;
  a failure on the first attempt, then success, ends processed with one record.
- The local cloud restarted between initiate and complete (its state gone, the stack deployed again):
  the API answers 404 `UploadNotFound`, and the SDK drops its saved state and uploads the file anew.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse, HTTPHeaders
from botocore.exceptions import EndpointConnectionError, ReadTimeoutError
from moto.core.base_backend import BackendDict

from fileflow_api.uploads.part_plan import MiB
from fileflow_client import FileflowClient, Progress, RetryPolicy
from fileflow_common.aws import dynamodb_client, dynamodb_resource, s3_client
from fileflow_stages._runtime.stage import TransientStageError
from infra.constructs.pipeline.definition import RETRY_ATTEMPTS, TRANSIENT_ERRORS
from tests import samples
from tests.integration import conftest, workflow
from tests.integration.api_requests import ALICE, Answer, call, signing_secret
from tests.integration.conftest import BUCKET_NAME, Cloud, FakeLambdaContext
from tests.integration.processing import file_item, jobs_of, upload
from tests.integration.test_client_sdk import API_URL, InProcessFileflow, random_file
from tests.reliability.report import FAULTS

__all__ = ["signing_secret"]  # the fixture, imported for this module's tests

pytestmark = pytest.mark.reliability

MULTIPART_SIZE = 20 * MiB  # over the API's 16 MiB single-PUT threshold: S3 CreateMultipartUpload at initiate


# --- errors from the boto3 clients themselves ---------------------------------------------------------------


def _answer(status: int, code: str, message: str) -> tuple[AWSResponse, dict[str, Any]]:
    """What botocore makes of an AWS error answer: the HTTP response and its parsed body."""
    parsed = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status, "HTTPHeaders": {}, "RetryAttempts": 2},
    }
    return AWSResponse("https://aws.invalid/", status, HTTPHeaders(), None), parsed


@dataclass(frozen=True)
class Fault:
    name: str
    service: str  # botocore's hyphenized service id: dynamodb, s3
    raise_or_answer: Callable[[str], Exception | tuple[AWSResponse, dict[str, Any]]]


FAULT_CASES = [
    Fault(
        "DynamoDB ProvisionedThroughputExceeded",
        "dynamodb",
        lambda _: _answer(
            400, "ProvisionedThroughputExceededException", "The level of throughput was exceeded"
        ),
    ),
    Fault("DynamoDB ThrottlingException", "dynamodb", lambda _: _answer(400, "ThrottlingException", "Rate")),
    Fault("DynamoDB 500 InternalServerError", "dynamodb", lambda _: _answer(500, "InternalServerError", "x")),
    Fault("DynamoDB read timeout", "dynamodb", lambda _: ReadTimeoutError(endpoint_url="https://dynamodb")),
    Fault("S3 503 SlowDown", "s3", lambda _: _answer(503, "SlowDown", "Please reduce your request rate.")),
    Fault("S3 500 InternalError", "s3", lambda _: _answer(500, "InternalError", "We encountered an error")),
    Fault("S3 connection refused", "s3", lambda _: EndpointConnectionError(endpoint_url="https://s3")),
]


@dataclass
class AwsFaults:
    """Fails the next `times` calls of a service (or of some of its operations) on the functions' clients."""

    fault: Fault | None = None
    operations: frozenset[str] | None = None
    remaining: int = 0
    failed: list[str] = field(default_factory=list)

    def inject(self, fault: Fault, *, times: int = 1_000_000, operations: set[str] | None = None) -> None:
        self.fault, self.remaining = fault, times
        self.operations = frozenset(operations) if operations else None

    def clear(self) -> None:
        self.remaining = 0

    def __call__(self, model: Any, **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        fault = self.fault
        service = model.service_model.service_id.hyphenize()
        if fault is None or self.remaining <= 0 or service != fault.service:
            return None
        if self.operations is not None and model.name not in self.operations:
            return None
        self.remaining -= 1
        self.failed.append(f"{service}:{model.name}")
        outcome = fault.raise_or_answer(model.name)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


@pytest.fixture
def aws_faults(cloud: Cloud) -> Iterator[AwsFaults]:
    """The hook on the cached clients every function builds its adapters from (fileflow_common.aws)."""
    faults = AwsFaults()
    clients = [dynamodb_resource().meta.client, dynamodb_client(), s3_client()]
    for client in clients:
        client.meta.events.register_first("before-call", faults)  # type: ignore[arg-type]  # answers
    yield faults
    for client in clients:
        client.meta.events.unregister("before-call", faults)  # type: ignore[arg-type]


def retry_after(answer: Answer) -> str | None:
    return next((value for name, value in answer.headers.items() if name.lower() == "retry-after"), None)


def user_items(cloud: Cloud, user: str) -> list[str]:
    """The kinds of the user's sessions and files (rate-limit and usage items aside): ["FILE", "UPLOAD"]."""
    items = cloud.table.query(
        KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": f"USER#{user}"}
    )["Items"]
    kinds = (str(item["sk"]).split("#", 1)[0] for item in items)
    return sorted(kind for kind in kinds if kind in {"FILE", "UPLOAD"})


def usage(cloud: Cloud, user: str) -> tuple[int, int]:
    """What the user's quota counts: (bytes, files)."""
    items = cloud.table.query(
        KeyConditionExpression="pk = :pk AND begins_with(sk, :usage)",
        ExpressionAttributeValues={":pk": f"USER#{user}", ":usage": "USAGE"},
    )["Items"]
    return (
        sum(int(str(item.get("bytes", 0))) for item in items),
        sum(int(str(item.get("files", 0))) for item in items),
    )


def s3_multipart_uploads(cloud: Cloud) -> list[str]:
    return [u["Key"] for u in cloud.s3.list_multipart_uploads(Bucket=BUCKET_NAME).get("Uploads", [])]


# --- the API: 503 + Retry-After, nothing left behind --------------------------------------------------------


@pytest.mark.parametrize("fault", FAULT_CASES, ids=lambda fault: fault.name)
def test_a_failing_dependency_answers_503_with_retry_after_and_leaves_nothing_behind(
    cloud: Cloud, aws_faults: AwsFaults, lambda_context: FakeLambdaContext, signing_secret: str, fault: Fault
) -> None:
    # Given DynamoDB or S3 failing every call of the API's clients
    body = {"filename": "film.bin", "size": MULTIPART_SIZE, "content_type": "application/octet-stream"}
    before = user_items(cloud, ALICE), usage(cloud, ALICE)
    aws_faults.inject(fault)
    # When a client initiates an upload
    answer = call(lambda_context, "POST", "/v1/uploads", body=body)
    # Then it is told the service is unavailable, and when to try again
    assert aws_faults.failed, "the fault was never reached"
    assert (answer.status, answer.error_code) == (503, "ServiceUnavailable"), answer.body
    assert int(retry_after(answer) or 0) >= 1
    assert "retry" in answer.body["error"]["message"]
    # And nothing of the attempt is left: no session, no file item, no S3 multipart upload, no quota used
    aws_faults.clear()
    assert (user_items(cloud, ALICE), usage(cloud, ALICE)) == before
    assert s3_multipart_uploads(cloud) == []
    # When the dependency is back and the client tries again / Then one upload, exactly
    again = call(lambda_context, "POST", "/v1/uploads", body=body)
    assert again.status == 201, again.body
    assert s3_multipart_uploads(cloud) == [again.body["key"]]
    listed = call(lambda_context, "GET", "/v1/files")
    assert [f["file_id"] for f in listed.body["files"]] == [again.body["file_id"]]
    FAULTS.record(
        f"api-{fault.name}",
        {
            "fault": f"{fault.name} under POST /v1/uploads",
            "injected": f"every {fault.service} call of the API's client ({len(aws_faults.failed)} failed)",
            "outcome": f"503 ServiceUnavailable, Retry-After {retry_after(answer)}; nothing left; "
            "the retry: 201, one session, one file",
            "suite": "integration",
        },
    )


@pytest.mark.parametrize(
    ("fault", "path"),
    [(FAULT_CASES[0], "/v1/files"), (FAULT_CASES[4], "/v1/files/{file_id}")],
    ids=["dynamodb-list", "s3-presign-free-read"],
)
def test_reads_answer_503_too(
    cloud: Cloud,
    aws_faults: AwsFaults,
    lambda_context: FakeLambdaContext,
    signing_secret: str,
    fault: Fault,
    path: str,
) -> None:
    # Given a file, then DynamoDB throttling (or S3 failing)
    initiated = call(
        lambda_context,
        "POST",
        "/v1/uploads",
        body={"filename": "a.txt", "size": 3, "content_type": "text/plain"},
    )
    assert initiated.status == 201, initiated.body
    aws_faults.inject(fault if fault.service == "dynamodb" else FAULT_CASES[0])
    # When the client reads / Then 503 with Retry-After
    answer = call(lambda_context, "GET", path.format(file_id=initiated.body["file_id"]))
    assert (answer.status, answer.error_code) == (503, "ServiceUnavailable"), answer.body
    assert retry_after(answer) == "2"


def test_an_aws_error_that_is_not_transient_stays_a_500(
    cloud: Cloud, aws_faults: AwsFaults, lambda_context: FakeLambdaContext, signing_secret: str
) -> None:
    # Given S3 refusing the API's role (a misconfiguration: retrying cannot help)
    denied = Fault("S3 AccessDenied", "s3", lambda _: _answer(403, "AccessDenied", "Access Denied"))
    aws_faults.inject(denied)
    body = {"filename": "film.bin", "size": MULTIPART_SIZE, "content_type": "application/octet-stream"}
    # When a client initiates an upload / Then an internal error, with no Retry-After
    answer = call(lambda_context, "POST", "/v1/uploads", body=body)
    assert (answer.status, answer.error_code) == (500, "InternalError")
    assert retry_after(answer) is None


def test_the_sdk_waits_the_retry_after_and_its_upload_succeeds_once(
    cloud: Cloud,
    aws_faults: AwsFaults,
    lambda_context: FakeLambdaContext,
    signing_secret: str,
    tmp_path: Path,
) -> None:
    # Given DynamoDB throttling the API's next two calls
    waits: list[float] = []
    path = tmp_path / "film.bin"
    data = random_file(path, MULTIPART_SIZE)
    aws_faults.inject(FAULT_CASES[0], times=2)
    # When the SDK uploads a file
    with FileflowClient(
        API_URL,
        "a token the authorizer checked",
        transport=InProcessFileflow(lambda_context),
        state_dir=tmp_path / "state",
        retry=RetryPolicy(max_attempts=4, base_delay=0),
        sleep=waits.append,
    ) as client:
        result = client.upload(path, concurrency=2)
    # Then it waited as told (503, Retry-After: 2) and tried again, and the upload finished, once
    assert len(aws_faults.failed) == 2
    assert 2.0 in waits
    assert cloud.s3.get_object(Bucket=BUCKET_NAME, Key=result.key)["Body"].read() == data
    listed = call(lambda_context, "GET", "/v1/files")
    assert [f["file_id"] for f in listed.body["files"]] == [result.file_id]
    assert s3_multipart_uploads(cloud) == []
    FAULTS.record(
        "sdk-retry-after",
        {
            "fault": "DynamoDB throttling under the SDK's upload",
            "injected": "the API's next 2 DynamoDB calls",
            "outcome": "503 + Retry-After 2, the SDK waited 2 s and retried: completed, one file",
            "suite": "integration",
        },
    )


# --- the pipeline: a stage's transient failure is retried ---------------------------------------------------


def retried_invocations(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int, str]]:
    """The driver's task invocations retried as the definition's Retry does (no waits): TRANSIENT_ERRORS,
    RETRY_ATTEMPTS times, with `retry_count` counting. Returns each attempt's (stage, retry, outcome)."""
    attempts: list[tuple[str, int, str]] = []
    invoke = workflow._invoke

    def invoke_with_retries(stage: str, payload: dict[str, Any], context: FakeLambdaContext) -> Any:
        for retry in range(RETRY_ATTEMPTS + 1):
            try:
                output = invoke(stage, {**payload, "retry_count": retry}, context)
            except Exception as exc:
                attempts.append((stage, retry, type(exc).__name__))
                if type(exc).__name__ not in TRANSIENT_ERRORS or retry == RETRY_ATTEMPTS:
                    raise
                continue
            attempts.append((stage, retry, "ok"))
            return output
        raise AssertionError("unreachable")

    monkeypatch.setattr(workflow, "_invoke", invoke_with_retries)
    return attempts


@pytest.mark.parametrize(
    ("fault", "state_id", "operations"),
    [
        (FAULT_CASES[4], "Detect", {"GetObject"}),
        (FAULT_CASES[6], "Image", {"PutObject"}),
        (FAULT_CASES[0], "Image", None),
        (FAULT_CASES[2], "Finalize", None),
    ],
    ids=["detect-s3-slowdown", "image-s3-connection", "image-dynamodb-throttled", "finalize-dynamodb-500"],
)
def test_a_stage_failing_transiently_once_is_retried_and_the_file_ends_processed_once(
    cloud: Cloud,
    aws_faults: AwsFaults,
    monkeypatch: pytest.MonkeyPatch,
    fault: Fault,
    state_id: str,
    operations: set[str] | None,
) -> None:
    # Given an image upload, and the stage's first call of S3 or DynamoDB failing
    attempts = retried_invocations(monkeypatch)
    uploaded = upload(cloud, samples.png())

    def arm(current: str, _: dict[str, Any]) -> None:
        if current == state_id and not aws_faults.failed:
            aws_faults.inject(fault, times=1, operations=operations)

    # When its workflow runs
    delivery = workflow.deliver([uploaded.record()], before=arm)
    assert delivery.response == {"batchItemFailures": []}
    [execution] = delivery.executions
    # Then the stage raised TransientStageError, was retried (retry_count 1) and succeeded
    stage = workflow.TASKS[state_id][0]
    assert len(aws_faults.failed) == 1
    assert [a for a in attempts if a[0] == stage][:2] == [(stage, 0, "TransientStageError"), (stage, 1, "ok")]
    assert TransientStageError.__name__ in TRANSIENT_ERRORS
    assert execution.status == "SUCCEEDED"
    assert execution.caught == []
    # And the file is processed, with one file record, one job and one set of thumbnails
    item = file_item(cloud, uploaded.file_id)
    assert item["status"] == "processed"
    assert user_items(cloud, uploaded.user_id).count("FILE") == 1
    [job] = jobs_of(cloud, uploaded.file_id)
    assert job["status"] == "succeeded"
    assert len(workflow.execution_arns()) == 1
    assert [d["name"] for d in item["derivatives"]] == [d["name"] for d in item["derivatives"] if d["key"]]
    FAULTS.record(
        f"stage-{state_id}-{fault.name}",
        {
            "fault": f"{fault.name} in the {stage} stage",
            "injected": f"its first {fault.service} call"
            + (f" ({', '.join(operations)})" if operations else ""),
            "outcome": "TransientStageError, retried (retry_count 1): processed, one record, one job",
            "suite": "integration",
        },
    )


def test_the_definition_retries_a_killed_environment_but_not_one_out_of_memory() -> None:
    # Given the state machine as CDK renders it
    from aws_cdk import App, Stack
    from aws_cdk import aws_dynamodb as dynamodb
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk import aws_stepfunctions as sfn

    from infra.constructs.pipeline.definition import build_definition
    from infra.constructs.pipeline.lanes import StandardLane
    from infra.constructs.pipeline.stages import STAGES_BY_NAME
    from infra.context import DEFAULT_STANDARD_LANE_SLOTS

    stack = Stack(App(), "Pipeline")
    functions = {
        name: lambda_.Function.from_function_arn(stack, name, f"arn:aws:lambda:us-east-1:1:function:{name}")
        for name in STAGES_BY_NAME
    }
    table = dynamodb.Table.from_table_name(stack, "Table", "fileflow-metadata")
    lane = StandardLane(stack, table=table, slots=DEFAULT_STANDARD_LANE_SLOTS)
    graph = sfn.StateGraph(build_definition(stack, functions, lane).start_state, "pipeline").to_graph_json()
    # The stages' tasks (the lane's DynamoDB tasks have their own retries: tests/infra/test_infra_lanes.py)
    tasks = {
        name: state
        for name, state in graph["States"].items()
        if state["Type"] == "Task" and not state["Resource"].startswith("arn:aws:states:::")
    }
    # Then every task retries an environment that died mid-run (SIGKILL: Runtime.ExitError) and a
    # stage's transient error, and none retries Runtime.OutOfMemory (the file would exhaust it again)
    for name, state in tasks.items():
        retried = {error for retry in state["Retry"] for error in retry["ErrorEquals"]}
        assert {"Runtime.ExitError", "TransientStageError"} <= retried, name
        assert not retried & {"Runtime.OutOfMemory", "States.ALL", "States.TaskFailed"}, name


# --- the local cloud restarted between initiate and complete ------------------------------------------------


def restart_local_cloud(cloud: Cloud, monkeypatch: pytest.MonkeyPatch) -> None:
    """What restarting the local cloud does: every resource's state is gone (moto reset), then the stack is
    deployed again (the same resources, empty) and every function starts cold."""
    dynamodb = boto3.client("dynamodb")
    tables = [
        dynamodb.describe_table(TableName=name)["Table"] for name in dynamodb.list_tables()["TableNames"]
    ]
    secrets = boto3.client("secretsmanager")
    secret = secrets.get_secret_value(SecretId=os.environ["TOKEN_SECRET_ARN"])
    machine = cloud.sfn.describe_state_machine(stateMachineArn=cloud.state_machine_arn)
    BackendDict.reset()
    for table in tables:
        definition: dict[str, Any] = {
            "TableName": table["TableName"],
            "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": table["KeySchema"],
            "AttributeDefinitions": table["AttributeDefinitions"],
        }
        if table.get("GlobalSecondaryIndexes"):
            definition["GlobalSecondaryIndexes"] = [
                {key: index[key] for key in ("IndexName", "KeySchema", "Projection")}
                for index in table["GlobalSecondaryIndexes"]
            ]
        dynamodb.create_table(**definition)
    cloud.s3.create_bucket(Bucket=BUCKET_NAME)
    cloud.sqs.create_queue(QueueName=conftest.QUEUE_NAME)
    cloud.sfn.create_state_machine(
        name=machine["name"], definition=machine["definition"], roleArn=machine["roleArn"]
    )
    recreated = secrets.create_secret(Name=secret["Name"], SecretString=secret["SecretString"])
    monkeypatch.setenv("TOKEN_SECRET_ARN", recreated["ARN"])
    conftest._reset_cached_state()


class StoppedError(Exception):
    pass


def test_a_restart_between_initiate_and_complete_is_a_clear_404_and_the_sdk_uploads_again_cleanly(
    cloud: Cloud,
    lambda_context: FakeLambdaContext,
    signing_secret: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given an upload of three parts stopped once its first part was stored (its state saved)
    path = tmp_path / "film.bin"
    data = random_file(path, MULTIPART_SIZE + 12_345)

    def stop(event: Progress) -> None:
        if event.part_number is not None:
            raise StoppedError

    def new_client() -> FileflowClient:
        return FileflowClient(
            API_URL,
            "a token the authorizer checked",
            transport=InProcessFileflow(lambda_context),
            state_dir=tmp_path / "state",
            retry=RetryPolicy(max_attempts=2, base_delay=0),
        )

    with new_client() as client, pytest.raises(StoppedError):
        client.upload(path, concurrency=1, progress=stop)
    [state_file] = (tmp_path / "state").iterdir()
    old_upload_id = json.loads(state_file.read_text())["upload_id"]
    # When the local cloud restarts (and the stack is deployed again)
    restart_local_cloud(cloud, monkeypatch)
    # Then completing the old upload is a clear 404, not a 5xx
    late = call(lambda_context, "POST", f"/v1/uploads/{old_upload_id}/complete", body={})
    assert (late.status, late.error_code) == (404, "UploadNotFound"), late.body
    # When the SDK uploads the file again
    with new_client() as client:
        result = client.upload(path, concurrency=2)
        status = client.status(result.upload_id).status
    # Then it dropped the saved state and started a new upload, which completed with the file's bytes
    assert not result.resumed
    assert result.upload_id != old_upload_id
    assert result.parts_sent == (1, 2, 3)
    assert status == "completed"
    assert cloud.s3.get_object(Bucket=BUCKET_NAME, Key=result.key)["Body"].read() == data
    assert list((tmp_path / "state").iterdir()) == []
    # And there is one file, one session, and no S3 upload left unfinished
    listed = call(lambda_context, "GET", "/v1/files")
    assert [f["file_id"] for f in listed.body["files"]] == [result.file_id]
    assert user_items(cloud, ALICE) == ["FILE", "UPLOAD"]
    assert s3_multipart_uploads(cloud) == []
    FAULTS.record(
        "restart-between-initiate-and-complete",
        {
            "fault": "local cloud restarted between initiate and complete",
            "injected": "moto reset after part 1 of 3, stack deployed again (integration)",
            "outcome": "complete: 404 UploadNotFound; the SDK dropped its state and uploaded anew: "
            "completed, one file, one session",
            "suite": "integration",
        },
    )
