"""Files: list, search, get, tags, delete, the live events and waiting for the end (docs/files-api.md).

Each route is one `Call` built here; `Files` runs them on the sync requester, `AsyncFiles` on the async
one. Listings are iterators that follow `next_cursor` to the last page.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from fileflow_client.download import DownloadResult, adownload, download
from fileflow_client.errors import FileflowClientError
from fileflow_client.parsing import (
    Json,
    boolean,
    integer,
    objects,
    opt_integer,
    opt_obj,
    opt_objects,
    opt_string,
    string,
    strings,
)
from fileflow_client.transport import AsyncRequester, Call, Requester, mirrors, query, segment

# A file's statuses once its processing has ended (docs/processing.md).
FINAL_STATUSES = frozenset({"processed", "needs_review", "failed", "rejected"})
# The workflow's last stage: its events come after the final status is written.
LAST_STAGE = "notify"
# The long-poll's longest wait the API accepts (seconds).
MAX_POLL_WAIT = 25


class WaitTimeoutError(FileflowClientError):
    """`wait` gave up: the file's processing had not ended within the timeout."""

    def __init__(self, file_id: str, timeout: float, status: str | None, stage: str | None) -> None:
        super().__init__(
            f"file {file_id} was still {status or 'unknown'} (stage {stage or 'none'}) after {timeout:g} s"
        )
        self.file_id = file_id
        self.status = status
        self.stage = stage


@dataclass(frozen=True, slots=True)
class FileSummary:
    """A file as listings show it."""

    file_id: str
    filename: str | None
    content_type: str | None
    size: int | None
    status: str
    detected_type: str | None
    tags: tuple[str, ...]
    created_at: str | None
    updated_at: str | None


@dataclass(frozen=True, slots=True)
class SignedDownload:
    """A presigned GET (valid until `expires_at`)."""

    url: str
    expires_at: str


@dataclass(frozen=True, slots=True)
class Derivative:
    """A derivative (or the original) of a file, with its presigned download."""

    name: str
    key: str
    content_type: str | None
    size: int | None
    download: SignedDownload | None


@dataclass(frozen=True, slots=True)
class FileDetail:
    """`GET /v1/files/{id}`; `raw` holds the whole answer (jobs, lineage, stages, deliveries, ...)."""

    summary: FileSummary
    sha256: str | None
    integrity: str | None
    etag: str | None
    stage: str | None
    stage_state: str | None
    priority: int | None
    correlation_id: str | None
    analysis: Json
    original: Derivative | None
    derivatives: tuple[Derivative, ...]
    raw: Json

    @property
    def file_id(self) -> str:
        return self.summary.file_id

    @property
    def status(self) -> str:
        return self.summary.status

    @property
    def done(self) -> bool:
        """Processing has ended: a final status, and the last stage has run."""
        return self.status in FINAL_STATUSES and self.stage == LAST_STAGE and self.stage_state != "started"

    def derivative(self, name: str) -> Derivative:
        """The derivative of that name (`thumb-512.webp`, `text.txt`, `hls-master.m3u8`, ...)."""
        for derivative in self.derivatives:
            if derivative.name == name:
                return derivative
        names = ", ".join(d.name for d in self.derivatives) or "none"
        raise FileflowClientError(f"file {self.file_id} has no derivative {name!r} (it has: {names})")


@dataclass(frozen=True, slots=True)
class FileEvent:
    """One stage event of a file (`stage` started / succeeded / failed), oldest first."""

    cursor: str
    stage: str
    state: str
    at: str
    correlation_id: str | None
    detail: Json


@dataclass(frozen=True, slots=True)
class EventsPage:
    """One answer of the events long-poll: the new events and the file's status after them."""

    file_id: str
    events: tuple[FileEvent, ...]
    cursor: str | None
    more: bool
    status: str
    stage: str | None
    stage_state: str | None

    @property
    def done(self) -> bool:
        """Nothing more will come: the workflow has ended and every event has been read."""
        return (
            not self.events
            and not self.more
            and self.status in FINAL_STATUSES
            and self.stage == LAST_STAGE
            and self.stage_state != "started"
        )


@dataclass(frozen=True, slots=True)
class Tags:
    """A file's tags after `set_tags`, with the version to send as `if_version` next time."""

    file_id: str
    tags: tuple[str, ...]
    tags_version: int


@dataclass(frozen=True, slots=True)
class Page[T]:
    items: tuple[T, ...]
    next_cursor: str | None


