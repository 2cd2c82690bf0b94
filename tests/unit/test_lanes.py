"""Priorities and the slot reclaimer's rules, with fakes (no network)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fileflow_common.lanes import DEFAULT_PRIORITY, priority_of
from fileflow_intake.slots import ExecutionStatus, SlotReclaimer
from infra.constructs.pipeline.lanes import slot_wait_seconds


@pytest.mark.parametrize(
    ("stored", "priority"),
    [(Decimal(9), 9), (Decimal(1), 1), ("7", 7), (None, 5), (Decimal(0), 5), (Decimal(10), 5), ("x", 5)],
)
def test_a_stored_priority_is_one_to_nine_else_the_default(stored: object, priority: int) -> None:
    assert priority_of(stored) == priority
    assert DEFAULT_PRIORITY == 5


def test_a_lower_priority_waits_longer_for_a_slot() -> None:
    waits = [slot_wait_seconds(priority) for priority in range(1, 10)]
    # Then base x (10 - priority) / 5 seconds, rounded, at least 1: priority 5 every 3 s, 1 every 5 s
    assert waits == [5, 5, 4, 4, 3, 2, 2, 1, 1]


class FakeSlots:
    def __init__(self, holders: dict[str, str]) -> None:
        self.held = dict(holders)
        self.released: list[str] = []

    def holders(self) -> dict[str, str]:
        return dict(self.held)

    def release(self, execution_name: str) -> bool:
        self.released.append(execution_name)
        return self.held.pop(execution_name, None) is not None


class FakeExecutions:
    def __init__(self, statuses: dict[str, ExecutionStatus]) -> None:
        self.statuses = statuses

    def status(self, execution_name: str) -> ExecutionStatus:
        return self.statuses.get(execution_name, ExecutionStatus.MISSING)


def test_only_holders_whose_execution_is_over_are_released() -> None:
    # Given holders in every state an execution can be in
    statuses = {f"job-{status.value.lower()}": status for status in ExecutionStatus}
    slots = FakeSlots({name: "2026-12-02T01:00:00Z" for name in statuses})
    # When the reclaimer runs
    report = SlotReclaimer(slots, FakeExecutions(statuses)).reclaim()
    # Then the running and redrivable ones keep their slots; every ended (or unknown) one is released
    assert set(slots.held) == {"job-running", "job-pending_redrive"}
    assert report.reclaimed == len(statuses) - 2
    assert report.holders == len(statuses)


def test_a_holder_that_released_meanwhile_is_counted_as_such() -> None:
    class RacingSlots(FakeSlots):
        def release(self, execution_name: str) -> bool:
            self.released.append(execution_name)
            return False  # the execution's own release came first

    slots = RacingSlots({"job-done": "2026-12-02T01:00:00Z"})
    report = SlotReclaimer(slots, FakeExecutions({"job-done": ExecutionStatus.SUCCEEDED})).reclaim()
    assert (report.reclaimed, report.already_released, slots.released) == (0, 1, ["job-done"])
