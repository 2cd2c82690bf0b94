"""tools/redrive.py against moto: DLQ messages go back to the processing queue, bodies intact.

moto has no StartMessageMoveTask: that path runs against the local cloud (tests/e2e/test_processing.py).
"""

from __future__ import annotations

import json

import pytest

from tests.integration.conftest import Cloud
from tools import redrive


@pytest.fixture
def dlq_url(cloud: Cloud) -> str:
    url: str = cloud.sqs.create_queue(QueueName="fileflow-processing-dlq")["QueueUrl"]
    for index in range(13):
        cloud.sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"n": index}))
    return url


def _drain(cloud: Cloud, url: str) -> list[int]:
    bodies: list[int] = []
    while messages := cloud.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        bodies.extend(json.loads(message["Body"])["n"] for message in messages)
        for message in messages:
            cloud.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return sorted(bodies)


def test_the_copy_loop_moves_every_message_and_empties_the_dlq(cloud: Cloud, dlq_url: str) -> None:
    # Given 13 dead letters (more than one receive batch)
    # When moved with the receive/send/delete fallback
    moved = redrive.copy_loop(cloud.sqs, dlq_url, cloud.queue_url)
    # Then all 13 are on the processing queue, unchanged, and the DLQ is empty
    assert moved == 13
    assert redrive.depth(cloud.sqs, dlq_url) == 0
    assert _drain(cloud, cloud.queue_url) == list(range(13))
