"""Uploads of tests/e2e/test_processing.py's user, and the poison batch the session sends first.

The poison message's three receives and backoffs (10 + 20 + 40 s) are the longest wait of the suite:
the `poison_batch` fixture (tests/e2e/conftest.py) sends it when the session starts, whenever its test
is selected, and its test checks it last.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from infra import outputs as names
from tests import samples
from tests.e2e import uploading
from tests.e2e.test_isolation import Client
from tests.events import s3_notification
from tools.stack import StackOutputs
from tools.token import TokenFactory

if TYPE_CHECKING:
    from tests.e2e.conftest import AwsClients

USER = "e2e-processing"


@dataclass(frozen=True)
class Uploaded:
    file_id: str
    key: str
    etag: str
    version_id: str | None
    size: int


def put(stack: StackOutputs, aws: AwsClients, data: bytes) -> Uploaded:
    """Uploads `data` as USER through the API; the stored version's ETag and id for a crafted duplicate."""
    client = Client(stack.api_url, TokenFactory.for_stack(stack).valid(USER))
    uploaded = uploading.upload(client, data)
    head = aws.s3.head_object(Bucket=stack[names.BUCKET_NAME], Key=uploaded.key)
    return Uploaded(
        uploaded.file_id, uploaded.key, head["ETag"].strip('"'), head.get("VersionId"), uploaded.size
    )


def notification(stack: StackOutputs, uploaded: Uploaded) -> str:
    """The S3 event S3 sent for `uploaded`, crafted again (a duplicate delivery)."""
    notification = s3_notification(
        bucket=stack[names.BUCKET_NAME],
        key=uploaded.key,
        size=uploaded.size,
        eTag=uploaded.etag,
        versionId=uploaded.version_id,
        sequencer="0055AED6DCD90281E5",
    )
    return json.dumps(notification)


@dataclass(frozen=True)
class PoisonBatch:
    poison_id: str
    mates: list[Uploaded]


def send_poison_batch(stack: StackOutputs, aws: AwsClients) -> PoisonBatch:
    """A poison body sent in one SendMessageBatch with two good notifications."""
    mates = [put(stack, aws, samples.TEXT.encode()), put(stack, aws, samples.gif(120, 90))]
    entries: list[Any] = [{"Id": "poison", "MessageBody": "this is not an S3 event notification"}] + [
        {"Id": f"mate{index}", "MessageBody": notification(stack, mate)} for index, mate in enumerate(mates)
    ]
    response = aws.sqs.send_message_batch(QueueUrl=stack[names.QUEUE_URL], Entries=entries)
    [poison_id] = [entry["MessageId"] for entry in response["Successful"] if entry["Id"] == "poison"]
    return PoisonBatch(poison_id, mates)