# --- the routes -------------------------------------------------------------------------------------
def list_call(
    *,
    status: str | None = None,
    type: str | None = None,
    created_from: str | None = None,
    created_to: str | None = None,
    sort: Literal["created", "name"] | None = None,
    order: Literal["asc", "desc"] | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> Call[Page[FileSummary]]:
    params = query(
        status=status,
        type=type,
        created_from=created_from,
        created_to=created_to,
        sort=sort,
        order=order,
        limit=limit,
        cursor=cursor,
    )
    return Call("GET", "/v1/files", _files_page, params=params)


def search_call(
    *,
    q: str | None = None,
    match: Literal["prefix", "contains"] | None = None,
    tag: str | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> Call[Page[FileSummary]]:
    if q is None and tag is None:
        raise ValueError("search needs a name (q) or a tag")
    params = query(q=q, match=match, tag=tag, limit=limit, cursor=cursor)
    return Call("GET", "/v1/files/search", _files_page, params=params)


def get_call(file_id: str) -> Call[FileDetail]:
    return Call("GET", f"/v1/files/{segment(file_id)}", file_detail)


def delete_call(file_id: str) -> Call[None]:
    return Call("DELETE", f"/v1/files/{segment(file_id)}", _nothing)


def tags_call(file_id: str, tags: Sequence[str], *, if_version: int | None = None) -> Call[Tags]:
    headers = {"If-Match": f'"{if_version}"'} if if_version is not None else {}
    return Call(
        "PUT", f"/v1/files/{segment(file_id)}/tags", _tags, json_body={"tags": list(tags)}, headers=headers
    )


def events_call(file_id: str, *, after: str | None, wait: int) -> Call[EventsPage]:
    return Call(
        "GET", f"/v1/files/{segment(file_id)}/events", _events_page, params=query(after=after, wait=wait)
    )


# --- the resources ----------------------------------------------------------------------------------
class Files:
    """`client.files`: the caller's own files."""

    def __init__(self, requester: Requester, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._requester = requester
        self._clock = clock

    def list(self, **filters: Any) -> Iterator[FileSummary]:
        """Every file matching the filters (`status`, `type`, `created_from`, `created_to`, `sort`,
        `order`, `limit` per page), newest first by default, following the cursors."""
        return _follow(lambda cursor: self._requester.run(list_call(**filters, cursor=cursor)))

    def search(self, **terms: Any) -> Iterator[FileSummary]:
        """Files by name (`q`, `match="prefix"|"contains"`) and/or `tag`, following the cursors."""
        return _follow(lambda cursor: self._requester.run(search_call(**terms, cursor=cursor)))

    def get(self, file_id: str) -> FileDetail:
        """The file's record: status, stages, analysis, derivatives with signed downloads (5 min)."""
        return self._requester.run(get_call(file_id))

    def delete(self, file_id: str) -> None:
        """Deletes the file, its derivatives and history (a second delete is `NotFoundError`)."""
        self._requester.run(delete_call(file_id))

    def set_tags(self, file_id: str, tags: Sequence[str], *, if_version: int | None = None) -> Tags:
        """Replaces the file's tags; `if_version` (the `tags_version` read) refuses a concurrent change."""
        return self._requester.run(tags_call(file_id, tags, if_version=if_version))

    def download(
        self,
        file_id: str,
        path: Path,
        *,
        derivative: str | None = None,
        resume: bool = True,
        progress: Callable[[int, int | None], None] | None = None,
    ) -> DownloadResult:
        """Streams the original (or the named derivative) to `path`, resuming a partial download with
        HTTP Range; the original's bytes are checked against its SHA-256 when the file has one."""
        detail = self.get(file_id)
        target, sha256 = _download_target(detail, derivative)
        return download(self._requester.http, target, path, sha256=sha256, resume=resume, progress=progress)

    def events(self, file_id: str, *, after: str | None = None, wait: int = 20) -> Iterator[FileEvent]:
        """The file's stage events as they happen (the long-poll), until its processing has ended."""
        while True:
            page = self._requester.run(events_call(file_id, after=after, wait=wait))
            yield from page.events
            if page.done:
                return
            after = page.cursor

    def wait(self, file_id: str, timeout: float = 300.0) -> FileDetail:
        """Blocks until the file's processing has ended (or `WaitTimeoutError`); returns its record."""
        deadline = self._clock() + timeout
        after: str | None = None
        while True:
            left = deadline - self._clock()
            if left <= 0:
                detail = self.get(file_id)
                if detail.done:
                    return detail
                raise WaitTimeoutError(file_id, timeout, detail.status, detail.stage)
            page = self._requester.run(events_call(file_id, after=after, wait=_poll_wait(left)))
            if page.done:
                return self.get(file_id)
            after = page.cursor


@mirrors(Files)
class AsyncFiles:
    def __init__(self, requester: AsyncRequester, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._requester = requester
        self._clock = clock

    async def list(self, **filters: Any) -> AsyncIterator[FileSummary]:
        cursor: str | None = None
        while True:
            page = await self._requester.run(list_call(**filters, cursor=cursor))
            for item in page.items:
                yield item
            if not (cursor := page.next_cursor):
                return

    async def search(self, **terms: Any) -> AsyncIterator[FileSummary]:
        cursor: str | None = None
        while True:
            page = await self._requester.run(search_call(**terms, cursor=cursor))
            for item in page.items:
                yield item
            if not (cursor := page.next_cursor):
                return

    async def get(self, file_id: str) -> FileDetail:
        return await self._requester.run(get_call(file_id))

    async def delete(self, file_id: str) -> None:
        await self._requester.run(delete_call(file_id))

    async def set_tags(self, file_id: str, tags: Sequence[str], *, if_version: int | None = None) -> Tags:
        return await self._requester.run(tags_call(file_id, tags, if_version=if_version))

    async def download(
        self, file_id: str, path: Path, *, derivative: str | None = None, resume: bool = True
    ) -> DownloadResult:
        detail = await self.get(file_id)
        target, sha256 = _download_target(detail, derivative)
        return await adownload(self._requester.http, target, path, sha256=sha256, resume=resume)

    async def events(
        self, file_id: str, *, after: str | None = None, wait: int = 20
    ) -> AsyncIterator[FileEvent]:
        while True:
            page = await self._requester.run(events_call(file_id, after=after, wait=wait))
            for event in page.events:
                yield event
            if page.done:
                return
            after = page.cursor

    async def wait(self, file_id: str, timeout: float = 300.0) -> FileDetail:
        deadline = self._clock() + timeout
        after: str | None = None
        while True:
            left = deadline - self._clock()
            if left <= 0:
                detail = await self.get(file_id)
                if detail.done:
                    return detail
                raise WaitTimeoutError(file_id, timeout, detail.status, detail.stage)
            page = await self._requester.run(events_call(file_id, after=after, wait=_poll_wait(left)))
            if page.done:
                return await self.get(file_id)
            after = page.cursor


def _poll_wait(left: float) -> int:
    return max(1, min(MAX_POLL_WAIT, int(left)))


def _follow(fetch: Callable[[str | None], Page[FileSummary]]) -> Iterator[FileSummary]:
    cursor: str | None = None
    while True:
        page = fetch(cursor)
        yield from page.items
        if not (cursor := page.next_cursor):
            return


def _download_target(detail: FileDetail, derivative: str | None) -> tuple[str, str | None]:
    if derivative is not None:
        chosen = detail.derivative(derivative)
        sha256 = None
    else:
        if detail.original is None:
            raise FileflowClientError(f"file {detail.file_id} has no stored original yet ({detail.status})")
        chosen, sha256 = detail.original, detail.sha256
    if chosen.download is None:
        raise FileflowClientError(f"{chosen.name} of file {detail.file_id} cannot be downloaded")
    return chosen.download.url, sha256


# --- parsing ----------------------------------------------------------------------------------------
def file_summary(data: Json) -> FileSummary:
    return FileSummary(
        file_id=string(data, "file_id"),
        filename=opt_string(data, "filename"),
        content_type=opt_string(data, "content_type"),
        size=opt_integer(data, "size"),
        status=string(data, "status"),
        detected_type=opt_string(data, "detected_type"),
        tags=strings(data, "tags"),
        created_at=opt_string(data, "created_at"),
        updated_at=opt_string(data, "updated_at"),
    )


def file_detail(data: Json) -> FileDetail:
    original = opt_obj(data, "original")
    return FileDetail(
        summary=file_summary(data),
        sha256=opt_string(data, "sha256"),
        integrity=opt_string(data, "integrity"),
        etag=opt_string(data, "etag"),
        stage=opt_string(data, "stage"),
        stage_state=opt_string(data, "stage_state"),
        priority=opt_integer(data, "priority"),
        correlation_id=opt_string(data, "correlation_id"),
        analysis=opt_obj(data, "analysis") or {},
        original=_derivative({"name": "original", **original}) if original else None,
        derivatives=tuple(_derivative(item) for item in opt_objects(data, "derivatives")),
        raw=data,
    )


def _derivative(data: Json) -> Derivative:
    signed = opt_obj(data, "download")
    return Derivative(
        name=string(data, "name"),
        key=string(data, "key"),
        content_type=opt_string(data, "content_type"),
        size=opt_integer(data, "size"),
        download=SignedDownload(string(signed, "url"), string(signed, "expires_at")) if signed else None,
    )


def _files_page(data: Json) -> Page[FileSummary]:
    return Page(
        items=tuple(file_summary(item) for item in objects(data, "files")),
        next_cursor=opt_string(data, "next_cursor"),
    )


def _events_page(data: Json) -> EventsPage:
    return EventsPage(
        file_id=string(data, "file_id"),
        events=tuple(
            FileEvent(
                cursor=string(item, "cursor"),
                stage=string(item, "stage"),
                state=string(item, "state"),
                at=string(item, "at"),
                correlation_id=opt_string(item, "correlation_id"),
                detail=opt_obj(item, "detail") or {},
            )
            for item in objects(data, "events")
        ),
        cursor=opt_string(data, "cursor"),
        more=boolean(data, "more"),
        status=string(data, "status"),
        stage=opt_string(data, "stage"),
        stage_state=opt_string(data, "stage_state"),
    )


def _tags(data: Json) -> Tags:
    return Tags(
        file_id=string(data, "file_id"),
        tags=strings(data, "tags"),
        tags_version=integer(data, "tags_version"),
    )


def _nothing(_: Json) -> None:
    return None
