"""Downloads through presigned GETs: streamed to disk, resumed with HTTP Range, checked by SHA-256.

The bytes go to `<path>.part` (with `<path>.part.json` naming the object's ETag), and only a complete,
verified download is renamed to `path`. Run again after an interruption, the download asks for the
missing range only, with `If-Match: <etag>`: if the object changed meanwhile, storage answers 412 and
the download starts afresh.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import httpx

from fileflow_client.errors import IntegrityError, TransferError

CHUNK = 1024 * 1024


@dataclass(frozen=True, slots=True)
class DownloadResult:
    """What `download` wrote: where, how many bytes, their SHA-256, and what was kept from before."""

    path: Path
    size: int
    sha256: str
    resumed_from: int  # bytes kept from an earlier, interrupted run (0: from the start)
    verified: bool  # the SHA-256 was checked against the file's


class _Sink:
    """The partial file, its hash so far, and what the next request must ask for."""

    def __init__(self, path: Path, *, resume: bool) -> None:
        self.path = path
        self.partial = path.with_name(path.name + ".part")
        self.meta = path.with_name(path.name + ".part.json")
        self.hash = hashlib.sha256()
        self.etag: str | None = None
        self.offset = 0
        if resume and self.partial.exists() and self.meta.exists():
            try:
                self.etag = json.loads(self.meta.read_text())["etag"]
            except (ValueError, KeyError, TypeError):
                self.etag = None
            if self.etag:
                with self.partial.open("rb") as kept:
                    while chunk := kept.read(CHUNK):
                        self.hash.update(chunk)
                        self.offset += len(chunk)
        self.resumed_from = self.offset
        if not self.offset:
            self.restart()

    def headers(self) -> dict[str, str]:
        if not self.offset or not self.etag:
            return {}
        return {"Range": f"bytes={self.offset}-", "If-Match": self.etag}

    def restart(self) -> None:
        self.hash, self.offset, self.etag, self.resumed_from = hashlib.sha256(), 0, None, 0
        self.partial.parent.mkdir(parents=True, exist_ok=True)
        self.partial.write_bytes(b"")
        self.meta.unlink(missing_ok=True)

    def begin(self, response: httpx.Response) -> bool:
        """Whether the answer's body is to be written (False: nothing was missing)."""
        if response.status_code == 416 and self.offset:
            return False  # the kept part was already the whole object
        if response.status_code == 200 and self.offset:
            self.restart()  # storage sent the whole object: start over
        if response.status_code not in (200, 206):
            raise TransferError(
                f"storage refused the download ({response.status_code})",
                part_number=None,
                status=response.status_code,
                code=None,
            )
        etag = response.headers.get("etag")
        if etag and not self.etag:
            self.etag = etag
            self.meta.write_text(json.dumps({"etag": etag}))
        return True

    def write(self, out: BinaryIO, chunk: bytes) -> None:
        out.write(chunk)
        self.hash.update(chunk)
        self.offset += len(chunk)

    def finish(self, sha256: str | None) -> DownloadResult:
        digest = self.hash.hexdigest()
        if sha256 is not None and digest != sha256.lower():
            self.partial.unlink(missing_ok=True)
            self.meta.unlink(missing_ok=True)
            raise IntegrityError(f"downloaded bytes hash to {digest}, the file's SHA-256 is {sha256}")
        os.replace(self.partial, self.path)
        self.meta.unlink(missing_ok=True)
        return DownloadResult(
            path=self.path,
            size=self.offset,
            sha256=digest,
            resumed_from=self.resumed_from,
            verified=sha256 is not None,
        )


def download(
    http: httpx.Client,
    url: str,
    path: Path,
    *,
    sha256: str | None,
    resume: bool = True,
    progress: Callable[[int, int | None], None] | None = None,
) -> DownloadResult:
    """`progress(bytes_done, bytes_total)` after each chunk written."""
    sink = _Sink(path, resume=resume)
    for _ in range(2):  # a second time only when the object changed since the kept part (412)
        with http.stream("GET", url, headers=sink.headers()) as response:
            if response.status_code == 412:
                sink.restart()
                continue
            if sink.begin(response):
                total = _total(response, sink.offset)
                with sink.partial.open("ab") as out:
                    for chunk in response.iter_bytes(CHUNK):
                        sink.write(out, chunk)
                        if progress is not None:
                            progress(sink.offset, total)
            return sink.finish(sha256)
    raise TransferError(
        "the object kept changing during the download", part_number=None, status=412, code=None
    )


async def adownload(
    http: httpx.AsyncClient, url: str, path: Path, *, sha256: str | None, resume: bool = True
) -> DownloadResult:
    sink = _Sink(path, resume=resume)
    for _ in range(2):
        async with http.stream("GET", url, headers=sink.headers()) as response:
            if response.status_code == 412:
                sink.restart()
                continue
            if sink.begin(response):
                with sink.partial.open("ab") as out:
                    async for chunk in response.aiter_bytes(CHUNK):
                        sink.write(out, chunk)
            return sink.finish(sha256)
    raise TransferError(
        "the object kept changing during the download", part_number=None, status=412, code=None
    )


def _total(response: httpx.Response, offset: int) -> int | None:
    """The whole object's size: from Content-Range on a 206, else Content-Length."""
    content_range = response.headers.get("content-range", "")
    if "/" in content_range and not content_range.endswith("/*"):
        return int(content_range.rsplit("/", 1)[1])
    length = response.headers.get("content-length")
    return int(length) + (offset if response.status_code == 206 else 0) if length else None
