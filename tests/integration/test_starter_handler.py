"""The starter (fileflow_intake.handler) in-process on moto: SQS batches of S3 notifications in; file items,
queued jobs and Step Functions executions (one per stored version) out."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import ValidationError

from fileflow_common.aws import sqs_client
from fileflow_common.pipeline import ObjectVersion
from fileflow_intake import handler as intake_handler
from fileflow_intake.files import DynamoIntakeRecords
from fileflow_intake.handler import lambda_handler
from fileflow_intake.retries import backoff_seconds
from fileflow_intake.stored_objects import RecordedObject, StoredObject
from tests import samples
from tests.conftest import LogReader
from tests.events import load_event, s3_notification
from tests.integration.conftest import BUCKET_NAME, Cloud, FakeLambdaContext
from tests.integration.processing import declare, file_item, jobs_of, open_upload, upload
from tests.integration.workflow import execution_arn_for, raw_message

ALICE_KEY = {"pk": "USER#user-alice", "sk": "FILE#file-0001"}
SAMPLE = ObjectVersion(
    bucket=BUCKET_NAME,
    key="uploads/user-alice/file-0001",
    version_id="3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY",
    etag="b6d81b360a5672d80c27430f39153e2c",
)
CORRELATION_ID = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"


def invoke(event: dict[str, Any], context: FakeLambdaContext) -> dict[str, Any]:
    result: dict[str, Any] = dict(lambda_handler(event, context))
    return result


def with_object(event: dict[str, Any], **object_fields: Any) -> dict[str, Any]:
    """The event with its (single) S3 record's object fields replaced."""
    event["Records"][0]["body"] = json.dumps(s3_notification(**object_fields))
    return event


def executions(cloud: Cloud) -> list[dict[str, Any]]:
    """Every execution of the state machine, oldest first, with its input."""
    listed = cloud.sfn.list_executions(stateMachineArn=cloud.state_machine_arn)["executions"]
    described = [cloud.sfn.describe_execution(executionArn=e["executionArn"]) for e in listed]
    return sorted(
        ({"name": d["name"], "arn": d["executionArn"], "input": json.loads(d["input"])} for d in described),
        key=lambda execution: str(execution["arn"]),
    )


