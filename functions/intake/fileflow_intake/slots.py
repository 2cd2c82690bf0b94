"""Reclaims the standard lane's slots whose executions ended without giving them back. No boto3.

Every end path of the workflow releases its slot, but an execution that is stopped (StopExecution), times
out, or fails in a way no Catch sees never reaches one. The reclaimer, run every minute, reads the
semaphore's holders and asks Step Functions for each one's status: a holder whose execution is no longer
RUNNING (or no longer exists) is released, conditionally on it still being held, so a release racing the
execution's own is harmless.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from fileflow_common.observability import logger


class ExecutionStatus(StrEnum):
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    TIMED_OUT = "TIMED_OUT"
    ABORTED = "ABORTED"
    PENDING_REDRIVE = "PENDING_REDRIVE"
    MISSING = "MISSING"  # no such execution (its history expired, or the machine was replaced)


class LaneSlots(Protocol):
    def holders(self) -> dict[str, str]:
        """Each execution name holding a slot, with when it took it (ISO 8601)."""
        ...

    def release(self, execution_name: str) -> bool:
        """Give the holder's slot back; False when it no longer held one."""
        ...


class Executions(Protocol):
    def status(self, execution_name: str) -> ExecutionStatus: ...


@dataclass(frozen=True, slots=True)
class ReclaimReport:
    holders: int = 0
    reclaimed: int = 0
    # Released by their own execution between the read and the reclaim: nothing to do.
    already_released: int = 0


class SlotReclaimer:
    def __init__(self, slots: LaneSlots, executions: Executions) -> None:
        self._slots = slots
        self._executions = executions

    def reclaim(self) -> ReclaimReport:
        holders = self._slots.holders()
        reclaimed = already_released = 0
        for name, taken_at in sorted(holders.items()):
            status = self._executions.status(name)
            # PENDING_REDRIVE is not over: a redrive resumes it holding its slot.
            if status in (ExecutionStatus.RUNNING, ExecutionStatus.PENDING_REDRIVE):
                continue
            if self._slots.release(name):
                reclaimed += 1
                logger.warning(
                    "slot reclaimed from an execution that ended without releasing it",
                    extra={"execution_name": name, "status": status.value, "taken_at": taken_at},
                )
            else:
                already_released += 1
        return ReclaimReport(holders=len(holders), reclaimed=reclaimed, already_released=already_released)
