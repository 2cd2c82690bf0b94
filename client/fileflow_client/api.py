"""The upload API (docs/api-contract.md), one method per route, answers parsed into typed records."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from fileflow_client.errors import ProtocolError
from fileflow_client.localfile import CRC32C, SHA256
from fileflow_client.parsing import integer, objects, opt_integer, opt_obj, opt_string, string
from fileflow_client.retry import RetryPolicy
from fileflow_client.transport import Call, Json, Requester, TokenSource, segment

__all__ = ["TokenSource"]  # re-exported: the upload engine's callers name it from here


@dataclass(frozen=True, slots=True)
class SignedRequest:
    """A presigned request: send it to `url` with exactly `headers`."""

    url: str
    headers: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class InitiatedUpload:
    upload_id: str
    file_id: str
    key: str
    mode: Literal["single", "multipart"]
    part_size: int
    part_count: int
    expires_at: str
    single: SignedRequest | None


@dataclass(frozen=True, slots=True)
class UploadOptions:
    """What an upload asks of the processing (docs/api-contract.md, initiate); None: the API's default."""

    priority: int | None = None  # 1 (most urgent) to 9; the API's default is 5
    callback_url: str | None = None  # a one-off webhook target for this upload's events
    analysis: Literal["local", "auto", "deep"] | None = None  # whether Claude may analyse it
    tags: tuple[str, ...] = ()  # set on the file once the upload is complete

    def initiate_fields(self) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "priority": self.priority,
            "callback_url": self.callback_url,
            "analysis": self.analysis,
        }
        return {name: value for name, value in fields.items() if value is not None}


@dataclass(frozen=True, slots=True)
class PartTarget:
    part_number: int
    size: int
    request: SignedRequest


@dataclass(frozen=True, slots=True)
class HeldPart:
    """A part the storage holds (ListParts)."""

    part_number: int
    size: int
    etag: str
    checksum_sha256: str | None
    checksum_crc32c: str | None = None

    def checksum(self, algorithm: str) -> str | None:
        """The storage's checksum of the part in `algorithm` ("SHA256", "CRC32C"), if it lists one."""
        return self.checksum_crc32c if algorithm == CRC32C else self.checksum_sha256


@dataclass(frozen=True, slots=True)
class ObjectChecksum:
    """S3's checksum of a stored object: `value` is base64; "<digest of the part digests>-N" when
    `type` is COMPOSITE (a multipart object), the whole object's digest when FULL_OBJECT."""

    algorithm: str
    value: str
    type: str | None


@dataclass(frozen=True, slots=True)
class CompletedUpload:
    upload_id: str
    file_id: str
    key: str
    status: str
    size: int
    etag: str
    sha256: str | None
    checksum: ObjectChecksum | None


@dataclass(frozen=True, slots=True)
class UploadStatus:
    """An upload session (`GET /v1/uploads/{id}`): its status and what the storage holds of it."""

    upload_id: str
    file_id: str
    status: str
    filename: str
    content_type: str
    # None for uploads whose client never declared them (browser uploads through Uppy)
    size: int | None
    part_size: int | None
    part_count: int | None
    bytes_received: int
    parts_received: int | None
    created_at: str
    expires_at: str


@dataclass(frozen=True, slots=True)
class AbortedUpload:
    """What `abort` answers: the upload and its new status (`aborted`)."""

    upload_id: str
    status: str


