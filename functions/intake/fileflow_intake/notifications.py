"""The S3 event notification format as it arrives in an SQS message body: Powertools' parser models.

Powertools' S3 models are extended only where Fileflow relies on more: keys are URL-decoded, sizes are
whole bytes, sequencers are hex, every record names its object, and a batch holds at least one record.
Unknown fields are ignored (pydantic's default), so schema additions (eventVersion 2.x) never break it.
"""

import json
from typing import Annotated, Any, Literal
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.parser.models.s3 import S3Message, S3Model, S3Object, S3RecordModel
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeInt,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_pascal

from fileflow_common.errors import FileflowError

SEQUENCER_PATTERN = r"^[0-9A-Fa-f]{1,64}$"


class InvalidNotificationError(FileflowError):
    """A message body that is neither an S3 event notification nor an S3 test event."""

    code = "InvalidNotification"


class S3TestEvent(BaseModel):
    """Sent once by S3 when a notification configuration is created or changed (no Powertools model)."""

    model_config = ConfigDict(frozen=True, alias_generator=to_pascal)

    event: Literal["s3:TestEvent"]
    bucket: str


class NotifiedObject(S3Object):
    size: NonNegativeInt | None = None  # Powertools declares a float: a size is whole bytes
    sequencer: Annotated[str, Field(pattern=SEQUENCER_PATTERN)] | None = None

    @field_validator("key")
    @classmethod
    def _decode_key(cls, key: str) -> str:
        # S3 form-encodes keys in notifications ("+" for space, %XX for the rest).
        return unquote_plus(key)


class NotifiedMessage(S3Message):
    object: NotifiedObject  # optional in Powertools (IntelligentTiering's get_object): ObjectCreated has one


class S3EventRecord(S3RecordModel):
    s3: NotifiedMessage

    @model_validator(mode="before")
    @classmethod
    def validate_s3_object(cls, values: Any) -> Any:
        """Powertools' size-and-eTag check (this overrides it by name) on a record shaped for it only: it
        crashes on others (TypeError, AttributeError), which field validation then reports by location."""
        s3 = values.get("s3") if isinstance(values, dict) else None
        s3_object = (s3.get("object") or s3.get("get_object")) if isinstance(s3, dict) else None
        if isinstance(s3_object, dict) and isinstance(values.get("eventName"), str):
            return super().validate_s3_object(values)  # type: ignore[operator]  # pydantic's proxy, callable
        return values

    @property
    def is_object_created(self) -> bool:
        return self.eventName.startswith("ObjectCreated:")


class S3EventNotification(S3Model):
    Records: Annotated[list[S3EventRecord], Field(min_length=1)]  # type: ignore[assignment]


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
