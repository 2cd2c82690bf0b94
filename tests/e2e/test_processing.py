"""Processing on the deployed stack: S3 ObjectCreated -> SQS -> starter -> one Step Functions execution
per stored version -> a Lambda function per stage -> derivatives, jobs, file items and stage events.

Files are uploaded through the API (initiate, PUT, complete): the starter adopts only objects of an
upload session.
The poison message is sent when the session starts and checked last (tests/e2e/processing.py): its
three receives and backoffs (10 + 20 + 40 s) run while the other tests do.
"""

from __future__ import annotations

import io
import time
from typing import Any

import pytest
from PIL import Image

from infra import outputs as names
from tests import samples
from tests.e2e.conftest import AwsClients
from tests.e2e.polling import wait_for
from tests.e2e.processing import USER, PoisonBatch, Uploaded, notification, put
from tools import redrive
from tools.ops.functions import log_group
from tools.ops.logs import read as read_logs
from tools.stack import StackOutputs

pytestmark = pytest.mark.e2e

TERMINAL = {"succeeded", "failed", "needs_review"}
JOB_TIMEOUT = 90


def jobs(stack: StackOutputs, aws: AwsClients, file_id: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = aws.dynamodb.query(
        TableName=stack[names.TABLE_NAME],
        KeyConditionExpression="pk = :pk AND begins_with(sk, :job)",
        ExpressionAttributeValues={":pk": {"S": f"FILE#{file_id}"}, ":job": {"S": "JOB#"}},
        ConsistentRead=True,
    )["Items"]
    return items


def finished_job(stack: StackOutputs, aws: AwsClients, uploaded: Uploaded) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        found = jobs(stack, aws, uploaded.file_id)
        return found[0] if found and found[0]["status"]["S"] in TERMINAL else None

    return wait_for(probe, timeout=JOB_TIMEOUT, interval=1, what=f"the finished job of {uploaded.key}")


def file_item(stack: StackOutputs, aws: AwsClients, uploaded: Uploaded) -> dict[str, Any]:
    item: dict[str, Any] = aws.dynamodb.get_item(
        TableName=stack[names.TABLE_NAME],
        Key={"pk": {"S": f"USER#{USER}"}, "sk": {"S": f"FILE#{uploaded.file_id}"}},
        ConsistentRead=True,
    )["Item"]
    return item


def derivative_versions(stack: StackOutputs, aws: AwsClients, uploaded: Uploaded) -> dict[str, int]:
    response = aws.s3.list_object_versions(
        Bucket=stack[names.BUCKET_NAME], Prefix=f"derived/{USER}/{uploaded.file_id}/"
    )
    counts: dict[str, int] = {}
    for version in response.get("Versions", []):
        name = version["Key"].rsplit("/", 1)[1]
        counts[name] = counts.get(name, 0) + 1
    return counts


def stage_events(stack: StackOutputs, aws: AwsClients, file_id: str) -> list[tuple[str, str]]:
    """The file's stage events, oldest first, as (stage, state)."""
    items = aws.dynamodb.query(
        TableName=stack[names.TABLE_NAME],
        KeyConditionExpression="pk = :pk AND begins_with(sk, :event)",
        ExpressionAttributeValues={":pk": {"S": f"FILE#{file_id}"}, ":event": {"S": "EVENT#"}},
        ConsistentRead=True,
    )["Items"]
    return [(item["stage"]["S"], item["state"]["S"]) for item in items]


def finished_execution(stack: StackOutputs, aws: AwsClients, uploaded: Uploaded) -> dict[str, Any]:
    """The file's execution, once it has ended (its ARN is on the file item)."""

    def probe() -> dict[str, Any] | None:
        item = aws.dynamodb.get_item(
            TableName=stack[names.TABLE_NAME],
            Key={"pk": {"S": f"USER#{USER}"}, "sk": {"S": f"FILE#{uploaded.file_id}"}},
            ConsistentRead=True,
        ).get("Item", {})
        if "execution_arn" not in item:
            return None
        described = aws.stepfunctions.describe_execution(executionArn=item["execution_arn"]["S"])
        return dict(described) if described["status"] != "RUNNING" else None

    return wait_for(probe, timeout=JOB_TIMEOUT, interval=1, what=f"the execution of {uploaded.key}")


LANE_STATES = {
    "ChooseLane",
    "UrgentLane",
    "StandardLane",
    "DefaultPriority",
    "AcquireStandardSlot",
    "WaitForStandardSlot",
    "CheckStandardSlot",
    "HoldsStandardSlot",
}


def entered_states(aws: AwsClients, execution_arn: str) -> list[str]:
    paginator = aws.stepfunctions.get_paginator("get_execution_history")
    return [
        event["stateEnteredEventDetails"]["name"]
        for page in paginator.paginate(executionArn=execution_arn)
        for event in page["events"]
        if "stateEnteredEventDetails" in event
    ]


def pipeline_states(aws: AwsClients, execution_arn: str) -> list[str]:
    """The states entered but the priority lane's (test_priority_lanes.py): its entry and its releases."""
    return [
        state
        for state in entered_states(aws, execution_arn)
        if state not in LANE_STATES and not state.startswith(("HeldSlot", "ReleaseSlot"))
    ]


def stages_in_order(*stages: str) -> list[tuple[str, str]]:
    return [(stage, state) for stage in stages for state in ("started", "succeeded")]


def starter_log_lines(stack: StackOutputs, aws: AwsClients, since_ms: int) -> list[str]:
    """The starter's log messages since `since_ms` (LocalStack ignores filterPattern: read them all)."""
    group = log_group(stack[names.STARTER_FUNCTION_NAME])
    return [line.message for line in read_logs(aws.logs, group, start_ms=since_ms)]


EXPECTED_TASKS = {
    "jpeg": ("image_renditions", "image/jpeg"),
    "docx": ("document_text", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "png": ("image_renditions", "image/png"),
    "webp": ("image_renditions", "image/webp"),
    "gif": ("image_renditions", "image/gif"),
    "pdf": ("document_text", "application/pdf"),
    "txt": ("text_statistics", "text/plain"),
    "csv": ("text_statistics", "text/csv"),
    "zip": ("archive_listing", "application/zip"),
    "tar": ("archive_listing", "application/x-tar"),
}
CONTENT_STAGE = {"image_renditions": "image", "document_text": "document", "text_statistics": "document"}
STATE_OF_STAGE = {"image": "Image", "document": "Document", "archive": "Archive", "video": "Video"}
HANDLED_PHRASES = ("duplicate event", "object stored", "out-of-order event ignored")
RENDITIONS = {f"thumb-{size}.{extension}" for size in (1024, 512, 128) for extension in ("webp", "jpg")}


def test_each_file_type_is_processed_by_its_content(stack: StackOutputs, aws: AwsClients) -> None:
    # Given one upload of each type, all at once
    files = {
        "jpeg": samples.jpeg(1200, 900, orientation=6),
        "png": samples.png(400, 300, mode="RGB"),
        "webp": samples.webp(500, 500, frames=2),
        "gif": samples.gif(300, 200, frames=3),
        "pdf": samples.pdf(2),
        "docx": samples.docx_file(),
        "txt": samples.TEXT.encode(),
        "csv": samples.CSV.encode(),
        "zip": samples.zip_file(),
        "tar": samples.tar_file(),
    }
    uploaded = {name: put(stack, aws, data) for name, data in files.items()}
    for name, upload in uploaded.items():
        # When its workflow has ended
        execution = finished_execution(stack, aws, upload)
        job = finished_job(stack, aws, upload)
        task, detected_type = EXPECTED_TASKS[name]
        # Then it is the task of the real type, it succeeded, and the file item says so
        assert (job["task"]["S"], job["status"]["S"]) == (task, "succeeded"), (name, job)
        item = file_item(stack, aws, upload)
        assert (item["status"]["S"], item["detected_type"]["S"]) == ("processed", detected_type), name
        assert item["processing_job_id"]["S"] == job["job_id"]["S"]
        # And the execution, named after the job, succeeded through the stages of its kind, in order, and
        # the file's events list the same stages in the same order
        stage = CONTENT_STAGE.get(task, "archive")
        assert execution["status"] == "SUCCEEDED", (name, execution)
        assert execution["name"] == job["job_id"]["S"]
        assert [
            state
            for state in pipeline_states(aws, execution["executionArn"])
            if state not in ("RouteByKind", "NeedsReview")  # the Choices
        ] == [
            "Detect",
            STATE_OF_STAGE[stage],
            "Analysis",
            "AI",
            "Finalize",
            "Notify",
            "Done",
        ], name
        assert stage_events(stack, aws, upload.file_id) == stages_in_order(
            "detect", stage, "analysis", "ai", "finalize", "notify"
        ), name
        assert (item["stage"]["S"], item["stage_state"]["S"]) == ("notify", "succeeded"), name
        # And the expected derivatives exist under derived/{user}/{file}/
        derivatives = set(derivative_versions(stack, aws, upload))
        if task == "image_renditions":
            assert derivatives == RENDITIONS, name
        elif task == "document_text":
            assert derivatives == {"text.txt"}
        elif task == "archive_listing":
            assert derivatives == {"listing.json"}
        else:
            assert derivatives == set(), name
    # And the results say what was found
    jpeg = file_item(stack, aws, uploaded["jpeg"])["analysis"]["M"]
    assert (jpeg["width"]["N"], jpeg["height"]["N"], jpeg["orientation"]["N"]) == ("900", "1200", "6")
    rendition = aws.s3.get_object(
        Bucket=stack[names.BUCKET_NAME], Key=f"derived/{USER}/{uploaded['jpeg'].file_id}/thumb-512.jpg"
    )
    image = Image.open(io.BytesIO(rendition["Body"].read()))
    assert image.size == (384, 512)
    assert not image.getexif()
    assert file_item(stack, aws, uploaded["pdf"])["analysis"]["M"]["pages"]["N"] == "2"
    summary = file_item(stack, aws, uploaded["pdf"])["analysis"]["M"]["summary"]["M"]
    assert (summary["kind"]["S"], summary["highlights"]["M"]["pages"]["N"]) == ("document", "2")
    assert file_item(stack, aws, uploaded["csv"])["analysis"]["M"]["csv"]["M"]["rows"]["N"] == "3"
    assert file_item(stack, aws, uploaded["tar"])["analysis"]["M"]["files"]["N"] == "2"
    assert file_item(stack, aws, uploaded["gif"])["analysis"]["M"]["frames"]["N"] == "3"


def test_the_same_s3_event_delivered_twice_yields_one_job_and_one_set_of_derivatives(
    stack: StackOutputs, aws: AwsClients
) -> None:
    # Given a processed JPEG
    upload = put(stack, aws, samples.jpeg(800, 600))
    first = finished_job(stack, aws, upload)
    execution = finished_execution(stack, aws, upload)
    since = int(time.time() * 1000) - 5000
    # When its S3 event is delivered twice more
    for _ in range(2):
        sent = aws.sqs.send_message(QueueUrl=stack[names.QUEUE_URL], MessageBody=notification(stack, upload))

        def handled(message_id: str = sent["MessageId"]) -> bool:
            # The recorder's last line for a message (which one depends on the event's sequencer)
            return any(
                message_id in line and any(phrase in line for phrase in HANDLED_PHRASES)
                for line in starter_log_lines(stack, aws, since)
            )

        wait_for(handled, timeout=JOB_TIMEOUT, interval=1, what="the starter to handle the duplicate")
    # Then there is still one execution of this version (its name is the job id), one job, run once, and
    # each derivative was written once (one S3 version each)
    executions = aws.stepfunctions.list_executions(stateMachineArn=stack[names.STATE_MACHINE_ARN])[
        "executions"
    ]
    assert [e["executionArn"] for e in executions if e["name"] == first["job_id"]["S"]] == [
        execution["executionArn"]
    ]
    [job] = jobs(stack, aws, upload.file_id)
    assert job["job_id"] == first["job_id"]
    assert (job["status"]["S"], job["attempts"]["N"]) == ("succeeded", "1")
    versions = derivative_versions(stack, aws, upload)
    assert set(versions) == RENDITIONS
    assert set(versions.values()) == {1}


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (samples.corrupt_image, "CorruptFile"),
        (samples.decompression_bomb, "DecompressionBomb"),
        (samples.zip_bomb, "ZipBomb"),
        (samples.zip_slip, "UnsafeArchivePath"),
        (samples.truncated_mp4, "CorruptFile"),
        (samples.encrypted_pdf, None),
    ],
    ids=["corrupt-image", "decompression-bomb", "zip-bomb", "zip-slip", "truncated-mp4", "encrypted-pdf"],
)
def test_hostile_files_fail_their_job_with_a_reason_and_the_next_file_is_processed(
    stack: StackOutputs, aws: AwsClients, make: Any, code: str | None
) -> None:
    # Given a hostile file, and a good one uploaded right after it
    hostile = put(stack, aws, make())
    following = put(stack, aws, samples.png(200, 200, mode="RGB"))
    # When both are processed
    job = finished_job(stack, aws, hostile)
    if code is None:  # an encrypted PDF is processed, and flagged for review
        assert job["status"]["S"] == "needs_review", job
        assert finished_job(stack, aws, following)["status"]["S"] == "succeeded"
        return
    # Then the hostile file's job failed with its reason (not retried), with no derivative
    assert job["status"]["S"] == "failed"
    error = job["error"]["M"]
    assert (error["code"]["S"], error["retryable"]["BOOL"]) == (code, False)
    assert error["message"]["S"]
    assert job["attempts"]["N"] == "1"
    item = file_item(stack, aws, hostile)
    assert item["status"]["S"] == "failed"
    assert item["processing_error"]["M"]["code"]["S"] == code
    assert derivative_versions(stack, aws, hostile) == {}
    # And the workflow took its failure path and ended as handled (a bad file is no operator alarm)
    execution = finished_execution(stack, aws, hostile)
    assert execution["status"] == "SUCCEEDED"
    assert pipeline_states(aws, execution["executionArn"])[-4:] == [
        "RecordFailure",
        "NotifyFailure",
        "FailureIsFatal",
        "FileRejected",
    ]
    assert ("failed", "succeeded") in stage_events(stack, aws, hostile.file_id)
    # And the pipeline went on serving: the next file succeeded
    assert finished_job(stack, aws, following)["status"]["S"] == "succeeded"


