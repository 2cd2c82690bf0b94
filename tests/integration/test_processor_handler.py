import json
from typing import Any

import pytest
from pydantic import ValidationError

from fileflow_processor.handler import lambda_handler
from tests.conftest import LogReader
from tests.events import load_event
from tests.integration.conftest import Cloud, FakeLambdaContext

ALICE_KEY = {"pk": "USER#user-alice", "sk": "FILE#file-0001"}


def invoke(event: dict[str, Any], context: FakeLambdaContext) -> dict[str, Any]:
    result: dict[str, Any] = lambda_handler(event, context)
    return result


def with_object(event: dict[str, Any], **object_fields: Any) -> dict[str, Any]:
    """The event with its (single) S3 record's object fields replaced."""
    record = event["Records"][0]
    notification = json.loads(record["body"])
    notification["Records"][0]["s3"]["object"].update(object_fields)
    record["body"] = json.dumps(notification)
    return event


def objects_stored(output: str) -> float:
    """Sum of the ObjectsStored datapoints in the EMF documents printed by the invocation."""
    documents = [json.loads(line) for line in output.splitlines() if line.startswith('{"_aws"')]
    assert all(doc["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "FileflowTest" for doc in documents)
    values = [doc["ObjectsStored"] for doc in documents if "ObjectsStored" in doc]
    return float(sum(value for entry in values for value in (entry if isinstance(entry, list) else [entry])))


def test_object_created_event_writes_the_file_item(
    cloud: Cloud,
    lambda_context: FakeLambdaContext,
    captured_logs: LogReader,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given the SQS event carrying S3's ObjectCreated notification for uploads/user-alice/file-0001
    event = load_event("sqs_s3_object_created")
    # When the processor handles it
    result = invoke(event, lambda_context)
    # Then no failures and the file item holds the object's metadata
    assert result == {"batchItemFailures": []}
    item = cloud.table.get_item(Key=ALICE_KEY)["Item"]
    assert item["key"] == "uploads/user-alice/file-0001"
    assert (item["user_id"], item["file_id"]) == ("user-alice", "file-0001")
    assert item["size"] == 1048576
    assert item["etag"] == "b6d81b360a5672d80c27430f39153e2c"
    assert item["version_id"] == "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY"
    assert item["source_object"] == "b6d81b360a5672d80c27430f39153e2c#3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY"
    assert item["stored_at"] == "2026-05-04T10:15:30.123Z"
    assert isinstance(item["updated_at"], str)
    assert item["updated_at"].endswith("Z")
    # And the log line the e2e test searches for, tagged with the SQS message id
    [stored] = [line for line in captured_logs() if line["message"] == "object stored"]
    assert stored["key"] == "uploads/user-alice/file-0001"
    assert stored["message_id"] == event["Records"][0]["messageId"]
    # And the EMF metric
    assert objects_stored(capsys.readouterr().out) == 1


def test_redelivered_event_leaves_one_unchanged_item(
    cloud: Cloud, lambda_context: FakeLambdaContext, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the event was processed once
    invoke(load_event("sqs_s3_object_created"), lambda_context)
    first = cloud.table.get_item(Key=ALICE_KEY)["Item"]
    capsys.readouterr()
    # When SQS delivers it again
    result = invoke(load_event("sqs_s3_object_created"), lambda_context)
    # Then it succeeds, is not counted as stored, there is still one item, and it was not rewritten
    assert result == {"batchItemFailures": []}
    assert objects_stored(capsys.readouterr().out) == 0
    assert cloud.table.scan()["Count"] == 1
    assert cloud.table.get_item(Key=ALICE_KEY)["Item"] == first


def test_older_event_does_not_overwrite_a_newer_version(
    cloud: Cloud, lambda_context: FakeLambdaContext
) -> None:
    # Given a newer version of the object was recorded first (events arrive out of order)
    newer = with_object(
        load_event("sqs_s3_object_created"), sequencer="0065D3E5FFFFFFFFFF", eTag="newer", size=7
    )
    invoke(newer, lambda_context)
    # When the older event arrives
    result = invoke(load_event("sqs_s3_object_created"), lambda_context)
    # Then it is acknowledged but the item keeps the newer version
    assert result == {"batchItemFailures": []}
    item = cloud.table.get_item(Key=ALICE_KEY)["Item"]
    assert (item["etag"], item["size"]) == ("newer", 7)


def test_newer_event_overwrites_an_older_version(cloud: Cloud, lambda_context: FakeLambdaContext) -> None:
    # Given the sample version was recorded
    invoke(load_event("sqs_s3_object_created"), lambda_context)
    # When a newer, unversioned write of the same key arrives
    newer = with_object(
        load_event("sqs_s3_object_created"), sequencer="0065D3E5FFFFFFFFFF", eTag="newer", versionId=None
    )
    invoke(newer, lambda_context)
    # Then the item describes the newer object and no stale version id survives
    item = cloud.table.get_item(Key=ALICE_KEY)["Item"]
    assert item["etag"] == "newer"
    assert "version_id" not in item


def test_new_content_under_a_reused_sequencer_is_recorded(
    cloud: Cloud, lambda_context: FakeLambdaContext
) -> None:
    # Given the sample event was recorded
    invoke(load_event("sqs_s3_object_created"), lambda_context)
    # When the key is overwritten and the event repeats the sequencer (LocalStack sends a constant one)
    invoke(with_object(load_event("sqs_s3_object_created"), eTag="overwritten", size=3), lambda_context)
    # Then the item describes the new content
    item = cloud.table.get_item(Key=ALICE_KEY)["Item"]
    assert (item["etag"], item["size"]) == ("overwritten", 3)


def test_mixed_batch_reports_only_the_poison_message(
    cloud: Cloud, lambda_context: FakeLambdaContext, captured_logs: LogReader
) -> None:
    # Given a batch with one good S3 notification and one truncated body
    event = load_event("sqs_mixed_batch")
    good, poison = event["Records"]
    # When the processor handles it
    result = invoke(event, lambda_context)
    # Then only the poison message is reported (SQS retries it, then dead-letters it)
    assert result == {"batchItemFailures": [{"itemIdentifier": poison["messageId"]}]}
    # And its batch mate was recorded
    assert cloud.table.get_item(Key={"pk": "USER#user-bob", "sk": "FILE#file-0002"})["Item"]["key"] == (
        "uploads/user-bob/file-0002"
    )
    # And the rejection is logged with the reason
    [rejected] = [line for line in captured_logs() if line["message"] == "invalid notification rejected"]
    assert rejected["message_id"] == poison["messageId"]
    assert "not JSON" in rejected["reason"]
    assert good["messageId"] != poison["messageId"]


def test_s3_test_event_is_acknowledged_and_ignored(
    cloud: Cloud, lambda_context: FakeLambdaContext, captured_logs: LogReader
) -> None:
    # Given the s3:TestEvent S3 sends when the notification is configured
    # When the processor handles it
    result = invoke(load_event("sqs_s3_test_event"), lambda_context)
    # Then it is not a failure, nothing is written, and the skip is logged
    assert result == {"batchItemFailures": []}
    assert cloud.table.scan()["Count"] == 0
    assert "s3 test event skipped" in [line["message"] for line in captured_logs()]


def test_misconfigured_function_fails_the_whole_invocation(
    cloud: Cloud, lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given TABLE_NAME is missing
    monkeypatch.delenv("TABLE_NAME")
    # When invoked / Then the invocation fails (the batch is retried) instead of failing record by record
    with pytest.raises(ValidationError, match="table_name"):
        invoke(load_event("sqs_s3_object_created"), lambda_context)
