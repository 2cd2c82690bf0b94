"""The upload API (docs/api-contract.md), one method per route, answers parsed into typed records."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote

import httpx

from fileflow_client.errors import ApiError, ApiUnreachableError, ProtocolError, api_error
from fileflow_client.retry import RETRYABLE_STATUSES, Retryable, RetryPolicy, call_with_retries

type TokenSource = str | Callable[[], str]

# A call that may have taken effect before it failed is repeated only when the server surely did
# not act on it: throttled or unavailable.
_NOT_PROCESSED_STATUSES = frozenset({429, 503})


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
        self._http = http
        self._base = api_url.rstrip("/")
        self._token = token
        self._retry = retry
        self._sleep = sleep

    @property
    def api_url(self) -> str:
        return self._base

    def initiate(
        self,
        *,
        filename: str,
        size: int,
        content_type: str,
        sha256: str | None,
        checksum_algorithm: str | None,
    ) -> InitiatedUpload:
        """`checksum_algorithm` ("SHA256"): every part will be signed with its checksum (S3 checks it)."""
        body: dict[str, Any] = {"filename": filename, "size": size, "content_type": content_type}
        if sha256 is not None:
            body["sha256"] = sha256
        if checksum_algorithm is not None:
            body["checksum_algorithm"] = checksum_algorithm
        data = self._call("POST", "/v1/uploads", json_body=body, idempotent=False)
        single = _obj(data, "single", required=False)
        raw_mode = _str(data, "mode")
        if raw_mode not in ("single", "multipart"):
            raise ProtocolError(f"unknown upload mode {raw_mode!r}")
        mode: Literal["single", "multipart"] = "single" if raw_mode == "single" else "multipart"
        if mode == "single" and single is None:
            raise ProtocolError("a single-request upload came without its signed request")
        return InitiatedUpload(
            upload_id=_str(data, "upload_id"),
            file_id=_str(data, "file_id"),
            key=_str(data, "key"),
            mode=mode,
            part_size=_int(data, "part_size"),
            part_count=_int(data, "part_count"),
            expires_at=_str(data, "expires_at"),
            single=_signed(single) if single is not None else None,
        )

    def sign_parts(self, upload_id: str, parts: Sequence[tuple[int, str | None]]) -> list[PartTarget]:
        """Presigned PUTs for `parts` ((part_number, base64 SHA-256 or None), ...)."""
        body = {
            "parts": [
                {"part_number": number} | ({"checksum_sha256": checksum} if checksum else {})
                for number, checksum in parts
            ]
        }
        data = self._call("POST", f"/v1/uploads/{_quote(upload_id)}/parts", json_body=body)
        targets = [
            PartTarget(part_number=_int(item, "part_number"), size=_int(item, "size"), request=_signed(item))
            for item in _list(data, "parts")
        ]
        if sorted(t.part_number for t in targets) != sorted(number for number, _ in parts):
            raise ProtocolError("the API signed other parts than those asked for")
        return targets

    def list_parts_page(self, upload_id: str, cursor: str | None = None) -> tuple[list[HeldPart], str | None]:
        params = {"cursor": cursor} if cursor else None
        data = self._call("GET", f"/v1/uploads/{_quote(upload_id)}/parts", params=params)
        parts = [
            HeldPart(
                part_number=_int(item, "part_number"),
                size=_int(item, "size"),
                etag=_str(item, "etag"),
                checksum_sha256=_opt_str(item, "checksum_sha256"),
            )
            for item in _list(data, "parts")
        ]
        return parts, _opt_str(data, "next_cursor")

    def iter_parts(self, upload_id: str) -> Iterator[HeldPart]:
        """Every part the storage holds, following the pages."""
        cursor: str | None = None
        while True:
            parts, cursor = self.list_parts_page(upload_id, cursor)
            yield from parts
            if not cursor:
                return

    def complete(self, upload_id: str) -> CompletedUpload:
        # Repeating a completion answers the same (contract): safe to retry.
        data = self._call("POST", f"/v1/uploads/{_quote(upload_id)}/complete", json_body={})
        return CompletedUpload(
            upload_id=_str(data, "upload_id"),
            file_id=_str(data, "file_id"),
            key=_str(data, "key"),
            status=_str(data, "status"),
            size=_int(data, "size"),
            etag=_str(data, "etag"),
            sha256=_opt_str(data, "sha256"),
            checksum=_object_checksum(_obj(data, "checksum", required=False)),
        )

    def abort(self, upload_id: str) -> AbortedUpload:
        data = self._call("DELETE", f"/v1/uploads/{_quote(upload_id)}")
        return AbortedUpload(upload_id=_str(data, "upload_id"), status=_str(data, "status"))

    def status(self, upload_id: str) -> UploadStatus:
        data = self._call("GET", f"/v1/uploads/{_quote(upload_id)}")
        return UploadStatus(
            upload_id=_str(data, "upload_id"),
            file_id=_str(data, "file_id"),
            status=_str(data, "status"),
            filename=_str(data, "filename"),
            content_type=_str(data, "content_type"),
            size=_opt_int(data, "size"),
            part_size=_opt_int(data, "part_size"),
            part_count=_opt_int(data, "part_count"),
            bytes_received=_int(data, "bytes_received"),
            parts_received=_opt_int(data, "parts_received"),
            created_at=_str(data, "created_at"),
            expires_at=_str(data, "expires_at"),
        )

    def _call(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: Mapping[str, str] | None = None,
        idempotent: bool = True,
    ) -> Mapping[str, Any]:
        url = f"{self._base}{path}"

        def attempt() -> Mapping[str, Any]:
            token = self._token() if callable(self._token) else self._token
            try:
                response = self._http.request(
                    method,
                    url,
                    json=json_body,
                    params=params,
                    headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
                )
            except httpx.TransportError as exc:
                unreachable = ApiUnreachableError(f"cannot reach the API ({method} {url}): {exc!r}")
                unreachable.__cause__ = exc
                # A refused connection never reached the server: always safe to repeat.
                if idempotent or isinstance(exc, httpx.ConnectError):
                    raise Retryable(unreachable) from exc
                raise unreachable from exc
            if response.is_success:
                return _json_object(response)
            error: ApiError = api_error(response.status_code, response.content)
            retryable = RETRYABLE_STATUSES if idempotent else _NOT_PROCESSED_STATUSES
            if response.status_code in retryable:
                raise Retryable(error, retry_after=_retry_after(response))
            raise error

        return call_with_retries(attempt, self._retry, sleep=self._sleep)


def _quote(segment: str) -> str:
    return quote(segment, safe="")


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _json_object(response: httpx.Response) -> Mapping[str, Any]:
    try:
        data = response.json()
    except (ValueError, json.JSONDecodeError) as exc:
        raise ProtocolError(f"the API answered {response.status_code} with a body that is not JSON") from exc
    if not isinstance(data, dict):
        raise ProtocolError("the API answered JSON that is not an object")
    return data


def _get(data: Mapping[str, Any], name: str) -> Any:
    if name not in data:
        raise ProtocolError(f"the API's answer lacks {name!r}")
    return data[name]


def _str(data: Mapping[str, Any], name: str) -> str:
    value = _get(data, name)
    if not isinstance(value, str):
        raise ProtocolError(f"{name!r} is not a string in the API's answer")
    return value


def _opt_str(data: Mapping[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is not None and not isinstance(value, str):
        raise ProtocolError(f"{name!r} is not a string in the API's answer")
    return value or None


def _int(data: Mapping[str, Any], name: str) -> int:
    value = _get(data, name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ProtocolError(f"{name!r} is not an integer in the API's answer")
    return value


def _opt_int(data: Mapping[str, Any], name: str) -> int | None:
    return _int(data, name) if data.get(name) is not None else None


def _list(data: Mapping[str, Any], name: str) -> list[Mapping[str, Any]]:
    value = _get(data, name)
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise ProtocolError(f"{name!r} is not a list of objects in the API's answer")
    return value


def _obj(data: Mapping[str, Any], name: str, *, required: bool = True) -> Mapping[str, Any] | None:
    value = data.get(name) if not required else _get(data, name)
    if value is None and not required:
        return None
    if not isinstance(value, dict):
        raise ProtocolError(f"{name!r} is not an object in the API's answer")
    return value


def _object_checksum(data: Mapping[str, Any] | None) -> ObjectChecksum | None:
    if data is None:
        return None
    return ObjectChecksum(
        algorithm=_str(data, "algorithm"), value=_str(data, "value"), type=_opt_str(data, "type")
    )


def _signed(data: Mapping[str, Any]) -> SignedRequest:
    headers = data.get("headers") or {}
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        raise ProtocolError("'headers' is not an object of strings in the API's answer")
    return SignedRequest(url=_str(data, "url"), headers=dict(headers))
