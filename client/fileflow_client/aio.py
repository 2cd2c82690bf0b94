"""`AsyncFileflowClient`: the SDK for asyncio code, on `httpx.AsyncClient`.

Every API route is awaited on the async HTTP client. Uploads run the sync upload engine (parallel part
PUTs from a thread pool, reading the file at offsets) in a worker thread, so the event loop is never
blocked by file reads or hashing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import httpx

from fileflow_client.api import UploadOptions
from fileflow_client.batch import BatchProgressCallback, BatchResult
from fileflow_client.client import (
    DEFAULT_CONCURRENCY,
    SINGLE_PUT_THRESHOLD,
    FileflowClient,
    ProgressCallback,
    UploadResult,
)
from fileflow_client.files import AsyncFiles
from fileflow_client.localfile import SHA256
from fileflow_client.retry import RetryPolicy
from fileflow_client.reviews import AsyncReviews
from fileflow_client.transport import AsyncRequester, TokenSource
from fileflow_client.usage import AsyncUsageResource
from fileflow_client.webhooks import AsyncWebhooks


class AsyncFileflowClient:
    """`files`, `webhooks`, `reviews`, `usage` as on `FileflowClient`, awaited; `async with` closes it."""

    def __init__(
        self,
        api_url: str,
        token: TokenSource,
        *,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        state_dir: Path | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sync_transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], Any] = asyncio.sleep,
        single_put_threshold: int = SINGLE_PUT_THRESHOLD,
    ) -> None:
        """`transport` / `sync_transport` replace the network for the API calls and the uploads (tests);
        `single_put_threshold` as on `FileflowClient`."""
        self._retry = retry or RetryPolicy()
        self._http = httpx.AsyncClient(timeout=timeout, transport=transport)
        requester = AsyncRequester(self._http, api_url, token, retry=self._retry, sleep=sleep)
        self.files = AsyncFiles(requester)
        self.webhooks = AsyncWebhooks(requester)
        self.reviews = AsyncReviews(requester)
        self.usage = AsyncUsageResource(requester)
        self._uploader = FileflowClient(
            api_url,
            token,
            timeout=timeout,
            retry=self._retry,
            state_dir=state_dir,
            transport=sync_transport,
            sleep=time.sleep,
            single_put_threshold=single_put_threshold,
        )

    async def upload(
        self,
        path: str | Path,
        *,
        content_type: str | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        part_checksums: bool = True,
        checksum_algorithm: str = SHA256,
        progress: ProgressCallback | None = None,
        resume: bool = True,
        options: UploadOptions | None = None,
    ) -> UploadResult:
        """`FileflowClient.upload` in a worker thread; `progress` is called from that thread."""
        return await asyncio.to_thread(
            self._uploader.upload,
            path,
            content_type=content_type,
            concurrency=concurrency,
            part_checksums=part_checksums,
            checksum_algorithm=checksum_algorithm,
            progress=progress,
            resume=resume,
            options=options,
        )

    async def upload_many(
        self,
        paths: Sequence[str | Path],
        *,
        pattern: str = "*",
        files_at_once: int = 4,
        options: UploadOptions | None = None,
        progress: BatchProgressCallback | None = None,
    ) -> BatchResult:
        """`FileflowClient.upload_many` in a worker thread."""
        return await asyncio.to_thread(
            self._uploader.upload_many,
            paths,
            pattern=pattern,
            files_at_once=files_at_once,
            options=options,
            progress=progress,
        )

    async def aclose(self) -> None:
        """Closes the connection pools."""
        await self._http.aclose()
        self._uploader.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
