"""The processor handler in-process, on moto: S3 objects in; derivatives, jobs and file items out."""

from __future__ import annotations

import io
import json
import uuid
from typing import Any

import boto3
import pytest
from boto3.dynamodb.conditions import Key
from PIL import Image

from fileflow_processor.handler import IDEMPOTENCY_KEY_PREFIX, lambda_handler
from fileflow_processor.object_store import S3ObjectStore
from tests import samples
from tests.conftest import LogReader
from tests.integration.conftest import BUCKET_NAME, IDEMPOTENCY_TABLE_NAME, Cloud, FakeLambdaContext

USER = "user-carol"


@pytest.fixture(autouse=True)
def versioned_bucket(cloud: Cloud) -> None:
    # Like the deployed bucket: every overwrite is a new version, so a rewrite of a derivative shows
    cloud.s3.put_bucket_versioning(Bucket=BUCKET_NAME, VersioningConfiguration={"Status": "Enabled"})


def upload(cloud: Cloud, data: bytes, *, file_id: str | None = None) -> dict[str, Any]:
    """Put an original the way a client does, and return the S3 notification's object fields."""
    file_id = file_id or f"f{uuid.uuid4().hex[:12]}"
    key = f"uploads/{USER}/{file_id}"
    put = cloud.s3.put_object(Bucket=BUCKET_NAME, Key=key, Body=data)
    return {
        "key": key,
        "size": len(data),
        "eTag": put["ETag"].strip('"'),
        "versionId": put["VersionId"],
        "sequencer": "0065D3E5A8C9F1B2E4",
        "file_id": file_id,
    }


def message(obj: dict[str, Any], *, receive_count: int = 1, message_id: str | None = None) -> dict[str, Any]:
    fields = {name: value for name, value in obj.items() if name != "file_id"}
    notification = {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": "us-east-1",
                "eventTime": "2026-05-04T10:15:30.123Z",
                "eventName": "ObjectCreated:Put",
                "s3": {"bucket": {"name": BUCKET_NAME}, "object": fields},
            }
        ]
    }
    return raw_message(json.dumps(notification), receive_count=receive_count, message_id=message_id)


def raw_message(body: str, *, receive_count: int = 1, message_id: str | None = None) -> dict[str, Any]:
    return {
        "messageId": message_id or str(uuid.uuid4()),
        "receiptHandle": f"handle-{uuid.uuid4()}",
        "body": body,
        "attributes": {"ApproximateReceiveCount": str(receive_count), "SentTimestamp": "1777889731200"},
        "messageAttributes": {},
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:fileflow-processing",
        "awsRegion": "us-east-1",
    }


