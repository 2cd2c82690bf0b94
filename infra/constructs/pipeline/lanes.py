"""Priority lanes: an urgent file goes straight in; the standard lane is admitted through a semaphore.

A file's `priority` (1-9, the starter puts it at `$.file.priority`) picks its lane: `urgent` (>= 7) skips
the semaphore, `standard` (the rest) first takes one of `standard_lane_slots` slots of a counting
semaphore in the metadata table (the AWS pattern "controlling concurrency with Step Functions"): one
item, `LANE#standard` / `SLOTS`, whose `held` counts the slots taken and which holds one attribute per
holder (the execution's name = when it took the slot). A refused take waits, lower priorities longer,
then tries again. Every end of the workflow gives the slot back; a slot whose execution ended without
(stopped, timed out) is reclaimed by fileflow_intake.slots. docs/processing.md, "Priorities".
"""

from __future__ import annotations

from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

URGENT_PRIORITY = 7
DEFAULT_PRIORITY = 5
PRIORITIES = range(1, 10)
# The semaphore's item, its counter, and the names the expressions use (fileflow_common.lanes: the same).
LANE_PARTITION = "LANE#standard"
SLOTS_SORT_KEY = "SLOTS"
HELD_ATTRIBUTE = "held"
ACQUIRE_UPDATE = "ADD #held :one SET #holder = :acquired_at"
ACQUIRE_CONDITION = "(attribute_not_exists(#held) OR #held < :limit) AND attribute_not_exists(#holder)"
RELEASE_UPDATE = "ADD #held :minus_one REMOVE #holder"
RELEASE_CONDITION = "attribute_exists(#holder)"
# How the optimized DynamoDB integration names a refused condition (and every other DynamoDB error).
CONDITION_FAILED = "DynamoDB.ConditionalCheckFailedException"
# A refused take waits base x (10 - priority) / 5 seconds: priority 5 asks every 3 s, priority 1 every 5 s,
# so under contention the higher priority is likelier to get the next free slot.
WAIT_BASE_SECONDS = 3
RELEASE_RETRY_ATTEMPTS = 5


def slot_wait_seconds(priority: int) -> int:
    """Seconds a standard-lane file of `priority` waits after its take of a slot was refused."""
    return max(1, round(WAIT_BASE_SECONDS * (10 - priority) / 5))


def _key() -> dict[str, dict[str, str]]:
    return {"pk": {"S": LANE_PARTITION}, "sk": {"S": SLOTS_SORT_KEY}}


def _names() -> dict[str, str]:
    return {"#held": HELD_ATTRIBUTE, "#holder.$": "$$.Execution.Name"}


