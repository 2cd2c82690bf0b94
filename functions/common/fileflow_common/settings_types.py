"""Validated field types shared by the functions' pydantic-settings models."""

from typing import Annotated

from pydantic import Field

# S3 general purpose bucket naming rules (length, alphabet, alphanumeric at both ends).
BucketName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")]
TableName = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{3,255}$")]
# AWS: https://sqs.<region>.amazonaws.com/<account>/<name>; LocalStack's path strategy puts
# /queue/<region> between host and account.
QueueUrl = Annotated[str, Field(pattern=r"^https?://[^\s/]+(/[^\s/]+)*/\d{12}/[A-Za-z0-9_-]{1,80}(\.fifo)?$")]
SecretArn = Annotated[
    str, Field(pattern=r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]{1,512}$")
]
