from pydantic_settings import BaseSettings, SettingsConfigDict

from fileflow_common.settings_types import BucketName, TableName


class ProcessorSettings(BaseSettings):
    """Environment of the processor function, validated once per execution environment."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    table_name: TableName
    bucket_name: BucketName