class StandardLane:
    """The lane states of the workflow: the entry (choose, take a slot, wait) and each end's release."""

    def __init__(self, scope: Construct, *, table: dynamodb.ITable, slots: int) -> None:
        if slots < 1:
            raise ValueError(f"the standard lane needs at least one slot: {slots}")
        self._scope = scope
        self._table = table
        self.slots = slots

    def entry(self, first: sfn.IChainable, on_error: sfn.IChainable) -> sfn.IChainable:
        """Choose the lane, and for the standard lane take a slot (waiting its turn) before `first`."""
        scope = self._scope
        urgent = sfn.Pass(
            scope,
            "UrgentLane",
            comment="Priority 7 and above: no slot to wait for",
            result=sfn.Result.from_object({"name": "urgent"}),
            result_path="$.lane",
        )
        urgent.next(first)
        # The priority's wait, from a table indexed by the priority (intrinsics have no multiplication).
        waits = ", ".join(str(slot_wait_seconds(p)) if p in PRIORITIES else "0" for p in range(10))
        standard = sfn.Pass(
            scope,
            "StandardLane",
            parameters={
                "name": "standard",
                "wait_seconds": sfn.JsonPath.string_at(
                    f"States.ArrayGetItem(States.Array({waits}), $.file.priority)"
                ),
            },
            result_path="$.lane",
        )
        default_priority = sfn.Pass(
            scope,
            "DefaultPriority",
            comment=f"An input without a priority (started by hand) is priority {DEFAULT_PRIORITY}",
            result=sfn.Result.from_number(DEFAULT_PRIORITY),
            result_path="$.file.priority",
        )
        default_priority.next(standard)
        acquire = self._update(
            "AcquireStandardSlot",
            "Take a slot: held < limit, and not held by this execution already",
            update=ACQUIRE_UPDATE,
            condition=ACQUIRE_CONDITION,
            values={
                ":one": {"N": "1"},
                ":limit": {"N": str(self.slots)},
                ":acquired_at": {"S.$": "$$.State.EnteredTime"},
            },
        )
        wait = sfn.Wait(
            scope,
            "WaitForStandardSlot",
            time=sfn.WaitTime.seconds_path("$.lane.wait_seconds"),
        )
        wait.next(acquire)
        # Any other error may hide a take that happened (its answer lost): the take is not retried blindly
        # (a second try would be refused by this execution's own holder, forever); the slot is read instead.
        check = sfn.CustomState(
            scope,
            "CheckStandardSlot",
            state_json={
                "Type": "Task",
                "Resource": "arn:aws:states:::dynamodb:getItem",
                "Parameters": {
                    "TableName": self._table.table_name,
                    "Key": _key(),
                    "ConsistentRead": True,
                    "ProjectionExpression": "#holder",
                    "ExpressionAttributeNames": {"#holder.$": "$$.Execution.Name"},
                },
                "ResultSelector": {"item.$": "States.JsonToString($.Item)"},
                "ResultPath": "$.lane.check",
            },
        )
        check.add_retry(errors=["States.ALL"], max_attempts=RELEASE_RETRY_ATTEMPTS, backoff_rate=2)
        check.add_catch(on_error, errors=["States.ALL"], result_path="$.error")
        # Projected on this holder alone, the item reads "{}" unless the execution holds a slot. (AWS's
        # sample matches the time's "Z"; the local cloud writes `$$.State.EnteredTime` as "+00:00".)
        check.next(
            sfn.Choice(scope, "HoldsStandardSlot")
            .when(sfn.Condition.string_matches("$.lane.check.item", "*:*"), first)
            .otherwise(wait)
        )
        acquire.add_catch(wait, errors=[CONDITION_FAILED], result_path=sfn.JsonPath.DISCARD)
        acquire.add_catch(check, errors=["States.ALL"], result_path="$.lane.error")
        acquire.next(first)
        standard.next(acquire)
        return (
            sfn.Choice(scope, "ChooseLane")
            .when(sfn.Condition.is_not_present("$.file.priority"), default_priority)
            .when(sfn.Condition.number_greater_than_equals("$.file.priority", URGENT_PRIORITY), urgent)
            .otherwise(standard)
        )

    def released(self, where: str, end: sfn.IChainable) -> sfn.IChainable:
        """`end`, after the standard lane's slot is given back (a slot not held, or reclaimed, is fine)."""
        release = self._update(
            f"ReleaseSlot{where}",
            "Give the slot back (only if this execution holds it)",
            update=RELEASE_UPDATE,
            condition=RELEASE_CONDITION,
            values={":minus_one": {"N": "-1"}},
        )
        # Retried, but a refused condition is final: the slot is not held (never taken, or reclaimed).
        release.add_retry(errors=[CONDITION_FAILED], max_attempts=0)
        release.add_retry(errors=["States.ALL"], max_attempts=RELEASE_RETRY_ATTEMPTS, backoff_rate=2)
        # The file's outcome stands whatever happens to its slot: a slot left held is reclaimed.
        release.add_catch(end, errors=["States.ALL"], result_path="$.lane.release_error")
        release.next(end)
        return (
            sfn.Choice(scope=self._scope, id=f"HeldSlot{where}")
            .when(
                sfn.Condition.and_(
                    sfn.Condition.is_present("$.lane.name"),
                    sfn.Condition.string_equals("$.lane.name", "standard"),
                ),
                release,
            )
            .otherwise(end)
        )

    def _update(
        self, state_id: str, comment: str, *, update: str, condition: str, values: dict[str, object]
    ) -> sfn.CustomState:
        return sfn.CustomState(
            self._scope,
            state_id,
            state_json={
                "Type": "Task",
                "Comment": comment,
                "Resource": "arn:aws:states:::dynamodb:updateItem",
                "Parameters": {
                    "TableName": self._table.table_name,
                    "Key": _key(),
                    "UpdateExpression": update,
                    "ConditionExpression": condition,
                    "ExpressionAttributeNames": _names(),
                    "ExpressionAttributeValues": values,
                },
                "ResultPath": sfn.JsonPath.DISCARD,
            },
        )
