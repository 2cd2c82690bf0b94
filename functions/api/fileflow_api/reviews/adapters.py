"""The reviews' adapters: SendTaskSuccess (its refusals as the service's errors), the thumbnail's URL."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from fileflow_api.files.storage import S3FileObjects
from fileflow_api.reviews.service import TaskTokenExpiredError, TaskTokenInvalidError

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient

# What Step Functions answers for a token nothing waits on any more, and for one it does not know.
_EXPIRED = frozenset({"TaskTimedOut"})
_INVALID = frozenset({"InvalidToken", "TaskDoesNotExist"})


class SfnTaskTokens:
    """The client comes from its factory at the first decision: a cold start answering anything else does
    not load the Step Functions model."""

    def __init__(self, client: Callable[[], SFNClient]) -> None:
        self._client = client

    def succeed(self, token: str, output: Mapping[str, Any]) -> None:
        try:
            self._client().send_task_success(taskToken=token, output=json.dumps(dict(output)))
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in _EXPIRED:
                raise TaskTokenExpiredError(code) from exc
            if code in _INVALID:
                raise TaskTokenInvalidError(code) from exc
            raise


class S3Thumbnails:
    """A presigned GET of the review's thumbnail derivative (never a download name: the owner's)."""

    def __init__(self, objects: S3FileObjects) -> None:
        self._objects = objects

    def presign(self, key: str, *, expires_in: int) -> str:
        return self._objects.presign_get(key, version_id=None, expires_in=expires_in, filename=None)
