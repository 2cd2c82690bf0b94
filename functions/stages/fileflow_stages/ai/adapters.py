"""The AI stage's adapters, built once per execution environment: S3 reads, DynamoDB, the API key."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from aws_lambda_powertools.utilities import parameters
from botocore.exceptions import ClientError

from fileflow_common.aws import dynamodb_resource, s3_client
from fileflow_common.clock import utc_now
from fileflow_common.observability import logger
from fileflow_stages.ai.circuit import CircuitBreaker
from fileflow_stages.ai.claude import AnthropicClaude
from fileflow_stages.ai.service import Analyzer, ClaudePort
from fileflow_stages.ai.settings import AiSettings
from fileflow_stages.ai.store import DynamoAiCache, DynamoAiUsage, DynamoCircuitStore

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# The API key is fetched at most this often per environment (Powertools' parameter cache).
SECRET_MAX_AGE_SECONDS = 300


class S3Derivatives:
    """Reads the derivatives (and a text file's original) the AI stage sends, capped in size."""

    def __init__(self, client: S3Client, bucket: str) -> None:
        self._client = client
        self._bucket = bucket

    def read(self, key: str, *, max_bytes: int) -> bytes:
        response = self._client.get_object(Bucket=self._bucket, Key=key, Range=f"bytes=0-{max_bytes - 1}")
        return response["Body"].read()


@dataclass
class ClaudeFactory:
    """The Anthropic client, built the first time a call needs it (the key from Secrets Manager)."""

    settings: AiSettings
    _client: AnthropicClaude | None = None

    def __call__(self) -> ClaudePort | None:
        try:
            api_key = parameters.get_secret(
                self.settings.anthropic_secret_name, max_age=SECRET_MAX_AGE_SECONDS
            )
        except parameters.exceptions.GetParameterError as error:
            # Powertools raises its own error while handling botocore's (no `from`): the context holds it.
            cause = error.__cause__ or error.__context__
            if isinstance(cause, ClientError) and (
                cause.response.get("Error", {}).get("Code") == "ResourceNotFoundException"
            ):
                logger.info("the Anthropic API key's secret does not exist: Claude is not configured")
                return None
            raise
        if self._client is None:
            self._client = AnthropicClaude(
                api_key=str(api_key),
                base_url=self.settings.anthropic_base_url or None,
                timeout=self.settings.ai_timeout_seconds,
            )
        return self._client


@cache
def ai_settings() -> AiSettings:
    """Validated once per execution environment; tests cache_clear() it."""
    return AiSettings()  # type: ignore[call-arg]  # fields come from the environment


@cache
def analyzer() -> Analyzer:
    settings = ai_settings()
    table = dynamodb_resource().Table(settings.table_name)
    return Analyzer(
        settings,
        content=S3Derivatives(s3_client(), settings.bucket_name),
        cache=DynamoAiCache(table),
        usage=DynamoAiUsage(table),
        breaker=CircuitBreaker(
            DynamoCircuitStore(table),
            threshold=settings.ai_circuit_failures,
            cooldown=settings.ai_circuit_cooldown_seconds,
        ),
        claude=ClaudeFactory(settings),
        clock=utc_now,
    )
