"""`make invoke ... FILE=<file id>`: a sample event aimed at a real file of the deployed stack.

The samples in events/ name one made-up file (`file-0001` of `user-alice`, its job, version, execution,
review and webhook ids, tools/sample_events.py). `Target` maps each placeholder to the real file's
value, read from its DynamoDB items, and `aim` replaces them in every string of the event (the SQS
bodies' JSON too) and sets the stage state's size; placeholder tokens become tokens the stack signs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tools import sample_events as samples

# The stage and SQS samples' made-up file (events/stage-detect/standard_lane.json).
SAMPLE_JOB = "job-7a8e05a89eccf665ba33ac2b6c8066e42acf4217"
SAMPLE_EXECUTION = f"arn:aws:states:us-east-1:123456789012:execution:fileflow-pipeline:{SAMPLE_JOB}"
SAMPLE_BUCKET = "fileflow-uploads-example"
SAMPLE_ETAG = "b6d81b360a5672d80c27430f39153e2c"
SAMPLE_VERSION = "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY"
SAMPLE_CORRELATION = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"
# The review tasks' tokens (events/stage-review/open.json, escalate.json).
_TOKEN_HEAD = "AQCEAAAAKgAAAAMAAAAAAAAAAeMPcR3eV1+Ahr0bYmAsAtnsBNBb3fI1Ja1hd1t4QK9jH4J5Vb0NcsE3rxmdbDmv7w=="  # noqa: S105 - a made-up token
SAMPLE_TASK_TOKENS = (f"{_TOKEN_HEAD}example", f"{_TOKEN_HEAD}escalated")


class FileNotFoundForAimError(LookupError):
    """No file of that id in the deployed stack's table."""


@dataclass(frozen=True, slots=True)
class Target:
    """The real file a sample is aimed at, and tokens for its owner."""

    user_id: str
    file_id: str
    upload_id: str
    bucket: str
    key: str
    etag: str
    version_id: str | None
    size: int
    job_id: str
    execution_arn: str
    correlation_id: str | None
    review_id: str
    api_token: str
    upload_token: str
    # The token the file's execution waits on, when it waits for a review: the review samples keep it.
    task_token: str | None = None

    def replacements(self) -> dict[str, str]:
        """placeholder -> value, the longest first (a key holds the user and file placeholders)."""
        pairs = {
            SAMPLE_EXECUTION: self.execution_arn,
            SAMPLE_JOB: self.job_id,
            samples.SAMPLE_TOKEN: self.api_token,
            samples.SAMPLE_UPLOAD_TOKEN: self.upload_token,
            samples.SAMPLE_REVIEW: self.review_id,
            SAMPLE_BUCKET: self.bucket,
            SAMPLE_ETAG: self.etag,
            SAMPLE_VERSION: self.version_id or "",
            SAMPLE_CORRELATION: self.correlation_id or SAMPLE_CORRELATION,
            samples.SAMPLE_USER: self.user_id,
            samples.SAMPLE_FILE: self.file_id,
            samples.SAMPLE_UPLOAD: self.upload_id,
        }
        if self.task_token:
            pairs |= dict.fromkeys(SAMPLE_TASK_TOKENS, self.task_token)
        return dict(sorted(pairs.items(), key=lambda pair: -len(pair[0])))


def _replace(value: Any, pairs: dict[str, str]) -> Any:
    if isinstance(value, str):
        for placeholder, real in pairs.items():
            value = value.replace(placeholder, real)
        return value
    if isinstance(value, dict):
        return {name: _replace(item, pairs) for name, item in value.items()}
    if isinstance(value, list):
        return [_replace(item, pairs) for item in value]
    return value


def aim(event: dict[str, Any], target: Target) -> dict[str, Any]:
    """The event with every placeholder of the sample file replaced by the target's values."""
    aimed: dict[str, Any] = _replace(event, target.replacements())
    file = (aimed.get("state") or {}).get("file")
    if isinstance(file, dict):  # a stage's input: the stored version's own size
        file["size"] = target.size
        if target.version_id is None:
            file.pop("version_id", None)
    return aimed


def target_for(file_id: str) -> Target:
    """The file's values from the deployed stack: its items, its bucket, tokens the stack signs."""
    import boto3
    from boto3.dynamodb.conditions import Key

    from fileflow_common.reviews import review_id_for, review_item_key
    from infra import outputs as names
    from tools.stack import client_kwargs, load_outputs
    from tools.token import TokenFactory

    outputs = load_outputs()
    table = boto3.resource("dynamodb", **client_kwargs()).Table(outputs[names.TABLE_NAME])
    history = table.query(KeyConditionExpression=Key("pk").eq(f"FILE#{file_id}"), Limit=25)["Items"]
    owners = {str(item["user_id"]) for item in history if item.get("user_id")}
    if len(owners) != 1:
        raise FileNotFoundForAimError(f"no file {file_id!r} in the deployed stack (unknown or deleted)")
    (user_id,) = owners
    item = table.get_item(Key={"pk": f"USER#{user_id}", "sk": f"FILE#{file_id}"}).get("Item")
    if not item or not item.get("processing_job_id"):
        raise FileNotFoundForAimError(f"file {file_id!r} has no processing job yet (not stored?)")
    job_id = str(item["processing_job_id"])
    tokens = TokenFactory.for_stack(outputs)
    review = table.get_item(Key=dict(review_item_key(review_id_for(job_id)))).get("Item") or {}
    return Target(
        user_id=user_id,
        file_id=file_id,
        upload_id=str(item.get("upload_id") or file_id),
        bucket=outputs[names.BUCKET_NAME],
        key=str(item["key"]),
        etag=str(item["etag"]),
        version_id=str(item["version_id"]) if item.get("version_id") else None,
        size=int(str(item["size"])),
        job_id=job_id,
        execution_arn=str(item.get("execution_arn") or SAMPLE_EXECUTION.replace(SAMPLE_JOB, job_id)),
        correlation_id=str(item["correlation_id"]) if item.get("correlation_id") else None,
        review_id=review_id_for(job_id),
        api_token=tokens.valid(user_id, roles=("reviewer",)),
        upload_token=tokens.upload(user_id),
        task_token=str(review["task_token"]) if review.get("task_token") else None,
    )


def dumps(event: dict[str, Any]) -> bytes:
    return json.dumps(event).encode()
