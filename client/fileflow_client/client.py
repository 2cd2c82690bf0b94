"""`FileflowClient`: parallel, checksummed, resumable uploads straight to storage.

upload(path):
1. initiate (the API plans the parts), record the upload id in the state file; a file below the
   single-PUT threshold is hashed (SHA-256) first, since its one PUT URL is signed with that digest;
2. ask for part URLs in batches, from a thread of its own ahead of the workers' need, each signed
   with the part's SHA-256, or its CRC32C with checksum_algorithm="CRC32C" (S3 refuses other bytes);
3. PUT the parts in parallel, each read from the file at its offset (never the whole file in
   memory), retrying 5xx and connection failures with backoff; meanwhile a thread of its own reads
   the file in order for its whole SHA-256 (checksums.py), so nothing waits for a hash of the file;
4. complete, declaring that SHA-256 (the processor verifies the stored bytes against it), then check
   the stored object: its size, its multipart ETag against the parts' ETags, and S3's checksum of it
   (of the parts' SHA-256s or CRC32Cs) against the local data's.
With resume=True (the default), an upload recorded for the same file (path, size, mtime) continues:
the parts the storage holds (ListParts) are kept when their size and checksum match the local data,
and only the others are sent; the whole file is hashed again while they go.
"""

from __future__ import annotations

import base64
import contextlib
import mimetypes
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self

import httpx

from fileflow_client.api import (
    AbortedUpload,
    CompletedUpload,
    FileflowApi,
    HeldPart,
    InitiatedUpload,
    PartTarget,
    SignedRequest,
    TokenSource,
    UploadOptions,
    UploadStatus,
)
from fileflow_client.batch import BatchProgressCallback, BatchResult, expand_paths, upload_batch
from fileflow_client.checksums import ChecksumCache, WholeFileDigest
from fileflow_client.errors import (
    FileflowClientError,
    IntegrityError,
    NotFoundError,
    ProtocolError,
    UploadExpiredError,
    UploadStateError,
)
from fileflow_client.files import Files
from fileflow_client.localfile import (
    PART_CHECKSUM_ALGORITHMS,
    SHA256,
    FileIdentity,
    composite_checksum,
    file_sha256,
    iter_range,
    multipart_etag,
)
from fileflow_client.planning import PartSpec, decide_resume, plan_parts
from fileflow_client.retry import RetryPolicy
from fileflow_client.reviews import Reviews
from fileflow_client.state import (
    UploadState,
    default_state_path,
    delete_state,
    load_state,
    save_state,
)
from fileflow_client.storage import put_signed
from fileflow_client.usage import UsageResource
from fileflow_client.webhooks import Webhooks

DEFAULT_CONCURRENCY = 8
# A recorded upload this close to its expiry is started afresh rather than resumed.
RESUME_MARGIN = timedelta(minutes=5)
# Part URLs asked for at once: enough to keep every worker busy, few enough to stay fresh.
MAX_URL_BATCH = 64
# The API's default: below it an upload is one PUT, whose URL is signed with the file's SHA-256.
SINGLE_PUT_THRESHOLD = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Progress:
    """What `upload` reports to its `progress` callback (always from the calling thread)."""

    phase: Literal["hashing", "uploading", "completing", "completed"]
    bytes_done: int
    bytes_total: int
    parts_done: int = 0
    parts_total: int = 0
    # the part the storage just confirmed (phase "uploading")
    part_number: int | None = None


type ProgressCallback = Callable[[Progress], None]


@dataclass(frozen=True, slots=True)
class UploadResult:
    """What `upload` did: the file's ids, its SHA-256, and which parts were sent or kept from before."""

    upload_id: str
    file_id: str
    key: str
    size: int
    sha256: str
    etag: str
    content_type: str
    mode: Literal["single", "multipart"]
    part_size: int
    part_count: int
    # part numbers this call sent, and those an earlier run had stored and this one kept
    parts_sent: tuple[int, ...]
    parts_reused: tuple[int, ...]
    resumed: bool
    bytes_sent: int
    elapsed_seconds: float


