from typing import Annotated

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from fileflow_common.audit import AUDIT_RETENTION_DAYS
from fileflow_common.settings_types import BucketName, QueueUrl, TableName

StateMachineArn = Annotated[
    str, Field(pattern=r"^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[A-Za-z0-9_-]{1,80}$")
]


class IntakeSettings(BaseSettings):
    """Environment of the starter function, validated once per execution environment."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    table_name: TableName
    # The API's audit log: the starter appends the objects it refuses to their owner's trail.
    audit_table_name: TableName
    audit_retention_days: Annotated[int, Field(ge=1, le=3650)] = AUDIT_RETENTION_DAYS
    bucket_name: BucketName
    state_machine_arn: StateMachineArn
    # The intake queue: failed messages get a short, growing visibility timeout (retry backoff).
    queue_url: QueueUrl
    # The queue's redrive policy: the last receive before the message is dead-lettered is counted.
    max_receive_count: Annotated[int, Field(ge=1, le=1000)] = 3
    # A failed message is retried after base x 2^(receive count - 1) seconds.
    retry_backoff_seconds: Annotated[int, Field(ge=0, le=3600)] = 10
