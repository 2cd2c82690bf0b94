"""The correlation id an upload carries from its initiate on: the file item, the object and the workflow.

It is the initiating request's own: the one Powertools' logger already puts on every log line of the
request (API Gateway's `requestContext.requestId`, handler.py), so an upload's API logs, its audit event
and its pipeline's logs and events share one id. Where no API Gateway request id exists (a direct
invoke, a test client), a new one (uuid4 hex).
"""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Any

from fastapi import Depends, Request

from fileflow_common.observability import logger

# What S3 metadata (an HTTP header value) and log fields take without escaping; API Gateway's are UUIDs.
_CORRELATION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")


def request_correlation_id(request: Request) -> str:
    event: dict[str, Any] = request.scope.get("aws.event") or {}
    # The event's own first: the logger's is process-wide (set per invocation by the handler).
    candidates = ((event.get("requestContext") or {}).get("requestId"), logger.get_correlation_id())
    for candidate in candidates:
        if isinstance(candidate, str) and _CORRELATION_ID.fullmatch(candidate):
            return candidate
    return uuid.uuid4().hex


CorrelationId = Annotated[str, Depends(request_correlation_id)]