def test_a_poison_message_lands_in_the_dlq_after_three_receives_while_its_batch_mates_succeed(
    stack: StackOutputs, aws: AwsClients, poison_batch: PoisonBatch
) -> None:
    # Given the poison body sent (first) in one batch with two good notifications
    # Then its batch mates were processed
    for mate in poison_batch.mates:
        assert finished_job(stack, aws, mate)["status"]["S"] == "succeeded"

    # And the poison message reached the DLQ once SQS had delivered it three times
    def dead_lettered() -> dict[str, Any] | None:
        received = aws.sqs.receive_message(
            QueueUrl=stack[names.DLQ_URL], MaxNumberOfMessages=10, WaitTimeSeconds=1, AttributeNames=["All"]
        ).get("Messages", [])
        found = next((m for m in received if m["MessageId"] == poison_batch.poison_id), None)
        return dict(found) if found else None

    message = wait_for(dead_lettered, timeout=150, interval=1, what="the poison message in the DLQ")
    # (this receive from the DLQ counts too: three on the processing queue, then ours)
    assert int(message["Attributes"]["ApproximateReceiveCount"]) >= 3 + 1
    aws.sqs.delete_message(QueueUrl=stack[names.DLQ_URL], ReceiptHandle=message["ReceiptHandle"])