class FileflowApi:
    """Calls the API with the bearer token; retries what is safe to retry."""

    def __init__(
        self,
        http: httpx.Client,
        api_url: str,
        token: TokenSource,
        *,
        retry: RetryPolicy,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.requester = Requester(http, api_url, token, retry=retry, sleep=sleep)

    @property
    def api_url(self) -> str:
        return self.requester.api_url

    def initiate(
        self,
        *,
        filename: str,
        size: int,
        content_type: str,
        sha256: str | None,
        checksum_algorithm: str | None,
        options: UploadOptions | None = None,
    ) -> InitiatedUpload:
        """`checksum_algorithm` ("SHA256" or "CRC32C"): every part will be signed with its checksum (S3
        checks it)."""
        body: dict[str, Any] = {"filename": filename, "size": size, "content_type": content_type}
        if sha256 is not None:
            body["sha256"] = sha256
        if checksum_algorithm is not None:
            body["checksum_algorithm"] = checksum_algorithm
        if options is not None:
            body |= options.initiate_fields()
        data = self._run("POST", "/v1/uploads", json_body=body, idempotent=False)
        single = opt_obj(data, "single")
        raw_mode = string(data, "mode")
        if raw_mode not in ("single", "multipart"):
            raise ProtocolError(f"unknown upload mode {raw_mode!r}")
        mode: Literal["single", "multipart"] = "single" if raw_mode == "single" else "multipart"
        if mode == "single" and single is None:
            raise ProtocolError("a single-request upload came without its signed request")
        return InitiatedUpload(
            upload_id=string(data, "upload_id"),
            file_id=string(data, "file_id"),
            key=string(data, "key"),
            mode=mode,
            part_size=integer(data, "part_size"),
            part_count=integer(data, "part_count"),
            expires_at=string(data, "expires_at"),
            single=_signed(single) if single is not None else None,
        )

    def sign_parts(
        self, upload_id: str, parts: Sequence[tuple[int, str | None]], *, algorithm: str = SHA256
    ) -> list[PartTarget]:
        """Presigned PUTs for `parts` ((part_number, base64 checksum or None), ...); the checksums are
        `algorithm`'s ("SHA256" or "CRC32C", the upload's `checksum_algorithm`)."""
        field = "checksum_crc32c" if algorithm == CRC32C else "checksum_sha256"
        body = {
            "parts": [
                {"part_number": number} | ({field: checksum} if checksum else {})
                for number, checksum in parts
            ]
        }
        data = self._run("POST", f"/v1/uploads/{segment(upload_id)}/parts", json_body=body)
        targets = [
            PartTarget(
                part_number=integer(item, "part_number"), size=integer(item, "size"), request=_signed(item)
            )
            for item in objects(data, "parts")
        ]
        if sorted(t.part_number for t in targets) != sorted(number for number, _ in parts):
            raise ProtocolError("the API signed other parts than those asked for")
        return targets

    def list_parts_page(self, upload_id: str, cursor: str | None = None) -> tuple[list[HeldPart], str | None]:
        params = {"cursor": cursor} if cursor else None
        data = self._run("GET", f"/v1/uploads/{segment(upload_id)}/parts", params=params)
        parts = [
            HeldPart(
                part_number=integer(item, "part_number"),
                size=integer(item, "size"),
                etag=string(item, "etag"),
                checksum_sha256=opt_string(item, "checksum_sha256"),
                checksum_crc32c=opt_string(item, "checksum_crc32c"),
            )
            for item in objects(data, "parts")
        ]
        return parts, opt_string(data, "next_cursor")

    def iter_parts(self, upload_id: str) -> Iterator[HeldPart]:
        """Every part the storage holds, following the pages."""
        cursor: str | None = None
        while True:
            parts, cursor = self.list_parts_page(upload_id, cursor)
            yield from parts
            if not cursor:
                return

    def complete(self, upload_id: str, *, sha256: str | None = None) -> CompletedUpload:
        """`sha256`: the whole file's (hex), if it was not declared at initiate (multipart only)."""
        # Repeating a completion answers the same (contract): safe to retry.
        body = {"sha256": sha256} if sha256 is not None else {}
        data = self._run("POST", f"/v1/uploads/{segment(upload_id)}/complete", json_body=body)
        return CompletedUpload(
            upload_id=string(data, "upload_id"),
            file_id=string(data, "file_id"),
            key=string(data, "key"),
            status=string(data, "status"),
            size=integer(data, "size"),
            etag=string(data, "etag"),
            sha256=opt_string(data, "sha256"),
            checksum=_object_checksum(opt_obj(data, "checksum")),
        )

    def abort(self, upload_id: str) -> AbortedUpload:
        data = self._run("DELETE", f"/v1/uploads/{segment(upload_id)}")
        return AbortedUpload(upload_id=string(data, "upload_id"), status=string(data, "status"))

    def status(self, upload_id: str) -> UploadStatus:
        data = self._run("GET", f"/v1/uploads/{segment(upload_id)}")
        return UploadStatus(
            upload_id=string(data, "upload_id"),
            file_id=string(data, "file_id"),
            status=string(data, "status"),
            filename=string(data, "filename"),
            content_type=string(data, "content_type"),
            size=opt_integer(data, "size"),
            part_size=opt_integer(data, "part_size"),
            part_count=opt_integer(data, "part_count"),
            bytes_received=integer(data, "bytes_received"),
            parts_received=opt_integer(data, "parts_received"),
            created_at=string(data, "created_at"),
            expires_at=string(data, "expires_at"),
        )

    def _run(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: Mapping[str, str] | None = None,
        idempotent: bool = True,
    ) -> Json:
        return self.requester.run(
            Call(method, path, _as_is, json_body=json_body, params=params, idempotent=idempotent)
        )


def _as_is(data: Json) -> Json:
    return data


def _object_checksum(data: Mapping[str, Any] | None) -> ObjectChecksum | None:
    if data is None:
        return None
    return ObjectChecksum(
        algorithm=string(data, "algorithm"), value=string(data, "value"), type=opt_string(data, "type")
    )


def _signed(data: Mapping[str, Any]) -> SignedRequest:
    headers = data.get("headers") or {}
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        raise ProtocolError("'headers' is not an object of strings in the API's answer")
    return SignedRequest(url=string(data, "url"), headers=dict(headers))