@dataclass(slots=True)
class _Session:
    """One multipart upload being driven to completion."""

    state: UploadState
    plan: tuple[PartSpec, ...]
    checksums: ChecksumCache  # the parts', in the upload's algorithm (computed when needed)
    etags: dict[int, str] = field(default_factory=dict)
    reused: tuple[int, ...] = ()
    to_send: tuple[PartSpec, ...] = ()
    resumed: bool = False


class FileflowClient:
    """The Fileflow SDK (sync). Thread-safe; reuse one instance (it pools connections); close() it.

    Uploads are methods of the client; the rest is grouped by capability: `files`, `webhooks`,
    `reviews` (reviewer tokens only) and `usage`. `AsyncFileflowClient` is the same, awaited.
    """

    def __init__(
        self,
        api_url: str,
        token: TokenSource,
        *,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        state_dir: Path | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        single_put_threshold: int = SINGLE_PUT_THRESHOLD,
    ) -> None:
        """`transport` replaces the network (tests); `sleep` is the backoff's wait (tests);
        `single_put_threshold`: the API's (its setting `SINGLE_PUT_THRESHOLD`), if not the default."""
        self._retry = retry or RetryPolicy()
        self._single_put_threshold = single_put_threshold
        self._state_dir = state_dir
        self._sleep = sleep
        self._api_http = httpx.Client(timeout=timeout, transport=transport)
        self._storage_http = httpx.Client(
            timeout=httpx.Timeout(timeout * 4, connect=timeout),
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=64),
            transport=transport,
        )
        self.api = FileflowApi(self._api_http, api_url, token, retry=self._retry, sleep=sleep)
        requester = self.api.requester
        self.files = Files(requester)
        self.webhooks = Webhooks(requester)
        self.reviews = Reviews(requester)
        self.usage = UsageResource(requester)

    def close(self) -> None:
        """Closes the connection pools (`with FileflowClient(...)` does it)."""
        self._api_http.close()
        self._storage_http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # --- the other routes ---------------------------------------------------------------------
    def status(self, upload_id: str) -> UploadStatus:
        """An upload session: its status, and how many bytes and parts the storage holds."""
        return self.api.status(upload_id)

    def abort(self, upload_id: str) -> AbortedUpload:
        """Aborts an upload: its parts are dropped and its quota given back."""
        return self.api.abort(upload_id)

    def list_parts(self, upload_id: str) -> list[HeldPart]:
        """Every part the storage holds for the upload (all pages)."""
        return list(self.api.iter_parts(upload_id))

    # --- upload -------------------------------------------------------------------------------
    def upload(
        self,
        path: str | Path,
        *,
        content_type: str | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        part_checksums: bool = True,
        checksum_algorithm: str = SHA256,
        progress: ProgressCallback | None = None,
        resume: bool = True,
        state_file: str | Path | None = None,
        options: UploadOptions | None = None,
    ) -> UploadResult:
        """Uploads the file at `path`; see the module's docstring. `options`: the processing priority,
        a callback URL, the analysis mode, and tags set on the file once it is stored.

        `checksum_algorithm`: each part's checksum, which the storage verifies, "SHA256" or "CRC32C"
        (in hardware, about 15x cheaper to compute; the whole file's SHA-256 is verified by the
        pipeline either way). A resumed upload keeps the algorithm it was initiated with.

        An exception (including one raised by `progress`, or KeyboardInterrupt) stops the upload
        promptly and keeps it resumable: a later `upload` of the same file continues it.
        """
        result = self._upload(
            Path(path),
            content_type=content_type,
            concurrency=concurrency,
            part_checksums=part_checksums,
            checksum_algorithm=checksum_algorithm,
            progress=progress,
            resume=resume,
            state_file=state_file,
            options=options,
        )
        if options is not None and options.tags:
            self.files.set_tags(result.file_id, list(options.tags))
        return result

    def upload_many(
        self,
        paths: Sequence[str | Path],
        *,
        pattern: str = "*",
        recursive: bool = True,
        files_at_once: int = 4,
        concurrency: int = DEFAULT_CONCURRENCY,
        options: UploadOptions | None = None,
        progress: BatchProgressCallback | None = None,
    ) -> BatchResult:
        """Uploads files and whole directories (their files matching the glob `pattern`), `files_at_once`
        files in parallel, each with `concurrency` parts at once. One file's failure does not stop the
        others: it is in the result's `failed`."""
        return upload_batch(
            self,
            expand_paths(paths, pattern=pattern, recursive=recursive),
            files_at_once=files_at_once,
            concurrency=concurrency,
            options=options,
            progress=progress,
        )

    def _upload(
        self,
        source: Path,
        *,
        content_type: str | None,
        concurrency: int,
        part_checksums: bool,
        checksum_algorithm: str,
        progress: ProgressCallback | None,
        resume: bool,
        state_file: str | Path | None,
        options: UploadOptions | None,
    ) -> UploadResult:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if checksum_algorithm not in PART_CHECKSUM_ALGORITHMS:
            raise ValueError(
                f"checksum_algorithm must be one of {', '.join(PART_CHECKSUM_ALGORITHMS)}, "
                f"not {checksum_algorithm!r}"
            )
        started = time.monotonic()
        if not source.is_file():
            raise FileNotFoundError(f"{source} is not a readable file")
        identity = FileIdentity.of(source)
        report = progress or _ignore
        content_type = content_type or mimetypes.guess_type(source.name)[0] or "application/octet-stream"
        state_path = (
            Path(state_file) if state_file is not None else default_state_path(identity, self._state_dir)
        )
        session = self._resumed_session(state_path, identity) if resume else None
        if session is None:
            self._abandon_recorded_upload(state_path, identity)
            algorithm = checksum_algorithm if part_checksums else None

            def initiate(sha256: str | None) -> InitiatedUpload:
                return self.api.initiate(
                    filename=source.name,
                    size=identity.size,
                    content_type=content_type,
                    sha256=sha256,
                    checksum_algorithm=algorithm,
                    options=options,
                )

            # A single PUT's URL is signed with the file's SHA-256: hashed first. Multipart: while sending.
            sha256 = self._hash(identity, report) if identity.size < self._single_put_threshold else None
            initiated = initiate(sha256)
            if initiated.mode == "single" and sha256 is None:
                # The API's threshold is above ours: start again, with the digest its URL needs.
                sha256 = self._hash(identity, report)
                with contextlib.suppress(FileflowClientError):
                    self.api.abort(initiated.upload_id)
                initiated = initiate(sha256)
            if initiated.mode == "single":
                assert sha256 is not None
                return self._upload_single(initiated, identity, sha256, content_type, report, started)
            session = self._new_session(initiated, identity, sha256, content_type, algorithm, state_path)

        state = session.state
        checksums = session.checksums
        total = identity.size
        sent_bytes = sum(spec.size for spec in session.to_send)
        done_bytes = total - sent_bytes
        done_parts = len(session.plan) - len(session.to_send)
        report(Progress("uploading", done_bytes, total, done_parts, len(session.plan)))

        def on_part(spec: PartSpec) -> None:
            nonlocal done_bytes, done_parts
            done_bytes += spec.size
            done_parts += 1
            report(Progress("uploading", done_bytes, total, done_parts, len(session.plan), spec.number))

        # Declared at initiate (a file the API made multipart below our threshold), or hashed now.
        digest = WholeFileDigest(identity.path, identity.size) if state.sha256 is None else None
        try:
            # A resumed upload keeps the choice it was initiated with: the API requires it of every part.
            self._send_parts(
                state.upload_id,
                session,
                checksums if state.checksum_algorithm is not None else None,
                concurrency=concurrency,
                on_part=on_part,
            )
            sha256 = digest.result() if digest is not None else state.sha256
        finally:
            if digest is not None:
                digest.stop()

        report(Progress("completing", total, total, len(session.plan), len(session.plan)))
        identity.ensure_unchanged()
        completed = self.api.complete(state.upload_id, sha256=sha256)
        _verify(
            completed,
            identity,
            sha256,
            expected_etag=multipart_etag([session.etags[spec.number] for spec in session.plan]),
            expected_composite=lambda algorithm: (
                composite_checksum([checksums.get(spec) for spec in session.plan], algorithm)
                if algorithm == checksums.algorithm
                else None
            ),
        )
        delete_state(state_path)
        report(Progress("completed", total, total, len(session.plan), len(session.plan)))
        return UploadResult(
            upload_id=state.upload_id,
            file_id=completed.file_id,
            key=completed.key,
            size=completed.size,
            sha256=sha256 or "",
            etag=completed.etag.strip('"'),
            content_type=state.content_type,
            mode="multipart",
            part_size=state.part_size,
            part_count=state.part_count,
            parts_sent=tuple(spec.number for spec in session.to_send),
            parts_reused=session.reused,
            resumed=session.resumed,
            bytes_sent=sent_bytes,
            elapsed_seconds=time.monotonic() - started,
        )

    def _hash(self, identity: FileIdentity, report: ProgressCallback) -> str:
        hashed = 0

        def on_bytes(count: int) -> None:
            nonlocal hashed
            hashed += count
            report(Progress("hashing", hashed, identity.size))

        report(Progress("hashing", 0, identity.size))
        return file_sha256(identity.path, identity.size, on_bytes=on_bytes)

    def _new_session(
        self,
        initiated: InitiatedUpload,
        identity: FileIdentity,
        sha256: str | None,
        content_type: str,
        checksum_algorithm: str | None,
        state_path: Path,
    ) -> _Session:
        plan = plan_parts(identity.size, part_size=initiated.part_size, part_count=initiated.part_count)
        state = UploadState(
            api_url=self.api.api_url,
            upload_id=initiated.upload_id,
            file_id=initiated.file_id,
            key=initiated.key,
            path=str(identity.path),
            size=identity.size,
            mtime_ns=identity.mtime_ns,
            sha256=sha256,
            content_type=content_type,
            part_size=initiated.part_size,
            part_count=initiated.part_count,
            checksum_algorithm=checksum_algorithm,
        )
        # Recorded before any byte is sent: a crash from here on leaves a resumable upload.
        save_state(state_path, state)
        return _Session(
            state=state,
            plan=plan,
            checksums=ChecksumCache(identity.path, checksum_algorithm or SHA256),
            to_send=plan,
        )

    def _resumed_session(self, state_path: Path, identity: FileIdentity) -> _Session | None:
        """The recorded upload of this file, with what is left to send; None if there is none to resume."""
        state = load_state(state_path)
        if state is None or not state.describes(identity, api_url=self.api.api_url):
            return None
        try:
            status = self.api.status(state.upload_id)
            if status.status != "initiated" or _expires_soon(status.expires_at):
                # completed (and this process missed the answer), aborted or expired: start afresh
                delete_state(state_path)
                return None
            held = list(self.api.iter_parts(state.upload_id))
        except (NotFoundError, UploadExpiredError, UploadStateError):
            delete_state(state_path)
            return None
        plan = plan_parts(identity.size, part_size=state.part_size, part_count=state.part_count)
        checksums = ChecksumCache(identity.path, state.checksum_algorithm or SHA256)
        listed = {part.part_number for part in held if part.checksum(checksums.algorithm) is not None}
        checksums.compute(
            [spec for spec in plan if spec.number in listed]
        )  # in parallel, ahead of the decision
        decision = decide_resume(plan, held, local_checksum=checksums.get, algorithm=checksums.algorithm)
        return _Session(
            state=state,
            plan=plan,
            checksums=checksums,
            etags={number: part.etag.strip('"') for number, part in decision.reusable.items()},
            reused=tuple(sorted(decision.reusable)),
            to_send=decision.to_send,
            resumed=True,
        )

    def _abandon_recorded_upload(self, state_path: Path, identity: FileIdentity) -> None:
        """Starting afresh: abort the upload an earlier run recorded for this file (best effort)."""
        state = load_state(state_path)
        if state is not None and state.describes(identity, api_url=self.api.api_url):
            with contextlib.suppress(FileflowClientError):
                self.api.abort(state.upload_id)
        delete_state(state_path)

    def _send_parts(
        self,
        upload_id: str,
        session: _Session,
        checksums: ChecksumCache | None,
        *,
        concurrency: int,
        on_part: Callable[[PartSpec], None],
    ) -> None:
        """PUTs session.to_send with `concurrency` workers.

        Part URLs are signed in batches by a thread of their own, ahead of need, so the workers
        never wait for the API (nor for the hashing of the parts it signs).
        """
        waiting = deque(session.to_send)
        ready: deque[tuple[PartSpec, SignedRequest]] = deque()
        in_flight: dict[Future[str], PartSpec] = {}
        signing: Future[list[tuple[PartSpec, SignedRequest]]] | None = None
        # the first batch as small as the workers allow, so the first bytes leave sooner
        next_batch = concurrency
        batch_size = min(MAX_URL_BATCH, max(2 * concurrency, 8))
        source = Path(session.state.path)
        cancel = threading.Event()
        workers = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="fileflow-part")
        signer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fileflow-sign")
        try:
            while waiting or ready or in_flight or signing:
                while len(in_flight) < concurrency and ready:
                    spec, request = ready.popleft()
                    future = workers.submit(
                        self._put_part, upload_id, spec, request, checksums, source, cancel
                    )
                    in_flight[future] = spec
                if signing is None and waiting and len(ready) < batch_size:
                    batch = [waiting.popleft() for _ in range(min(next_batch, len(waiting)))]
                    signing = signer.submit(self._sign, upload_id, batch, checksums)
                    next_batch = batch_size
                pending: list[Future[Any]] = [*in_flight, *([signing] if signing else [])]
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                if signing in done:
                    ready.extend(signing.result())
                    signing = None
                for future in done & in_flight.keys():
                    spec = in_flight.pop(future)
                    session.etags[spec.number] = future.result()
                    on_part(spec)
        except BaseException:
            cancel.set()  # in-flight bodies stop at their next chunk: the process exits promptly
            raise
        finally:
            signer.shutdown(wait=True, cancel_futures=True)
            workers.shutdown(wait=True, cancel_futures=True)

    def _sign(
        self, upload_id: str, specs: Sequence[PartSpec], checksums: ChecksumCache | None
    ) -> list[tuple[PartSpec, SignedRequest]]:
        if checksums is not None:
            checksums.compute(specs)
        targets: Mapping[int, PartTarget] = {
            target.part_number: target
            for target in self.api.sign_parts(
                upload_id,
                [(spec.number, checksums.get(spec) if checksums else None) for spec in specs],
                algorithm=checksums.algorithm if checksums else SHA256,
            )
        }
        for spec in specs:
            if targets[spec.number].size != spec.size:
                raise ProtocolError(
                    f"the API sized part {spec.number} at {targets[spec.number].size} bytes, "
                    f"the plan at {spec.size}"
                )
        return [(spec, targets[spec.number].request) for spec in specs]

    def _put_part(
        self,
        upload_id: str,
        spec: PartSpec,
        request: SignedRequest,
        checksums: ChecksumCache | None,
        source: Path,
        cancel: threading.Event,
    ) -> str:
        return put_signed(
            self._storage_http,
            request,
            body=lambda: iter_range(source, spec.offset, spec.size, cancel=cancel),
            size=spec.size,
            part_number=spec.number,
            retry=self._retry,
            refresh=lambda: self._sign(upload_id, [spec], checksums)[0][1],
            sleep=self._sleep,
        )

    def _upload_single(
        self,
        initiated: InitiatedUpload,
        identity: FileIdentity,
        sha256: str,
        content_type: str,
        report: ProgressCallback,
        started: float,
    ) -> UploadResult:
        assert initiated.single is not None  # checked when parsed
        report(Progress("uploading", 0, identity.size, 0, 1))
        etag = put_signed(
            self._storage_http,
            initiated.single,
            body=lambda: iter_range(identity.path, 0, identity.size),
            size=identity.size,
            part_number=None,
            retry=self._retry,
            sleep=self._sleep,
        )
        report(Progress("completing", identity.size, identity.size, 1, 1, 1))
        identity.ensure_unchanged()
        completed = self.api.complete(initiated.upload_id)
        _verify(completed, identity, sha256, expected_etag=etag, expected_composite=None)
        report(Progress("completed", identity.size, identity.size, 1, 1))
        return UploadResult(
            upload_id=initiated.upload_id,
            file_id=completed.file_id,
            key=completed.key,
            size=completed.size,
            sha256=sha256,
            etag=completed.etag.strip('"'),
            content_type=content_type,
            mode="single",
            part_size=initiated.part_size,
            part_count=initiated.part_count,
            parts_sent=(1,),
            parts_reused=(),
            resumed=False,
            bytes_sent=identity.size,
            elapsed_seconds=time.monotonic() - started,
        )


