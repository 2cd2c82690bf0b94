"""Lambda entry point of the slot reclaimer: an EventBridge schedule (or a direct invoke) -> one pass.

It ships in the intake's code asset beside the starter (the same Step Functions and DynamoDB adapters).
"""

from __future__ import annotations

from dataclasses import asdict
from functools import cache
from typing import TYPE_CHECKING, Any, cast

import boto3
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic_settings import BaseSettings, SettingsConfigDict

from fileflow_common.aws import CLIENT_CONFIG, dynamodb_resource
from fileflow_common.lanes import (
    HELD_ATTRIBUTE,
    NOT_HOLDERS,
    RELEASE_CONDITION,
    RELEASE_UPDATE,
    lane_item_key,
)
from fileflow_common.observability import logger, metrics, tracer
from fileflow_common.settings_types import TableName
from fileflow_intake.settings import StateMachineArn
from fileflow_intake.slots import ExecutionStatus, SlotReclaimer

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table
    from mypy_boto3_stepfunctions import SFNClient


class ReclaimerSettings(BaseSettings):
    """Environment of the reclaimer function, validated once per execution environment."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    table_name: TableName
    state_machine_arn: StateMachineArn


class DynamoLaneSlots:
    def __init__(self, table: Table) -> None:
        self._table = table
        self._refused = table.meta.client.exceptions.ConditionalCheckFailedException

    def holders(self) -> dict[str, str]:
        item = self._table.get_item(Key=lane_item_key(), ConsistentRead=True).get("Item") or {}
        return {name: str(value) for name, value in item.items() if name not in NOT_HOLDERS}

    def release(self, execution_name: str) -> bool:
        try:
            self._table.update_item(
                Key=lane_item_key(),
                UpdateExpression=RELEASE_UPDATE,
                ConditionExpression=RELEASE_CONDITION,
                ExpressionAttributeNames={"#held": HELD_ATTRIBUTE, "#holder": execution_name},
                ExpressionAttributeValues={":minus_one": -1},
            )
        except self._refused:
            return False
        return True


class StepFunctionsExecutions:
    def __init__(self, client: SFNClient, state_machine_arn: str) -> None:
        self._client = client
        # Executions are named by the starter: their ARN is the machine's with `execution` and the name.
        self._prefix = state_machine_arn.replace(":stateMachine:", ":execution:", 1) + ":"

    def status(self, execution_name: str) -> ExecutionStatus:
        try:
            described = self._client.describe_execution(executionArn=self._prefix + execution_name)
        except self._client.exceptions.ExecutionDoesNotExist:
            return ExecutionStatus.MISSING
        return ExecutionStatus(cast(str, described["status"]))


@cache
def reclaimer() -> SlotReclaimer:
    """Built (and its settings validated) once per execution environment; tests cache_clear() it."""
    settings = ReclaimerSettings()  # type: ignore[call-arg]  # fields come from the environment
    client: SFNClient = boto3.client("stepfunctions", config=CLIENT_CONFIG)
    return SlotReclaimer(
        DynamoLaneSlots(dynamodb_resource().Table(settings.table_name)),
        StepFunctionsExecutions(client, settings.state_machine_arn),
    )


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    report = reclaimer().reclaim()
    metrics.add_metric(name="LaneSlotsReclaimed", unit=MetricUnit.Count, value=report.reclaimed)
    logger.info("lane slots checked", extra=asdict(report))
    return asdict(report)
