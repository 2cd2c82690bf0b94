"""The lane's slot reclaimer in-process, against moto: slots of executions that ended are given back."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from fileflow_intake import slots_handler
from tests.integration.conftest import Cloud, FakeLambdaContext

LANE_KEY = {"pk": "LANE#standard", "sk": "SLOTS"}


@pytest.fixture
def reclaimer_env(cloud: Cloud, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("STATE_MACHINE_ARN", cloud.state_machine_arn)
    slots_handler.reclaimer.cache_clear()
    yield
    slots_handler.reclaimer.cache_clear()


def start(cloud: Cloud, name: str) -> str:
    return cloud.sfn.start_execution(stateMachineArn=cloud.state_machine_arn, name=name, input="{}")[
        "executionArn"
    ]


def hold(cloud: Cloud, *names: str) -> None:
    """Each execution took a slot, as AcquireStandardSlot does."""
    for name in names:
        cloud.table.update_item(
            Key=LANE_KEY,
            UpdateExpression="ADD held :one SET #holder = :at",
            ExpressionAttributeNames={"#holder": name},
            ExpressionAttributeValues={":one": 1, ":at": "2026-12-02T01:00:00.000Z"},
        )


def lane(cloud: Cloud) -> dict[str, Any]:
    return cloud.table.get_item(Key=LANE_KEY, ConsistentRead=True)["Item"]


def test_slots_of_ended_executions_are_reclaimed_and_running_ones_kept(
    cloud: Cloud, reclaimer_env: None
) -> None:
    # Given three holders: one execution running, one stopped while it held its slot, one unknown
    start(cloud, "job-running")
    stopped = start(cloud, "job-stopped")
    cloud.sfn.stop_execution(executionArn=stopped)
    hold(cloud, "job-running", "job-stopped", "job-never-started")
    # When the reclaimer runs
    report = slots_handler.lambda_handler({}, FakeLambdaContext())
    # Then the stopped and the unknown execution's slots are back, the running one's kept
    assert report == {"holders": 3, "reclaimed": 2, "already_released": 0}
    item = lane(cloud)
    assert item["held"] == 1
    assert set(item) == {"pk", "sk", "held", "job-running"}
    # And a second run finds nothing more to do
    assert slots_handler.lambda_handler({}, FakeLambdaContext())["reclaimed"] == 0


def test_a_slot_released_meanwhile_is_not_released_twice(cloud: Cloud, reclaimer_env: None) -> None:
    # Given a holder whose execution ended and which releases it itself while the reclaimer looks
    stopped = start(cloud, "job-racing")
    cloud.sfn.stop_execution(executionArn=stopped)
    hold(cloud, "job-racing", "job-other")
    start(cloud, "job-other")
    slots = slots_handler.reclaimer()._slots
    assert isinstance(slots, slots_handler.DynamoLaneSlots)
    assert slots.release("job-racing")
    # When the reclaimer gives it back again / Then the condition refuses: the count stays right
    assert not slots.release("job-racing")
    assert lane(cloud)["held"] == 1


def test_no_lane_item_yet_is_nothing_to_reclaim(cloud: Cloud, reclaimer_env: None) -> None:
    assert slots_handler.lambda_handler({}, FakeLambdaContext()) == {
        "holders": 0,
        "reclaimed": 0,
        "already_released": 0,
    }
