"""Priority lanes on the deployed stack: with the standard lane full an urgent file still goes through,
slots come back after a batch, and a stopped execution's slot is reclaimed (docs/processing.md)."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from infra import outputs as names
from tests import samples
from tests.e2e.conftest import AwsClients
from tests.e2e.polling import wait_for
from tests.e2e.test_isolation import Client
from tests.e2e.uploading import Uploaded, upload
from tools.stack import StackOutputs
from tools.token import TokenFactory

pytestmark = pytest.mark.e2e

LANE_KEY = {"pk": {"S": "LANE#standard"}, "sk": {"S": "SLOTS"}}
NOT_HOLDERS = {"pk", "sk", "held"}
REFUSED = "DynamoDB.ConditionalCheckFailedException"


@pytest.fixture(scope="module")
def user() -> str:
    return f"e2e-lanes-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="module")
def client(stack: StackOutputs, user: str) -> Client:
    return Client(stack.api_url, TokenFactory.for_stack(stack).valid(user))


@pytest.fixture(scope="module")
def slots(stack: StackOutputs, aws: AwsClients) -> int:
    """The deployed lane's limit, as the definition's AcquireStandardSlot has it."""
    definition = aws.stepfunctions.describe_state_machine(stateMachineArn=stack[names.STATE_MACHINE_ARN])
    acquire = json.loads(definition["definition"])["States"]["AcquireStandardSlot"]
    return int(acquire["Parameters"]["ExpressionAttributeValues"][":limit"]["N"])


def lane(stack: StackOutputs, aws: AwsClients) -> dict[str, Any]:
    response = aws.dynamodb.get_item(TableName=stack[names.TABLE_NAME], Key=LANE_KEY, ConsistentRead=True)
    return dict(response.get("Item", {}))


def held(item: dict[str, Any]) -> int:
    return int(item.get("held", {}).get("N", "0"))


def holders(item: dict[str, Any]) -> set[str]:
    return set(item) - NOT_HOLDERS


@pytest.fixture
def full_lane(stack: StackOutputs, aws: AwsClients, slots: int) -> Iterator[None]:
    """Other files hold every slot of the standard lane (added to whatever real holders hold)."""

    def add(count: int) -> None:
        aws.dynamodb.update_item(
            TableName=stack[names.TABLE_NAME],
            Key=LANE_KEY,
            UpdateExpression="ADD held :count",
            ExpressionAttributeValues={":count": {"N": str(count)}},
        )

    add(slots)
    try:
        yield
    finally:
        add(-slots)


def execution_arn(stack: StackOutputs, aws: AwsClients, user: str, uploaded: Uploaded) -> str:
    """The file's execution, named after the job the starter queued (before any stage ran)."""

    def job() -> str | None:
        item = aws.dynamodb.get_item(
            TableName=stack[names.TABLE_NAME],
            Key={"pk": {"S": f"USER#{user}"}, "sk": {"S": f"FILE#{uploaded.file_id}"}},
            ConsistentRead=True,
        ).get("Item", {})
        return item.get("processing_job_id", {}).get("S")

    name = wait_for(job, timeout=90, what="the starter to queue the file's job")
    return f"{stack[names.STATE_MACHINE_ARN].replace(':stateMachine:', ':execution:')}:{name}"


def ended(aws: AwsClients, arn: str, timeout: float = 180) -> dict[str, Any]:
    def described() -> dict[str, Any] | None:
        try:
            execution = dict(aws.stepfunctions.describe_execution(executionArn=arn))
        except aws.stepfunctions.exceptions.ExecutionDoesNotExist:
            return None
        return None if execution["status"] == "RUNNING" else execution

    return wait_for(described, timeout=timeout, interval=0.25, what=f"execution {arn} to end")


def history(aws: AwsClients, arn: str) -> list[dict[str, Any]]:
    paginator = aws.stepfunctions.get_paginator("get_execution_history")
    return [dict(event) for page in paginator.paginate(executionArn=arn) for event in page["events"]]


def entered(events: list[dict[str, Any]]) -> list[str]:
    return [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]


