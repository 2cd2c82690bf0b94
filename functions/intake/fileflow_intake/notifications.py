"""The S3 event notification format as it arrives in an SQS message body.

Only the fields Fileflow uses are modelled; unknown fields are ignored so schema
additions (eventVersion 2.x) never break processing.
"""

import json
from datetime import datetime
from typing import Annotated, Literal
from urllib.parse import unquote_plus

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, NonNegativeInt, ValidationError
from pydantic.alias_generators import to_camel, to_pascal

from fileflow_common.errors import FileflowError


class InvalidNotificationError(FileflowError):
    """A message body that is neither an S3 event notification nor an S3 test event."""

    code = "InvalidNotification"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", alias_generator=to_camel)


class S3TestEvent(_Model):
    """Sent once by S3 when a notification configuration is created or changed."""

    model_config = ConfigDict(alias_generator=to_pascal)

    event: Literal["s3:TestEvent"]
    bucket: str


class S3Bucket(_Model):
    name: str


class S3Object(_Model):
    # S3 form-encodes keys in notifications ("+" for space, %XX for the rest).
    key: Annotated[str, AfterValidator(unquote_plus)]
    size: NonNegativeInt | None = None
    e_tag: str | None = None
    version_id: str | None = None
    sequencer: Annotated[str, Field(pattern=r"^[0-9A-Fa-f]{1,64}$")] | None = None


class S3Entity(_Model):
    bucket: S3Bucket
    object: S3Object


class S3EventRecord(_Model):
    event_source: Literal["aws:s3"]
    event_name: str
    event_time: datetime
    s3: S3Entity

    @property
    def is_object_created(self) -> bool:
        return self.event_name.startswith("ObjectCreated:")


class S3EventNotification(_Model):
    model_config = ConfigDict(alias_generator=to_pascal)

    records: Annotated[list[S3EventRecord], Field(min_length=1)]


def parse_notification(body: str) -> S3EventNotification | S3TestEvent:
    """Parse an SQS message body; raise InvalidNotificationError saying why it is not one."""
    try:
        document = json.loads(body)
    except json.JSONDecodeError as exc:
        raise InvalidNotificationError(f"body is not JSON: {exc.msg} at position {exc.pos}") from exc
    if not isinstance(document, dict):
        raise InvalidNotificationError(f"body is a JSON {type(document).__name__}, not an object")
    model: type[S3EventNotification | S3TestEvent] = (
        S3TestEvent if document.get("Event") == "s3:TestEvent" else S3EventNotification
    )
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        location = ".".join(str(part) for part in first["loc"])
        raise InvalidNotificationError(
            f"not an S3 event notification: {location}: {first['msg']} ({exc.error_count()} error(s))"
        ) from exc