def invoke(context: FakeLambdaContext, *records: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = lambda_handler({"Records": list(records)}, context)
    return result


def jobs_of(cloud: Cloud, file_id: str) -> list[dict[str, Any]]:
    return cloud.table.query(KeyConditionExpression=Key("pk").eq(f"FILE#{file_id}"))["Items"]


def file_item(cloud: Cloud, file_id: str) -> dict[str, Any]:
    return cloud.table.get_item(Key={"pk": f"USER#{USER}", "sk": f"FILE#{file_id}"})["Item"]


def derivative_versions(cloud: Cloud, file_id: str) -> dict[str, int]:
    versions = cloud.s3.list_object_versions(Bucket=BUCKET_NAME, Prefix=f"derived/{USER}/{file_id}/")
    counts: dict[str, int] = {}
    for version in versions.get("Versions", []):
        name = version["Key"].rsplit("/", 1)[1]
        counts[name] = counts.get(name, 0) + 1
    return counts


def test_an_uploaded_jpeg_gets_renditions_a_job_and_a_processed_file_item(
    cloud: Cloud, lambda_context: FakeLambdaContext
) -> None:
    # Given a JPEG taken in portrait (EXIF orientation 6) uploaded under uploads/{user}/{file}
    obj = upload(cloud, samples.jpeg(1600, 1200, orientation=6))
    # When its ObjectCreated notification is processed
    assert invoke(lambda_context, message(obj)) == {"batchItemFailures": []}
    # Then every rendition is under derived/{user}/{file}/, upright and without EXIF
    assert set(derivative_versions(cloud, obj["file_id"])) == {
        f"thumb-{size}.{extension}" for size in (1024, 512, 128) for extension in ("webp", "jpg")
    }
    body = cloud.s3.get_object(Bucket=BUCKET_NAME, Key=f"derived/{USER}/{obj['file_id']}/thumb-1024.jpg")
    assert body["ContentType"] == "image/jpeg"
    assert body["Metadata"] == {"source-etag": obj["eTag"], "source-version-id": obj["versionId"]}
    rendition = Image.open(io.BytesIO(body["Body"].read()))
    assert rendition.size == (768, 1024)
    assert not rendition.getexif()
    # And one job went to succeeded, with its timestamps and result
    [job] = jobs_of(cloud, obj["file_id"])
    assert (job["task"], job["status"], job["attempts"]) == ("image_renditions", "succeeded", 1)
    assert job["started_at"] <= job["ended_at"]
    assert job["result"]["analysis"]["orientation"] == 6
    assert job["version_id"] == obj["versionId"]
    # And the file item says processed, with the detected type and the derivatives' keys
    item = file_item(cloud, obj["file_id"])
    assert (item["status"], item["detected_type"], item["processing_job_id"]) == (
        "processed",
        "image/jpeg",
        job["job_id"],
    )
    assert len(item["derivatives"]) == 6
    assert all(str(d["key"]).startswith(f"derived/{USER}/{obj['file_id']}/") for d in item["derivatives"])


def test_the_same_event_delivered_twice_yields_one_job_and_one_set_of_derivatives(
    cloud: Cloud, lambda_context: FakeLambdaContext, captured_logs: LogReader
) -> None:
    # Given an uploaded PNG and its notification
    obj = upload(cloud, samples.png(600, 400))
    # When the notification is delivered twice in one batch, then once more in another
    first = message(obj)
    duplicate = message(obj)
    assert invoke(lambda_context, first, duplicate) == {"batchItemFailures": []}
    assert invoke(lambda_context, message(obj, receive_count=2)) == {"batchItemFailures": []}
    # Then there is one job, run once, and each derivative was written once (one S3 version each)
    [job] = jobs_of(cloud, obj["file_id"])
    assert (job["status"], job["attempts"]) == ("succeeded", 1)
    versions = derivative_versions(cloud, obj["file_id"])
    assert len(versions) == 6
    assert set(versions.values()) == {1}
    # And the duplicates were answered by Powertools idempotency (keyed by bucket, key, version, ETag)
    # without reaching the processor: it logged one "file processed" only
    assert [line["message"] for line in captured_logs()].count("file processed") == 1
    idempotency = boto3.resource("dynamodb").Table(IDEMPOTENCY_TABLE_NAME).scan()["Items"]
    assert [record["status"] for record in idempotency] == ["COMPLETED"]
    assert str(idempotency[0]["id"]).startswith(IDEMPOTENCY_KEY_PREFIX)


def test_a_mixed_batch_fails_only_the_poison_message_and_bad_files_fail_their_jobs(
    cloud: Cloud, lambda_context: FakeLambdaContext
) -> None:
    # Given a batch: a good CSV, a poison body, a corrupt image and a zip-slip archive
    good = upload(cloud, samples.CSV.encode())
    corrupt = upload(cloud, samples.corrupt_image())
    slip = upload(cloud, samples.zip_slip())
    poison = raw_message("this is not an S3 event")
    # When processed
    result = invoke(lambda_context, message(good), poison, message(corrupt), message(slip))
    # Then only the poison message is reported (retried, then dead-lettered); bad files are not retried
    assert result == {"batchItemFailures": [{"itemIdentifier": poison["messageId"]}]}
    # And the CSV succeeded, told from its content
    [job] = jobs_of(cloud, good["file_id"])
    assert (job["task"], job["status"]) == ("text_statistics", "succeeded")
    assert file_item(cloud, good["file_id"])["detected_type"] == "text/csv"
    # And the bad files' jobs failed with a clear reason, and their file items say failed
    for obj, code in ((corrupt, "CorruptFile"), (slip, "UnsafeArchivePath")):
        [job] = jobs_of(cloud, obj["file_id"])
        assert job["status"] == "failed"
        assert job["error"]["code"] == code
        assert job["error"]["retryable"] is False
        item = file_item(cloud, obj["file_id"])
        assert (item["status"], item["processing_error"]["code"]) == ("failed", code)
        assert derivative_versions(cloud, obj["file_id"]) == {}


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
    assert invoke(lambda_context, record)["batchItemFailures"] == [{"itemIdentifier": received["MessageId"]}]
    # Then it is visible again at once (base 0 s), not after the queue's 30 s
    again = cloud.sqs.receive_message(QueueUrl=cloud.queue_url).get("Messages", [])
    assert [m["MessageId"] for m in again] == [received["MessageId"]]


def test_the_last_failed_attempt_marks_the_job_failed_and_a_redrive_runs_it_again(
    cloud: Cloud,
    lambda_context: FakeLambdaContext,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given S3 refusing derivative writes, and a PDF upload
    obj = upload(cloud, samples.pdf(2))

    def refuse(*args: object, **kwargs: object) -> None:
        raise ConnectionError("S3 unavailable")

    monkeypatch.setattr(S3ObjectStore, "write_derivative", refuse)
    # When its third receive fails too
    for receive_count in (1, 2, 3):
        result = invoke(lambda_context, message(obj, receive_count=receive_count))
        assert len(result["batchItemFailures"]) == 1
    # Then the job says it failed for lack of retries (retryable), and the dead letter is counted
    [job] = jobs_of(cloud, obj["file_id"])
    assert (job["status"], job["error"]["code"], job["error"]["retryable"]) == (
        "failed",
        "RetriesExhausted",
        True,
    )
    assert '"MessagesDeadLettered":[1.0]' in capsys.readouterr().out
    # When the fix is in and the message is redriven
    monkeypatch.undo()
    assert invoke(lambda_context, message(obj)) == {"batchItemFailures": []}
    # Then the same job succeeds, and the text is there
    [job] = jobs_of(cloud, obj["file_id"])
    assert (job["status"], job["attempts"]) == ("succeeded", 4)
    assert "error" not in job
    text = cloud.s3.get_object(Bucket=BUCKET_NAME, Key=f"derived/{USER}/{obj['file_id']}/text.txt")[
        "Body"
    ].read()
    assert b"Hello Fileflow page 2" in text


def test_the_upload_apis_attributes_survive_and_a_declared_type_mismatch_is_recorded(
    cloud: Cloud, lambda_context: FakeLambdaContext
) -> None:
    # Given the upload API recorded the file first: filename, declared type, sha256, status
    file_id = f"f{uuid.uuid4().hex[:12]}"
    cloud.table.put_item(
        Item={
            "pk": f"USER#{USER}",
            "sk": f"FILE#{file_id}",
            "filename": "holiday.jpg",
            "content_type": "image/jpeg",
            "sha256": "ab" * 32,
            "status": "uploaded",
        }
    )
    # And the bytes are really a ZIP
    obj = upload(cloud, samples.zip_file(), file_id=file_id)
    # When processed
    assert invoke(lambda_context, message(obj)) == {"batchItemFailures": []}
    # Then it was listed as the ZIP it is, the job and file need review for the mismatch
    item = file_item(cloud, file_id)
    assert (item["status"], item["detected_type"]) == ("needs_review", "application/zip")
    assert item["type_mismatch"] == {
        "declared_content_type": "image/jpeg",
        "filename_extension": ".jpg",
        "detected_content_type": "application/zip",
    }
    [job] = jobs_of(cloud, file_id)
    assert (job["task"], job["status"]) == ("archive_listing", "needs_review")
    # And the upload API's own attributes are untouched
    assert (item["filename"], item["content_type"], item["sha256"]) == (
        "holiday.jpg",
        "image/jpeg",
        "ab" * 32,
    )


def test_results_of_an_older_version_never_overwrite_the_file_item(
    cloud: Cloud, lambda_context: FakeLambdaContext
) -> None:
    # Given version 2 of a file was processed
    file_id = f"f{uuid.uuid4().hex[:12]}"
    old = upload(cloud, samples.TEXT.encode(), file_id=file_id)
    new = upload(cloud, samples.JSON.encode(), file_id=file_id)
    new["sequencer"] = "0065D3E5A8C9F1B2FF"
    invoke(lambda_context, message(new))
    # When the (older) version 1's event arrives late
    assert invoke(lambda_context, message(old)) == {"batchItemFailures": []}
    # Then the item still describes version 2, and version 1 got no job
    item = file_item(cloud, file_id)
    assert (item["version_id"], item["detected_type"]) == (new["versionId"], "application/json")
    assert len(jobs_of(cloud, file_id)) == 1