def _verify(
    completed: CompletedUpload,
    identity: FileIdentity,
    sha256: str | None,
    *,
    expected_etag: str,
    expected_composite: Callable[[str], str | None] | None,
) -> None:
    """The stored object is the local file: same size, same SHA-256, made of the parts we know.

    S3's own checksum of the object, when the API reports it, must be the local data's too: the
    whole file's SHA-256 (FULL_OBJECT), or the checksum of the parts' SHA-256 or CRC32C checksums
    (COMPOSITE, "...-N").
    """
    if completed.status != "completed":
        raise IntegrityError(f"the upload ended {completed.status!r}, not completed")
    if completed.size != identity.size:
        raise IntegrityError(f"the stored object has {completed.size} bytes, the file {identity.size}")
    if completed.sha256 is not None and sha256 is not None and completed.sha256.lower() != sha256:
        raise IntegrityError(f"the stored object's SHA-256 is {completed.sha256}, the file's {sha256}")
    if completed.etag.strip('"') != expected_etag:
        raise IntegrityError(
            f"the stored object's ETag {completed.etag} is not that of the parts sent ({expected_etag})"
        )
    checksum = completed.checksum
    if checksum is None or checksum.algorithm not in PART_CHECKSUM_ALGORITHMS:
        return
    composite = checksum.type == "COMPOSITE" or "-" in checksum.value
    expected: str | None = None
    if composite and expected_composite is not None:
        expected = expected_composite(checksum.algorithm)
    elif not composite and sha256 is not None and checksum.algorithm == SHA256:
        expected = base64.b64encode(bytes.fromhex(sha256)).decode("ascii")
    if expected is None:
        return  # a checksum the client did not compute (another algorithm): nothing to compare
    if checksum.value != expected:
        label = "SHA-256" if checksum.algorithm == SHA256 else checksum.algorithm
        raise IntegrityError(f"S3's {label} of the stored object is {checksum.value}, the file's {expected}")


def _expires_soon(expires_at: str) -> bool:
    try:
        moment = datetime.fromisoformat(expires_at)
    except ValueError:
        return False  # the API decides; an unreadable date does not stop a resume
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment - datetime.now(UTC) < RESUME_MARGIN


def _ignore(_: Progress) -> None:
    return None