def objects_stored(output: str) -> float:
    """Sum of the ObjectsStored datapoints in the EMF documents printed by the invocation."""
    documents = [json.loads(line) for line in output.splitlines() if line.startswith('{"_aws"')]
    assert all(doc["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "FileflowTest" for doc in documents)
    values = [doc["ObjectsStored"] for doc in documents if "ObjectsStored" in doc]
    return float(sum(value for entry in values for value in (entry if isinstance(entry, list) else [entry])))


@pytest.fixture(autouse=True)
def uploads_in_flight(cloud: Cloud) -> None:
    """The upload sessions of the sample events' files, initiated: the starter accepts their objects."""
    open_upload(cloud, "file-0001", user="user-alice")
    open_upload(cloud, "file-0002", user="user-bob")


@pytest.fixture
def visibility_changes(cloud: Cloud) -> Iterator[list[dict[str, Any]]]:
    """The ChangeMessageVisibility calls the starter's (cached) SQS client makes."""
    calls: list[dict[str, Any]] = []

    def record(params: dict[str, Any], **kwargs: Any) -> None:
        calls.append(dict(params))

    client = sqs_client()
    client.meta.events.register("provide-client-params.sqs.ChangeMessageVisibility", record)
    yield calls
    client.meta.events.unregister("provide-client-params.sqs.ChangeMessageVisibility", record)


def test_an_object_created_notification_records_the_file_and_starts_one_execution(
    cloud: Cloud,
    lambda_context: FakeLambdaContext,
    captured_logs: LogReader,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given the upload API recorded the file with the upload's correlation id
    declare(cloud, "file-0001", user="user-alice", filename="report.pdf", correlation_id=CORRELATION_ID)
    # And the SQS event carrying S3's ObjectCreated notification for uploads/user-alice/file-0001
    event = load_event("starter/s3_object_created")
    # When the starter handles it
    result = invoke(event, lambda_context)
    # Then no failures, and the file item holds the object's S3 facts next to the API's attributes
    assert result == {"batchItemFailures": []}
    item = cloud.table.get_item(Key=ALICE_KEY)["Item"]
    assert (item["key"], item["user_id"], item["file_id"]) == (SAMPLE.key, "user-alice", "file-0001")
    assert (item["size"], item["etag"], item["version_id"]) == (1048576, SAMPLE.etag, SAMPLE.version_id)
    assert item["source_object"] == SAMPLE.source_tag
    assert item["stored_at"] == "2026-05-04T10:15:30.123Z"
    assert str(item["updated_at"]).endswith("Z")
    assert (item["filename"], item["correlation_id"], item["processing_job_id"]) == (
        "report.pdf",
        CORRELATION_ID,
        SAMPLE.job_id,
    )
    # And one execution started, named after the version, its input naming the version and the upload
    [execution] = executions(cloud)
    assert (execution["name"], execution["arn"]) == (SAMPLE.job_id, execution_arn_for(SAMPLE.job_id))
    assert execution["input"] == {
        "file": {
            "user_id": "user-alice",
            "file_id": "file-0001",
            "bucket": BUCKET_NAME,
            "key": SAMPLE.key,
            "version_id": SAMPLE.version_id,
            "etag": SAMPLE.etag,
            "size": 1048576,
            "job_id": SAMPLE.job_id,
            "correlation_id": CORRELATION_ID,
            # The upload API wrote none: the default priority (its lane: standard)
            "priority": 5,
        }
    }
    # And its job is queued, its type not detected yet
    [job] = jobs_of(cloud, "file-0001")
    assert (job["job_id"], job["task"], job["status"], job["attempts"]) == (
        SAMPLE.job_id,
        "detection",
        "queued",
        0,
    )
    assert (job["version_id"], job["etag"], job["correlation_id"]) == (
        SAMPLE.version_id,
        SAMPLE.etag,
        CORRELATION_ID,
    )
    # And the log lines the e2e test searches for, tagged with the SQS message id
    lines = captured_logs()
    [stored] = [line for line in lines if line["message"] == "object stored"]
    assert (stored["key"], stored["message_id"]) == (SAMPLE.key, event["Records"][0]["messageId"])
    [started] = [line for line in lines if line["message"] == "workflow started"]
    assert started["execution_arn"] == execution["arn"]
    # And the batch's AWS calls by operation (what `make bench-cost` prices), the execution's start among them
    [batch] = [line for line in lines if line["message"] == "batch handled"]
    assert (batch["records"], batch["failed"]) == (1, 0)
    assert batch["aws_operations"]["stepfunctions:StartExecution"] == 1
    assert batch["aws_calls"] == sum(batch["aws_operations"].values())
    # And the EMF metric
    assert objects_stored(capsys.readouterr().out) == 1


def test_the_same_notification_twice_starts_one_execution(
    cloud: Cloud, lambda_context: FakeLambdaContext, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the event was handled once
    invoke(load_event("starter/s3_object_created"), lambda_context)
    first = cloud.table.get_item(Key=ALICE_KEY)["Item"]
    capsys.readouterr()
    # When SQS delivers it twice more in one batch (two messages, one body), then once in another
    twice = load_event("starter/s3_object_created")
    twice["Records"].append({**twice["Records"][0], "messageId": "5d1c2a4e-second-copy"})
    assert invoke(twice, lambda_context) == {"batchItemFailures": []}
    assert invoke(load_event("starter/s3_object_created"), lambda_context) == {"batchItemFailures": []}
    # Then none is counted as stored, the item was not rewritten, and there is one job and one execution
    assert objects_stored(capsys.readouterr().out) == 0
    assert cloud.table.get_item(Key=ALICE_KEY)["Item"] == first
    assert len(jobs_of(cloud, "file-0001")) == 1
    assert [execution["name"] for execution in executions(cloud)] == [SAMPLE.job_id]


@pytest.mark.parametrize(("stored", "priority"), [(9, 9), (1, 1), (12, 5)])
def test_the_uploads_priority_goes_into_the_execution_input(
    cloud: Cloud, lambda_context: FakeLambdaContext, stored: int, priority: int
) -> None:
    # Given the upload API stored the upload's priority on the file item (an out-of-range one: a bug)
    declare(cloud, "file-0001", user="user-alice", priority=stored)
    # When the starter handles its object's notification
    assert invoke(load_event("starter/s3_object_created"), lambda_context) == {"batchItemFailures": []}
    # Then the execution's input carries it, the lane's choice (out of range: the default, 5)
    [execution] = executions(cloud)
    assert execution["input"]["file"]["priority"] == priority


def test_a_redelivery_after_the_correlation_id_arrived_is_still_one_execution(
    cloud: Cloud, lambda_context: FakeLambdaContext, captured_logs: LogReader
) -> None:
    # Given the object's event was handled before the upload API wrote the correlation id
    invoke(load_event("starter/s3_object_created"), lambda_context)
    cloud.table.update_item(
        Key=ALICE_KEY,
        UpdateExpression="SET correlation_id = :id",
        ExpressionAttributeValues={":id": CORRELATION_ID},
    )
    # When the event is delivered again: the same execution name, another input
    result = invoke(load_event("starter/s3_object_created"), lambda_context)
    # Then Step Functions' ExecutionAlreadyExists is the duplicate it is: no failure, one execution
    assert result == {"batchItemFailures": []}
    [execution] = executions(cloud)
    assert execution["input"]["file"]["correlation_id"] is None
    assert "workflow already started for this version" in [line["message"] for line in captured_logs()]


def test_an_older_event_neither_overwrites_a_newer_version_nor_starts_a_workflow(
    cloud: Cloud, lambda_context: FakeLambdaContext
) -> None:
    # Given a newer version of the object was recorded first (events arrive out of order)
    newer = with_object(
        load_event("starter/s3_object_created"), sequencer="0065D3E5FFFFFFFFFF", eTag="newer", size=7
    )
    invoke(newer, lambda_context)
    # When the older event arrives
    result = invoke(load_event("starter/s3_object_created"), lambda_context)
    # Then it is acknowledged, the item keeps the newer version, and only the newer one's workflow runs
    assert result == {"batchItemFailures": []}
    item = cloud.table.get_item(Key=ALICE_KEY)["Item"]
    assert (item["etag"], item["size"]) == ("newer", 7)
    [execution] = executions(cloud)
    assert execution["input"]["file"]["etag"] == "newer"
    assert len(jobs_of(cloud, "file-0001")) == 1


def test_a_newer_event_overwrites_an_older_version_and_starts_its_own_workflow(
    cloud: Cloud, lambda_context: FakeLambdaContext
) -> None:
    # Given the sample version was recorded
    invoke(load_event("starter/s3_object_created"), lambda_context)
    # When a newer, unversioned write of the same key arrives
    newer = with_object(
        load_event("starter/s3_object_created"), sequencer="0065D3E5FFFFFFFFFF", eTag="newer", versionId=None
    )
    invoke(newer, lambda_context)
    # Then the item describes the newer object, no stale version id survives, and each version has a workflow
    item = cloud.table.get_item(Key=ALICE_KEY)["Item"]
    assert item["etag"] == "newer"
    assert "version_id" not in item
    newer_version = ObjectVersion(bucket=BUCKET_NAME, key=SAMPLE.key, version_id=None, etag="newer")
    assert sorted(e["name"] for e in executions(cloud)) == sorted([SAMPLE.job_id, newer_version.job_id])
    assert item["processing_job_id"] == newer_version.job_id


def test_new_content_under_a_reused_sequencer_is_recorded_and_processed(
    cloud: Cloud, lambda_context: FakeLambdaContext
) -> None:
    # Given the sample event was recorded
    invoke(load_event("starter/s3_object_created"), lambda_context)
    # When the key is overwritten and the event repeats the sequencer (LocalStack sends a constant one)
    invoke(
        with_object(load_event("starter/s3_object_created"), eTag="overwritten", size=3, versionId=None),
        lambda_context,
    )
    # Then the item describes the new content, and its workflow started too
    item = cloud.table.get_item(Key=ALICE_KEY)["Item"]
    assert (item["etag"], item["size"]) == ("overwritten", 3)
    assert len(executions(cloud)) == 2


@pytest.mark.parametrize(("receive_count", "dead_lettered"), [(1, False), (3, True)])
def test_a_mixed_batch_fails_only_the_poison_message_and_backs_it_off(
    cloud: Cloud,
    lambda_context: FakeLambdaContext,
    captured_logs: LogReader,
    capsys: pytest.CaptureFixture[str],
    visibility_changes: list[dict[str, Any]],
    receive_count: int,
    dead_lettered: bool,
) -> None:
    # Given a batch with one good S3 notification and one truncated body, received `receive_count` times
    event = load_event("starter/mixed_batch")
    good, poison = event["Records"]
    poison["attributes"]["ApproximateReceiveCount"] = str(receive_count)
    # When the starter handles it
    result = invoke(event, lambda_context)
    # Then only the poison message is reported (SQS retries it, then dead-letters it)
    assert result == {"batchItemFailures": [{"itemIdentifier": poison["messageId"]}]}
    # And its batch mate was recorded and its workflow started
    assert file_item(cloud, "file-0002", user="user-bob")["key"] == "uploads/user-bob/file-0002"
    [execution] = executions(cloud)
    assert execution["input"]["file"]["key"] == "uploads/user-bob/file-0002"
    # And the poison message comes back after base x 2^(receive count - 1) seconds, not the queue's timeout
    assert visibility_changes == [
        {
            "QueueUrl": cloud.queue_url,
            "ReceiptHandle": poison["receiptHandle"],
            "VisibilityTimeout": backoff_seconds(10, receive_count),
        }
    ]
    assert visibility_changes[0]["VisibilityTimeout"] == 10 * 2 ** (receive_count - 1)
    # And the rejection is logged with the reason, and its last attempt is counted as dead-lettered
    [rejected] = [line for line in captured_logs() if line["message"] == "invalid notification rejected"]
    assert rejected["message_id"] == poison["messageId"]
    assert "not JSON" in rejected["reason"]
    assert ('"MessagesDeadLettered":[1.0]' in capsys.readouterr().out) is dead_lettered
    assert good["messageId"] != poison["messageId"]


def test_failed_messages_come_back_after_the_backoff_not_the_visibility_timeout(
    cloud: Cloud, lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a poison message really received from the queue (30 s visibility), and no backoff delay
    cloud.sqs.set_queue_attributes(QueueUrl=cloud.queue_url, Attributes={"VisibilityTimeout": "30"})
    monkeypatch.setenv("RETRY_BACKOFF_SECONDS", "0")
    cloud.sqs.send_message(QueueUrl=cloud.queue_url, MessageBody="poison")
    [received] = cloud.sqs.receive_message(QueueUrl=cloud.queue_url, AttributeNames=["All"])["Messages"]
    record = raw_message(received["Body"], message_id=received["MessageId"])
    record["receiptHandle"] = received["ReceiptHandle"]
    # When it fails
    result = invoke({"Records": [record]}, lambda_context)
    assert result["batchItemFailures"] == [{"itemIdentifier": received["MessageId"]}]
    # Then it is visible again at once (base 0 s), not after the queue's 30 s
    again = cloud.sqs.receive_message(QueueUrl=cloud.queue_url).get("Messages", [])
    assert [message["MessageId"] for message in again] == [received["MessageId"]]


def test_an_object_of_a_deleted_file_is_deleted_and_starts_nothing(
    cloud: Cloud, lambda_context: FakeLambdaContext, captured_logs: LogReader
) -> None:
    # Given a deleted file (its tombstone), and an object landing at its key afterwards (a late presigned PUT)
    cloud.s3.put_bucket_versioning(Bucket=BUCKET_NAME, VersioningConfiguration={"Status": "Enabled"})
    declare(cloud, "file-0099", status="deleted", deleted_at="2026-05-04T10:00:00.000Z")
    tombstone = file_item(cloud, "file-0099")
    uploaded = upload(cloud, samples.png(), file_id="file-0099")
    # When its notification is handled
    result = invoke({"Records": [uploaded.record()]}, lambda_context)
    # Then it is acknowledged; the object version is removed, nothing is queued or started
    assert result == {"batchItemFailures": []}
    assert "Versions" not in cloud.s3.list_object_versions(Bucket=BUCKET_NAME, Prefix=uploaded.key)
    assert (jobs_of(cloud, "file-0099"), executions(cloud)) == ([], [])
    # And the tombstone is as the delete left it
    assert file_item(cloud, "file-0099") == tombstone
    assert "object of a deleted file discarded" in [line["message"] for line in captured_logs()]


def test_a_file_deleted_between_its_record_and_its_job_starts_nothing(
    cloud: Cloud, lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the file is deleted right after the starter recorded its object
    record = DynamoIntakeRecords.record_stored_object

    def record_then_delete(self: DynamoIntakeRecords, stored: StoredObject, **kwargs: Any) -> RecordedObject:
        recorded = record(self, stored, **kwargs)
        cloud.table.update_item(
            Key=ALICE_KEY, UpdateExpression="SET deleted_at = :at", ExpressionAttributeValues={":at": "now"}
        )
        return recorded

    monkeypatch.setattr(DynamoIntakeRecords, "record_stored_object", record_then_delete)
    # When the notification is handled
    result = invoke(load_event("starter/s3_object_created"), lambda_context)
    # Then the job's transaction refused it (the tombstone), and no workflow started; nothing to retry
    assert result == {"batchItemFailures": []}
    assert (jobs_of(cloud, "file-0001"), executions(cloud)) == ([], [])


def test_a_failed_start_fails_its_record_and_the_redelivery_starts_it(
    cloud: Cloud, lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given Step Functions refuses the start (a state machine that is not there)
    monkeypatch.setenv("STATE_MACHINE_ARN", f"{cloud.state_machine_arn}-gone")
    # When the notification is handled / Then its record fails (SQS retries it), after queueing the job
    event = load_event("starter/s3_object_created")
    assert invoke(event, lambda_context) == {
        "batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]
    }
    [job] = jobs_of(cloud, "file-0001")
    assert job["status"] == "queued"
    assert executions(cloud) == []
    # When it is redelivered once Step Functions answers
    monkeypatch.setenv("STATE_MACHINE_ARN", cloud.state_machine_arn)
    intake_handler.services.cache_clear()
    redelivered = load_event("starter/s3_object_created")
    redelivered["Records"][0]["attributes"]["ApproximateReceiveCount"] = "2"
    # Then the version recorded already is started now, with the same job
    assert invoke(redelivered, lambda_context) == {"batchItemFailures": []}
    assert [execution["name"] for execution in executions(cloud)] == [SAMPLE.job_id]
    assert [job["job_id"] for job in jobs_of(cloud, "file-0001")] == [SAMPLE.job_id]


def test_s3_test_event_is_acknowledged_and_ignored(
    cloud: Cloud, lambda_context: FakeLambdaContext, captured_logs: LogReader
) -> None:
    # Given the s3:TestEvent S3 sends when the notification is configured
    before = cloud.table.scan()["Items"]
    # When the starter handles it
    result = invoke(load_event("starter/s3_test_event"), lambda_context)
    # Then it is not a failure, nothing is written or started, and the skip is logged
    assert result == {"batchItemFailures": []}
    assert cloud.table.scan()["Items"] == before
    assert executions(cloud) == []
    assert "s3 test event skipped" in [line["message"] for line in captured_logs()]


@pytest.mark.parametrize("missing", ["TABLE_NAME", "STATE_MACHINE_ARN", "QUEUE_URL"])
def test_misconfigured_function_fails_the_whole_invocation(
    cloud: Cloud, lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch, missing: str
) -> None:
    # Given a variable missing
    monkeypatch.delenv(missing)
    # When invoked / Then the invocation fails (the batch is retried) instead of failing record by record
    with pytest.raises(ValidationError, match=missing.lower()):
        invoke(load_event("starter/s3_object_created"), lambda_context)
