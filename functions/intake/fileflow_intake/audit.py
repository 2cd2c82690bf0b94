"""DynamoDB adapter of the starter's AuditAppender: the API's AuditTable (fileflow_common.audit).

The starter may only PutItem there (infra/constructs/intake.py). Its events are built from the S3
notification, so a redelivered message puts the same key: refused by the condition, and that is fine.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import timedelta
from typing import TYPE_CHECKING

from fileflow_common.audit import AUDIT_PUT_CONDITION, AuditEvent, audit_item

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


class DynamoAuditAppender:
    def __init__(self, table: Table, *, retention: timedelta) -> None:
        self._table = table
        self._retention = retention

    def append(self, event: AuditEvent) -> None:
        # Refused: the same event, stored by an earlier attempt.
        with suppress(self._table.meta.client.exceptions.ConditionalCheckFailedException):
            self._table.put_item(
                Item=audit_item(event, retention=self._retention), ConditionExpression=AUDIT_PUT_CONDITION
            )
