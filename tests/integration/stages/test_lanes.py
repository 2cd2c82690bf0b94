"""Priority lanes in-process (workflow.py, on moto): urgent files skip the semaphore, standard ones hold a
slot while they run and give it back on every end; a full lane makes them wait their priority's time."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from fileflow_stages._runtime.stage import TransientStageError
from infra.constructs.pipeline import lanes
from tests import samples
from tests.integration import workflow
from tests.integration.conftest import Cloud
from tests.integration.processing import USER, Uploaded, delete_file, upload
from tests.integration.stages.conftest import process

LANE_KEY = {"pk": "LANE#standard", "sk": "SLOTS"}


def lane_item(cloud: Cloud) -> dict[str, Any]:
    return cloud.table.get_item(Key=LANE_KEY, ConsistentRead=True).get("Item") or {}


def holders(cloud: Cloud) -> set[str]:
    return set(lane_item(cloud)) - {"pk", "sk", "held"}


def with_priority(cloud: Cloud, uploaded: Uploaded, priority: int) -> Uploaded:
    """The priority the upload API stores on the file item (POST /v1/uploads `priority`)."""
    cloud.table.update_item(
        Key={"pk": f"USER#{USER}", "sk": f"FILE#{uploaded.file_id}"},
        UpdateExpression="SET priority = :priority",
        ExpressionAttributeValues={":priority": priority},
    )
    return uploaded


def fill_lane(cloud: Cloud, slots: int) -> None:
    """Other files hold `slots` of the lane's slots."""
    cloud.table.update_item(
        Key=LANE_KEY, UpdateExpression="ADD held :slots", ExpressionAttributeValues={":slots": slots}
    )


def test_an_urgent_file_skips_the_semaphore(cloud: Cloud) -> None:
    # Given a priority-9 upload, and the standard lane full
    uploaded = with_priority(cloud, upload(cloud, samples.png()), 9)
    fill_lane(cloud, workflow.LANE_SLOTS)
    # When its workflow runs
    execution = process(uploaded)
    # Then it went straight to its stages, in the urgent lane, and took no slot
    assert execution.status == "SUCCEEDED"
    assert execution.visited[:3] == ["ChooseLane", "UrgentLane", "Detect"]
    assert "AcquireStandardSlot" not in execution.visited
    assert "ReleaseSlotDone" not in execution.visited
    assert execution.state["lane"] == {"name": "urgent"}
    assert lane_item(cloud)["held"] == workflow.LANE_SLOTS


def test_a_standard_file_holds_a_slot_while_it_runs_and_gives_it_back(cloud: Cloud) -> None:
    # Given a priority-5 upload
    uploaded = with_priority(cloud, upload(cloud, samples.png()), 5)
    seen: dict[str, dict[str, Any]] = {}

    def look(state_id: str, state: dict[str, Any]) -> None:
        seen[state_id] = lane_item(cloud)

    # When its workflow runs
    execution = process(uploaded, before=look)
    # Then while its stages ran it held one slot, under its execution's name, taken at an ISO time
    during = seen["Detect"]
    assert during["held"] == 1
    name = execution.execution_arn.rsplit(":", 1)[1]
    assert holders(cloud) == set()
    assert str(during[name]).endswith("Z")
    # And it ended giving it back: none held, no holder left
    assert execution.visited[-3:] == ["HeldSlotDone", "ReleaseSlotDone", "Done"]
    assert lane_item(cloud)["held"] == 0
    assert execution.state["lane"] == {"name": "standard", "wait_seconds": lanes.slot_wait_seconds(5)}


def test_with_the_lane_full_a_file_waits_its_prioritys_time_until_a_slot_frees(cloud: Cloud) -> None:
    # Given the lane full, and a priority-1 upload
    fill_lane(cloud, workflow.LANE_SLOTS)
    uploaded = with_priority(cloud, upload(cloud, samples.png()), 1)
    waits: list[int] = []

    def another_file_ends(seconds: int) -> None:
        waits.append(seconds)
        if len(waits) == 2:
            fill_lane(cloud, -1)

    # When its workflow runs, and after its second wait another file gives a slot back
    execution = process(uploaded, on_wait=another_file_ends)
    # Then it waited twice, 5 s each (a priority-5 file asks every 3 s), then got in and processed
    assert waits == [5, 5]
    assert lanes.slot_wait_seconds(5) == 3
    assert execution.visited[:7] == [
        "ChooseLane",
        "StandardLane",
        "AcquireStandardSlot",
        "WaitForStandardSlot",
        "AcquireStandardSlot",
        "WaitForStandardSlot",
        "AcquireStandardSlot",
    ]
    assert execution.status == "SUCCEEDED"
    # And the lane is back to the other files' slots
    assert lane_item(cloud)["held"] == workflow.LANE_SLOTS - 1


def test_no_priority_on_the_file_is_the_default_priority(cloud: Cloud) -> None:
    # Given an upload whose file item carries no priority (an older API), and one with a bad one
    plain = upload(cloud, samples.png())
    odd = with_priority(cloud, upload(cloud, samples.png()), 12)
    # When their workflows run / Then both are priority 5 in the standard lane
    for uploaded in (plain, odd):
        execution = process(uploaded)
        assert execution.state["file"]["priority"] == 5
        assert execution.state["lane"]["name"] == "standard"


def _failing(monkeypatch: pytest.MonkeyPatch, stages: set[str]) -> None:
    """These stages' functions raise as a dependency that stays down would make them (after retries)."""
    invoke = workflow._invoke

    def failing(stage: str, payload: dict[str, Any], context: Any) -> Any:
        if stage in stages:
            raise TransientStageError("the table is unavailable")
        return invoke(stage, payload, context)

    monkeypatch.setattr(workflow, "_invoke", failing)


@pytest.mark.parametrize(
    ("case", "end", "status"),
    [
        ("bad file", "FileRejected", "SUCCEEDED"),
        ("dependency down", "ProcessingFailed", "FAILED"),
        ("deleted", "FileRejected", "SUCCEEDED"),
        ("failure path down", "ProcessingFailed", "FAILED"),
        ("notify down", "ProcessingFailed", "FAILED"),
    ],
)
def test_every_end_gives_the_slot_back(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch, case: str, end: str, status: str
) -> None:
    # Given a standard-lane file that ends another way than Done
    data = samples.corrupt_image() if case == "bad file" else samples.png()
    uploaded = with_priority(cloud, upload(cloud, data), 3)
    failing = {
        "dependency down": {"image"},
        "failure path down": {"image", "failure"},
        "notify down": {"notify"},
    }.get(case, set())
    _failing(monkeypatch, failing)
    held: list[Decimal] = []

    def during(state_id: str, state: dict[str, Any]) -> None:
        if state_id == "Image":
            held.append(lane_item(cloud)["held"])
            if case == "deleted":
                delete_file(cloud, uploaded.file_id)

    # When its workflow runs to its end
    execution = process(uploaded, before=during)
    # Then it held its slot while it ran, and gave it back on its way to that end
    assert held == [1]
    assert (execution.status, execution.visited[-1]) == (status, end)
    assert any(name.startswith("ReleaseSlot") for name in execution.visited[-3:]), execution.visited
    assert lane_item(cloud)["held"] == 0
    assert holders(cloud) == set()
