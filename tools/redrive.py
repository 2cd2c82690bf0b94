"""Move the processing DLQ's messages back to the processing queue, after the fix is deployed.

python -m tools.redrive            # the stack named by FILEFLOW_STACK_NAME (default Fileflow)
make redrive

Uses SQS's own redrive (StartMessageMoveTask) and waits for it; where that API is missing, falls back
to receive -> send -> delete in batches (a message is deleted from the DLQ only once it was sent).
Redriven messages are processed again: jobs that failed for lack of retries start again, jobs that
finished stay as they are (idempotency), so a redrive never repeats a side effect.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import ClientError

from infra import outputs as names
from tools.stack import client_kwargs, load_outputs, stack_name

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

_UNSUPPORTED = {"UnsupportedOperation", "InvalidAction", "AWS.SimpleQueueService.UnsupportedOperation"}
_DONE = {"COMPLETED", "FAILED", "CANCELLED"}


def _arn(sqs: SQSClient, queue_url: str) -> str:
    return sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def depth(sqs: SQSClient, queue_url: str) -> int:
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def move_task(sqs: SQSClient, dlq_arn: str, queue_arn: str, *, timeout: float) -> int:
    """SQS's redrive; returns the number of messages moved. Raises ClientError if unsupported."""
    sqs.start_message_move_task(SourceArn=dlq_arn, DestinationArn=queue_arn)
    deadline = time.monotonic() + timeout
    while True:
        [task, *_] = sqs.list_message_move_tasks(SourceArn=dlq_arn, MaxResults=1)["Results"]
        if task["Status"] in _DONE:
            if task["Status"] != "COMPLETED":
                raise RuntimeError(f"message move task {task['Status']}: {task.get('FailureReason', '')}")
            return int(task.get("ApproximateNumberOfMessagesMoved", 0))
        if time.monotonic() > deadline:
            raise TimeoutError(f"message move task still {task['Status']} after {timeout:.0f} s")
        time.sleep(1)


def copy_loop(sqs: SQSClient, dlq_url: str, queue_url: str) -> int:
    """Receive from the DLQ, send to the queue, then delete from the DLQ; until the DLQ is empty."""
    moved = 0
    while True:
        messages = sqs.receive_message(
            QueueUrl=dlq_url, MaxNumberOfMessages=10, WaitTimeSeconds=1, MessageAttributeNames=["All"]
        ).get("Messages", [])
        if not messages:
            return moved
        entries: list[Any] = [
            {
                "Id": str(index),
                "MessageBody": message["Body"],
                **(
                    {"MessageAttributes": message["MessageAttributes"]}
                    if message.get("MessageAttributes")
                    else {}
                ),
            }
            for index, message in enumerate(messages)
        ]
        sent = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
        done = {entry["Id"] for entry in sent.get("Successful", [])}
        for failure in sent.get("Failed", []):
            print(
                f"  not moved (kept in the DLQ): {failure.get('Message', failure['Code'])}", file=sys.stderr
            )
        to_delete = [
            {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
            for index, message in enumerate(messages)
            if str(index) in done
        ]
        if to_delete:
            sqs.delete_message_batch(QueueUrl=dlq_url, Entries=to_delete)  # type: ignore[arg-type]
        moved += len(to_delete)
        if not to_delete:
            return moved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stack", default=None, help="stack name (default: FILEFLOW_STACK_NAME or Fileflow)")
    parser.add_argument("--timeout", type=float, default=300, help="seconds to wait for the move task")
    args = parser.parse_args(argv)
    outputs = load_outputs(args.stack)
    sqs: SQSClient = boto3.client("sqs", **client_kwargs())
    dlq_url, queue_url = outputs[names.DLQ_URL], outputs[names.QUEUE_URL]
    waiting = depth(sqs, dlq_url)
    print(f"{args.stack or stack_name()}: {waiting} message(s) in the DLQ")
    if waiting == 0:
        return 0
    try:
        moved = move_task(sqs, _arn(sqs, dlq_url), _arn(sqs, queue_url), timeout=args.timeout)
        how = "StartMessageMoveTask"
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in _UNSUPPORTED:
            raise
        moved = copy_loop(sqs, dlq_url, queue_url)
        how = "receive/send/delete"
    left = depth(sqs, dlq_url)
    print(f"moved {moved} message(s) back to the processing queue ({how}); {left} left in the DLQ")
    return 0


if __name__ == "__main__":
    sys.exit(main())
