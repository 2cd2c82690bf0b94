"""Starts one workflow execution per stored object version.

The execution's name is the version's job id (a hash of bucket, key and version id), and its input is
built from the version alone, so a duplicate notification asks Step Functions for the same name with the
same input: the same execution comes back (Standard workflows), and nothing new starts.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from fileflow_common.clock import utc_now
from fileflow_common.lanes import DEFAULT_PRIORITY
from fileflow_common.observability import logger
from fileflow_intake.files import DynamoIntakeRecords, FileDeletedError
from fileflow_intake.stored_objects import StoredObject

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient


def execution_input(
    stored: StoredObject, correlation_id: str | None, priority: int = DEFAULT_PRIORITY
) -> dict[str, Any]:
    """The workflow's input: ids and keys only (every stage reads the object itself), and the priority
    that picks the file's lane (docs/processing.md, "Priorities")."""
    version = stored.version
    return {
        "file": {
            "user_id": stored.upload.user_id,
            "file_id": stored.upload.file_id,
            "bucket": version.bucket,
            "key": version.key,
            "version_id": version.version_id,
            "etag": version.etag,
            "size": stored.size,
            "job_id": version.job_id,
            "correlation_id": correlation_id,
            "priority": priority,
        }
    }


class WorkflowStarter:
    def __init__(
        self,
        client: SFNClient,
        records: DynamoIntakeRecords,
        *,
        state_machine_arn: str,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._client = client
        self._records = records
        self._state_machine_arn = state_machine_arn
        self._clock = clock

    def start(
        self, stored: StoredObject, correlation_id: str | None, priority: int = DEFAULT_PRIORITY
    ) -> str | None:
        """The execution's ARN (an existing one for a duplicate); None when the file was deleted."""
        try:
            self._records.queue_job(stored, correlation_id=correlation_id, at=self._clock())
        except FileDeletedError:
            logger.info("file deleted before its workflow started", extra={"key": stored.upload.key})
            return None
        name = stored.version.job_id
        try:
            response = self._client.start_execution(
                stateMachineArn=self._state_machine_arn,
                name=name,
                input=json.dumps(execution_input(stored, correlation_id, priority), sort_keys=True),
                traceHeader=correlation_id or name,
            )
        except self._client.exceptions.ExecutionAlreadyExists:
            # Same name, other input: the version's workflow exists (it may have been started before the
            # upload API wrote the correlation id). One workflow per version is what counts.
            logger.info("workflow already started for this version", extra={"execution_name": name})
            return None
        arn = response["executionArn"]
        logger.info(
            "workflow started",
            extra={
                "execution_arn": arn,
                "key": stored.upload.key,
                "version_id": stored.version_id,
                "priority": priority,
            },
        )
        return arn
