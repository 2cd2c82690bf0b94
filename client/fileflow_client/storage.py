"""Sending bytes to the storage (S3) through presigned PUT requests."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from xml.sax.saxutils import unescape

import httpx

from fileflow_client.api import SignedRequest
from fileflow_client.errors import TransferError
from fileflow_client.retry import RETRYABLE_STATUSES, Retryable, RetryPolicy, call_with_retries

_XML_CODE = re.compile(rb"<Code>([^<]*)</Code>")
_XML_MESSAGE = re.compile(rb"<Message>([^<]*)</Message>")


def put_signed(
    http: httpx.Client,
    request: SignedRequest,
    *,
    body: Callable[[], Iterator[bytes]],
    size: int,
    part_number: int | None,
    retry: RetryPolicy,
    refresh: Callable[[], SignedRequest] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """PUTs `size` bytes (`body()` makes a fresh iterator for each attempt); returns the ETag.

    A 403 gets one new signature from `refresh` (the URL may have expired while it waited);
    5xx, throttling and connection failures are retried with backoff.
    """
    current = request
    refreshed = False
    what = f"part {part_number}" if part_number is not None else "the file"

    def attempt() -> str:
        nonlocal current, refreshed
        headers = httpx.Headers(current.headers)
        # S3 refuses chunked uploads to presigned URLs: announce the exact length.
        headers["Content-Length"] = str(size)
        try:
            response = http.put(current.url, content=body(), headers=headers)
        except httpx.TransportError as exc:
            error = TransferError(
                f"sending {what} failed: {exc!r}", part_number=part_number, status=None, code=None
            )
            error.__cause__ = exc
            raise Retryable(error) from exc
        if response.is_success:
            etag = response.headers.get("etag")
            if not etag:
                raise TransferError(
                    f"the storage accepted {what} without an ETag (is ETag exposed?)",
                    part_number=part_number,
                    status=response.status_code,
                    code=None,
                )
            return str(etag).strip('"')
        code, message = _s3_error(response.content)
        error = TransferError(
            f"the storage refused {what}: {response.status_code} {code or ''} {message}".rstrip(),
            part_number=part_number,
            status=response.status_code,
            code=code,
        )
        if response.status_code == 403 and refresh is not None and not refreshed:
            refreshed = True
            current = refresh()
            raise Retryable(error, retry_after=0.0)
        if response.status_code in RETRYABLE_STATUSES:
            raise Retryable(error)
        raise error

    return call_with_retries(attempt, retry, sleep=sleep)


def _s3_error(body: bytes) -> tuple[str | None, str]:
    code = _XML_CODE.search(body)
    message = _XML_MESSAGE.search(body)
    return (
        unescape(code.group(1).decode("utf-8", "replace")) if code else None,
        unescape(message.group(1).decode("utf-8", "replace")) if message else "",
    )