def test_redrive_moves_dead_letters_back_and_they_are_processed(stack: StackOutputs, aws: AwsClients) -> None:
    # Given a processed upload whose notification also sits in the DLQ (dead-lettered before a fix)
    upload = put(stack, aws, samples.MARKDOWN.encode())
    finished_job(stack, aws, upload)
    since = int(time.time() * 1000) - 5000
    aws.sqs.send_message(QueueUrl=stack[names.DLQ_URL], MessageBody=notification(stack, upload))
    # When `make redrive` runs (SQS StartMessageMoveTask on the local cloud)
    assert redrive.main([]) == 0

    # Then the message is back on the processing queue and the starter handles it
    def handled() -> bool:
        return any(
            upload.key in line and any(phrase in line for phrase in HANDLED_PHRASES)
            for line in starter_log_lines(stack, aws, since)
        )

    wait_for(handled, timeout=JOB_TIMEOUT, interval=1, what="the redriven message to be processed")
    # And, the file being processed already, nothing was repeated: still one job, run once
    [job] = jobs(stack, aws, upload.file_id)
    assert (job["status"]["S"], job["attempts"]["N"]) == ("succeeded", "1")


def test_an_mp4_is_transcoded_to_an_hls_ladder_with_a_poster(stack: StackOutputs, aws: AwsClients) -> None:
    # Given a 720p MP4 with sound, made by the test with the ffmpeg the video stage bundles
    upload = put(stack, aws, samples.mp4(3.0, 1280, 720))
    # When its workflow has ended
    execution = finished_execution(stack, aws, upload)
    # Then it passed the video stage and succeeded
    assert execution["status"] == "SUCCEEDED", execution
    assert "Video" in entered_states(aws, execution["executionArn"])
    assert stage_events(stack, aws, upload.file_id) == stages_in_order(
        "detect", "video", "analysis", "ai", "finalize", "notify"
    )
    item = file_item(stack, aws, upload)
    assert (item["status"]["S"], item["detected_type"]["S"], item["detected_kind"]["S"]) == (
        "processed",
        "video/mp4",
        "video",
    )
    # And its derivatives are a master playlist, two renditions with their segments, a poster and a thumbnail
    names_ = set(derivative_versions(stack, aws, upload))
    assert {"hls-master.m3u8", "hls-720p.m3u8", "hls-360p.m3u8", "poster.jpg", "thumb-video.jpg"} <= names_
    assert any(name.startswith("hls-720p-") and name.endswith(".ts") for name in names_)
    assert any(name.startswith("hls-360p-") and name.endswith(".ts") for name in names_)
    master = (
        aws.s3.get_object(
            Bucket=stack[names.BUCKET_NAME], Key=f"derived/{USER}/{upload.file_id}/hls-master.m3u8"
        )["Body"]
        .read()
        .decode()
    )
    assert "RESOLUTION=1280x720" in master
    assert "RESOLUTION=640x360" in master
    poster = aws.s3.get_object(
        Bucket=stack[names.BUCKET_NAME], Key=f"derived/{USER}/{upload.file_id}/poster.jpg"
    )
    assert Image.open(io.BytesIO(poster["Body"].read())).size == (1280, 720)
    # And the analysis records the video's facts
    analysis = item["analysis"]["M"]
    assert (analysis["width"]["N"], analysis["height"]["N"]) == ("1280", "720")
    assert (analysis["video_codec"]["S"], analysis["audio_codec"]["S"]) == ("h264", "aac")
    assert abs(float(analysis["duration_s"]["N"]) - 3.0) < 0.3
    assert float(analysis["frame_rate"]["N"]) == 25.0
