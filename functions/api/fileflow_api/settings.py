from typing import Annotated

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from fileflow_common.settings_types import BucketName, QueueUrl, TableName

# An exact browser origin: scheme and host (and port), no path, no trailing slash, no wildcard.
Origin = Annotated[str, Field(pattern=r"^https?://[A-Za-z0-9.-]+(:\d{1,5})?$")]


class ApiSettings(BaseSettings):
    """Environment of the API function, validated once per execution environment.

    ALLOWED_ORIGINS is a JSON list, e.g. ``["https://app.example.com"]``.
    """

    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    bucket_name: BucketName
    table_name: TableName
    queue_url: QueueUrl
    allowed_origins: tuple[Origin, ...]