def test_with_the_standard_lane_full_an_urgent_file_finishes_first(
    stack: StackOutputs, aws: AwsClients, client: Client, user: str, full_lane: None
) -> None:
    # Given the standard lane full, a priority-1 file uploaded, then a priority-9 one
    standard = upload(client, samples.png(), priority=1)
    urgent = upload(client, samples.png(), priority=9)
    standard_arn = execution_arn(stack, aws, user, standard)
    urgent_arn = execution_arn(stack, aws, user, urgent)
    # When the urgent file's execution ends
    finished = ended(aws, urgent_arn)
    # Then it succeeded without waiting for a slot, while the standard file is still waiting its turn
    assert finished["status"] == "SUCCEEDED"
    urgent_states = entered(history(aws, urgent_arn))
    assert urgent_states[:3] == ["ChooseLane", "UrgentLane", "Detect"]
    assert aws.stepfunctions.describe_execution(executionArn=standard_arn)["status"] == "RUNNING"
    waiting = history(aws, standard_arn)
    assert "WaitForStandardSlot" in entered(waiting)
    assert "Detect" not in entered(waiting)
    # And the local cloud names the refused take as AWS does (the Catch that sends it to wait)
    errors = {e["taskFailedEventDetails"]["error"] for e in waiting if "taskFailedEventDetails" in e}
    assert errors == {REFUSED}


def test_the_standard_file_gets_its_slot_once_one_frees_and_every_slot_comes_back_after_a_batch(
    stack: StackOutputs, aws: AwsClients, client: Client, user: str, slots: int
) -> None:
    # Given a batch of twice as many standard-lane files as there are slots, uploaded at once
    with ThreadPoolExecutor(max_workers=6) as pool:
        batch = list(pool.map(lambda _: upload(client, samples.png(), priority=2), range(2 * slots)))
    arns = [execution_arn(stack, aws, user, uploaded) for uploaded in batch]
    names_of_batch = {arn.rsplit(":", 1)[1] for arn in arns}
    # When they run, the lane never admits more than its slots
    most = 0

    def all_ended() -> bool:
        nonlocal most
        most = max(most, len(holders(lane(stack, aws))))
        statuses = [aws.stepfunctions.describe_execution(executionArn=arn)["status"] for arn in arns]
        return all(status != "RUNNING" for status in statuses)

    wait_for(all_ended, timeout=300, interval=0.2, what="the batch's executions to end")
    assert 1 <= most <= slots
    # Then each succeeded, after taking its slot and giving it back
    for arn in arns:
        assert aws.stepfunctions.describe_execution(executionArn=arn)["status"] == "SUCCEEDED"
        states = entered(history(aws, arn))
        assert "AcquireStandardSlot" in states
        assert states[-2:] == ["ReleaseSlotDone", "Done"]
    # And none of the batch holds a slot, the count matches the holders, and it returns to 0
    item = lane(stack, aws)
    assert not holders(item) & names_of_batch
    wait_for(lambda: held(lane(stack, aws)) == 0, timeout=600, what="the lane's count to return to 0")


def test_a_stopped_executions_slot_is_reclaimed(
    stack: StackOutputs, aws: AwsClients, client: Client, user: str
) -> None:
    # Given a standard-lane file's execution stopped while it holds its slot (it never reaches a release)
    name = None
    for _ in range(5):
        uploaded = upload(client, samples.png(1600, 1200, mode="RGB"), priority=4)
        arn = execution_arn(stack, aws, user, uploaded)
        candidate = arn.rsplit(":", 1)[1]

        def holding_or_ended(arn: str = arn, candidate: str = candidate) -> str | None:
            if candidate in holders(lane(stack, aws)):
                return "holding"
            status = aws.stepfunctions.describe_execution(executionArn=arn)["status"]
            return None if status == "RUNNING" else "ended"

        if wait_for(holding_or_ended, timeout=120, interval=0.05, what="the slot taken") == "holding":
            aws.stepfunctions.stop_execution(executionArn=arn, error="Stopped", cause="e2e: a stopped holder")
            if ended(aws, arn)["status"] == "ABORTED" and candidate in holders(lane(stack, aws)):
                name = candidate
                break
    assert name is not None, "no execution could be stopped while it held its slot"
    # When the reclaimer runs (invoked directly rather than waiting for its minute)
    invoked = aws.lambda_.invoke(FunctionName=stack[names.LANE_RECLAIMER_FUNCTION_NAME], Payload=b"{}")
    report = json.loads(invoked["Payload"].read())
    assert "FunctionError" not in invoked, report
    # Then the stopped execution's slot is back
    assert name not in holders(lane(stack, aws))
    assert re.fullmatch(r"job-[0-9a-f]{40}", name)
