"""An in-memory Fileflow for the SDK's tests: the upload API (docs/api-contract.md) and the storage
behind its presigned URLs, served through `httpx.MockTransport`.

It emulates what the client depends on, the way S3 and the API behave, not what a test wants:
- presigned URLs carry a signature over the method, path, query and signed headers (as SigV4
  presigning does) and an expiry: a changed or missing signed header -> 403 SignatureDoesNotMatch,
  a late request -> 403 AccessDenied "Request has expired";
- a part PUT with x-amz-checksum-sha256 is refused (400 BadDigest) unless the body matches it;
  no Content-Length -> 411 MissingContentLength; an aborted or completed upload -> 404 NoSuchUpload;
  a part uploaded again replaces the earlier one;
- ListParts pages in part-number order after a marker, `page_size` parts a page, sizes, ETags
  (MD5) and the checksum as stored; a multipart object's ETag is MD5(part MD5s)-N;
- complete needs every planned part, each of its planned size; repeating it answers the same;
- /v1/* without the right bearer token -> 401 {"message": "Unauthorized"} (API Gateway's answer).
Faults can be queued for the next storage or API requests (statuses or connection errors).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import crc32c
import httpx

API_URL = "https://api.fileflow.test/prod"
STORAGE_HOST = "uploads.s3.fileflow.test"
TOKEN = "token-of-alice"
_SECRET = b"fake-signing-key"


@dataclass
class FakePart:
    data: bytes
    etag: str
    checksum_sha256: str | None
    checksum_crc32c: str | None = None


@dataclass
class FakeUpload:
    upload_id: str
    file_id: str
    key: str
    filename: str
    content_type: str
    size: int
    sha256: str | None
    mode: str
    part_size: int
    part_count: int
    checksum_algorithm: str | None = None
    single_checksum: str | None = None  # x-amz-checksum-sha256 of a single PUT, as stored
    expires_at: str = "2030-01-01T00:00:00+00:00"
    status: str = "initiated"
    parts: dict[int, FakePart] = field(default_factory=dict)
    completion: dict[str, Any] | None = None


@dataclass
class Fault:
    status: int | None = None
    exception: type[httpx.TransportError] | None = None
    # for exceptions: whether the storage had already stored the part (the answer was lost)
    after_store: bool = False
    retry_after: str | None = None


class FakeFileflow:
    def __init__(
        self,
        *,
        part_size: int = 64 * 1024,
        single_limit: int = 64 * 1024,
        max_size: int = 1 << 40,
        accepted_types: tuple[str, ...] | None = None,
        page_size: int = 1000,
        list_checksums: bool = True,
        url_ttl: float = 900.0,
        max_parts_per_request: int = 100,
    ) -> None:
        self.part_size = part_size
        self.single_limit = single_limit
        self.max_size = max_size
        self.accepted_types = accepted_types
        self.page_size = page_size
        self.list_checksums = list_checksums
        self.url_ttl = url_ttl
        self.max_parts_per_request = max_parts_per_request
        self.now = 1_000_000.0
        self.uploads: dict[str, FakeUpload] = {}
        self.objects: dict[str, bytes] = {}
        # what happened, for the tests' assertions
        self.stored_parts: list[tuple[str, int]] = []  # (upload id, part number) each time a part is stored
        self.put_attempts: Counter[int] = Counter()  # part number -> PUTs received
        self.api_calls: list[tuple[str, str]] = []
        self.api_bodies: list[tuple[str, str, dict[str, Any]]] = []  # (method, path, JSON body)
        self.signed_batches: list[list[int]] = []
        self.storage_faults: deque[Fault] = deque()
        # called by each part PUT, unlocked, before the part is stored (tests of concurrency)
        self.before_store: Callable[[], object] | None = None
        self.api_faults: deque[Fault] = deque()
        self._lock = threading.Lock()
        self._ids = 0

    # --- set-up and inspection -----------------------------------------------------------------
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def fail_storage(self, *faults: Fault) -> None:
        self.storage_faults.extend(faults)

    def fail_api(self, *faults: Fault) -> None:
        self.api_faults.extend(faults)

    def parts_sent_to(self, upload_id: str) -> list[int]:
        return [number for uid, number in self.stored_parts if uid == upload_id]

    def only_upload(self) -> FakeUpload:
        assert len(self.uploads) == 1, list(self.uploads)
        return next(iter(self.uploads.values()))

    # --- dispatch --------------------------------------------------------------------------------
    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == STORAGE_HOST:
            return self._storage(request)
        return self._api(request)

    def _next_fault(self, faults: deque[Fault]) -> Fault | None:
        with self._lock:
            return faults.popleft() if faults else None

    # --- the API ---------------------------------------------------------------------------------
    def _api(self, request: httpx.Request) -> httpx.Response:
        prefix = urlsplit(API_URL).path
        path = request.url.path.removeprefix(prefix)
        self.api_calls.append((request.method, path))
        fault = self._next_fault(self.api_faults)
        if fault is not None:
            if fault.exception is not None:
                raise fault.exception("connection reset by fake", request=request)
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            return _error(fault.status or 500, "InternalError", "fault injected", headers=headers)
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return httpx.Response(401, json={"message": "Unauthorized"})
        segments = path.strip("/").split("/")
        body = json.loads(request.content) if request.content else {}
        self.api_bodies.append((request.method, path, body))
        with self._lock:
            match request.method, segments:
                case "POST", ["v1", "uploads"]:
                    return self._initiate(body)
                case "POST", ["v1", "uploads", upload_id, "parts"]:
                    return self._sign_parts(upload_id, body)
                case "GET", ["v1", "uploads", upload_id, "parts"]:
                    return self._list_parts(upload_id, request.url.params.get("cursor"))
                case "POST", ["v1", "uploads", upload_id, "complete"]:
                    return self._complete(upload_id, body.get("sha256"))
                case "DELETE", ["v1", "uploads", upload_id]:
                    return self._abort(upload_id)
                case "GET", ["v1", "uploads", upload_id]:
                    return self._status(upload_id)
        return _error(404, "NotFound", "no such route")

    def _initiate(self, body: dict[str, Any]) -> httpx.Response:
        size, content_type = body["size"], body["content_type"]
        if size > self.max_size:
            return _error(413, "UploadTooLarge", f"files are limited to {self.max_size} bytes")
        if self.accepted_types is not None and content_type not in self.accepted_types:
            return _error(415, "UnsupportedContentType", f"{content_type} is not accepted")
        self._ids += 1
        upload_id, file_id = f"up{self._ids:04d}", f"file{self._ids:04d}"
        single = size <= self.single_limit
        upload = FakeUpload(
            upload_id=upload_id,
            file_id=file_id,
            key=f"uploads/alice/{file_id}",
            filename=body["filename"],
            content_type=content_type,
            size=size,
            sha256=body.get("sha256"),
            mode="single" if single else "multipart",
            part_size=size if single else self.part_size,
            part_count=1 if single else max(1, -(-size // self.part_size)),
            checksum_algorithm=body.get("checksum_algorithm"),
        )
        self.uploads[upload_id] = upload
        answer: dict[str, Any] = {
            "upload_id": upload_id,
            "file_id": file_id,
            "key": upload.key,
            "mode": upload.mode,
            "part_size": upload.part_size,
            "part_count": upload.part_count,
            "expires_at": upload.expires_at,
        }
        if single:
            headers = {"content-type": content_type}
            if upload.sha256:
                headers["x-amz-checksum-sha256"] = base64.b64encode(bytes.fromhex(upload.sha256)).decode()
            answer["single"] = self._presign(upload, part_number=None, headers=headers)
        return httpx.Response(201, json=answer)

    def _session(self, upload_id: str) -> FakeUpload | httpx.Response:
        upload = self.uploads.get(upload_id)
        if upload is None:
            return _error(404, "UploadNotFound", f"no upload {upload_id}")
        return upload

    def _sign_parts(self, upload_id: str, body: dict[str, Any]) -> httpx.Response:
        upload = self._session(upload_id)
        if isinstance(upload, httpx.Response):
            return upload
        if upload.status != "initiated":
            return _error(409, "UploadNotActive", f"upload is {upload.status}")
        asked = body["parts"]
        if not 1 <= len(asked) <= self.max_parts_per_request:
            return _error(422, "InvalidPartRequest", f"ask for 1 to {self.max_parts_per_request} parts")
        self.signed_batches.append([item["part_number"] for item in asked])
        parts = []
        for item in asked:
            number = item["part_number"]
            if not 1 <= number <= upload.part_count:
                return _error(400, "PartNumberOutOfRange", f"part {number} is not in 1..{upload.part_count}")
            # like the API: parts carry a checksum exactly when the upload was initiated with one, of its kind
            given = {name for name in ("SHA256", "CRC32C") if item.get(f"checksum_{name.lower()}")}
            if given != ({upload.checksum_algorithm} if upload.checksum_algorithm else set()):
                return _error(422, "InvalidPartRequest", f"part {number}: checksum does not fit the upload")
            headers = {f"x-amz-checksum-{name.lower()}": item[f"checksum_{name.lower()}"] for name in given}
            signed = self._presign(upload, part_number=number, headers=headers)
            parts.append({"part_number": number, "size": self._planned_size(upload, number)} | signed)
        return httpx.Response(200, json={"parts": parts, "expires_at": upload.expires_at})

    def _list_parts(self, upload_id: str, cursor: str | None) -> httpx.Response:
        upload = self._session(upload_id)
        if isinstance(upload, httpx.Response):
            return upload
        if upload.status != "initiated":
            return _error(409, "UploadNotActive", f"upload is {upload.status}")
        marker = int(base64.urlsafe_b64decode(cursor).decode()) if cursor else 0
        numbers = sorted(number for number in upload.parts if number > marker)
        page, truncated = numbers[: self.page_size], len(numbers) > self.page_size
        parts = []
        for number in page:
            part = upload.parts[number]
            item: dict[str, Any] = {"part_number": number, "size": len(part.data), "etag": part.etag}
            # S3 lists a part's checksum only for an upload created with a checksum algorithm
            if self.list_checksums and upload.checksum_algorithm == "SHA256" and part.checksum_sha256:
                item["checksum_sha256"] = part.checksum_sha256
            if self.list_checksums and upload.checksum_algorithm == "CRC32C" and part.checksum_crc32c:
                item["checksum_crc32c"] = part.checksum_crc32c
            parts.append(item)
        next_cursor = base64.urlsafe_b64encode(str(page[-1]).encode()).decode() if truncated else None
        return httpx.Response(200, json={"parts": parts, "next_cursor": next_cursor})

    def _complete(self, upload_id: str, sha256: str | None) -> httpx.Response:
        upload = self._session(upload_id)
        if isinstance(upload, httpx.Response):
            return upload
        # like the API: a sha256 at complete is the upload's, unless it declared another or is a single PUT
        if sha256 is not None:
            if upload.sha256 not in (None, sha256):
                return _error(409, "Sha256Mismatch", f"sha256 {sha256} is not the {upload.sha256} declared")
            if upload.sha256 is None and (upload.mode == "single" or upload.completion is not None):
                return _error(409, "Sha256TooLate", "this upload cannot take a sha256 at complete")
            upload.sha256 = sha256
        if upload.completion is not None:
            return httpx.Response(200, json=upload.completion)
        if upload.status != "initiated":
            return _error(409, "UploadNotActive", f"upload is {upload.status}")
        if upload.mode == "single":
            data = self.objects.get(upload.key)
            if data is None:
                return _error(409, "NotUploaded", "nothing was uploaded")
            etag = hashlib.md5(data, usedforsecurity=False).hexdigest()
            checksum = None
            if upload.single_checksum is not None:
                checksum = {"algorithm": "SHA256", "value": upload.single_checksum, "type": "FULL_OBJECT"}
        else:
            missing = [n for n in range(1, upload.part_count + 1) if n not in upload.parts]
            if missing:
                return _error(409, "MissingParts", f"parts missing: {missing}")
            wrong = [n for n, p in upload.parts.items() if len(p.data) != self._planned_size(upload, n)]
            if wrong:
                return _error(409, "PartSizeMismatch", f"parts of the wrong size: {wrong}")
            ordered = [upload.parts[n] for n in range(1, upload.part_count + 1)]
            checksum = None
            if upload.checksum_algorithm == "SHA256":
                digests = b"".join(base64.b64decode(part.checksum_sha256 or "") for part in ordered)
                composite = base64.b64encode(hashlib.sha256(digests).digest()).decode()
                checksum = {
                    "algorithm": "SHA256",
                    "value": f"{composite}-{len(ordered)}",
                    "type": "COMPOSITE",
                }
            elif upload.checksum_algorithm == "CRC32C":
                crcs = b"".join(base64.b64decode(part.checksum_crc32c or "") for part in ordered)
                composite = base64.b64encode(crc32c.crc32c(crcs).to_bytes(4, "big")).decode()
                checksum = {
                    "algorithm": "CRC32C",
                    "value": f"{composite}-{len(ordered)}",
                    "type": "COMPOSITE",
                }
            data = b"".join(part.data for part in ordered)
            joined = b"".join(bytes.fromhex(part.etag.strip('"')) for part in ordered)
            etag = f"{hashlib.md5(joined, usedforsecurity=False).hexdigest()}-{len(ordered)}"
            self.objects[upload.key] = data
        upload.status = "completed"
        upload.completion = {
            "upload_id": upload.upload_id,
            "file_id": upload.file_id,
            "key": upload.key,
            "status": "completed",
            "size": len(data),
            "etag": f'"{etag}"',
            "sha256": upload.sha256,
            "checksum": checksum,
        }
        return httpx.Response(200, json=upload.completion)

    def _abort(self, upload_id: str) -> httpx.Response:
        upload = self._session(upload_id)
        if isinstance(upload, httpx.Response):
            return upload
        if upload.status == "aborted":  # repeatable, like the API's
            return httpx.Response(200, json={"upload_id": upload_id, "status": "aborted"})
        if upload.status != "initiated":
            return _error(409, "UploadNotActive", f"upload is {upload.status}")
        upload.status = "aborted"
        upload.parts.clear()
        return httpx.Response(200, json={"upload_id": upload_id, "status": "aborted"})

    def _status(self, upload_id: str) -> httpx.Response:
        upload = self._session(upload_id)
        if isinstance(upload, httpx.Response):
            return upload
        received = sum(len(part.data) for part in upload.parts.values())
        return httpx.Response(
            200,
            json={
                "upload_id": upload.upload_id,
                "file_id": upload.file_id,
                "status": upload.status,
                "filename": upload.filename,
                "size": upload.size,
                "content_type": upload.content_type,
                "part_size": upload.part_size,
                "part_count": upload.part_count,
                "bytes_received": received,
                "parts_received": len(upload.parts),
                "created_at": "2026-05-04T10:00:00+00:00",
                "expires_at": upload.expires_at,
            },
        )

    @staticmethod
    def _planned_size(upload: FakeUpload, number: int) -> int:
        return (
            upload.part_size if number < upload.part_count else upload.size - (number - 1) * upload.part_size
        )

    # --- presigning and the storage --------------------------------------------------------------
    def _presign(
        self, upload: FakeUpload, *, part_number: int | None, headers: dict[str, str]
    ) -> dict[str, Any]:
        query: dict[str, str] = {}
        if part_number is not None:
            query |= {"partNumber": str(part_number), "uploadId": f"s3-{upload.upload_id}"}
        query |= {
            "X-Amz-Date": str(self.now),
            "X-Amz-Expires": str(int(self.url_ttl)),
            "X-Amz-SignedHeaders": ";".join(["host", *sorted(headers)]),
        }
        path = f"/{upload.key}"
        query["X-Amz-Signature"] = _signature("PUT", path, query, headers)
        return {"url": f"https://{STORAGE_HOST}{path}?{urlencode(query)}", "headers": headers}

    def _storage(self, request: httpx.Request) -> httpx.Response:
        query = dict(parse_qsl(request.url.query.decode()))
        part_number = int(query["partNumber"]) if "partNumber" in query else None
        with self._lock:
            if part_number is not None:
                self.put_attempts[part_number] += 1
        fault = self._next_fault(self.storage_faults)
        if fault is not None and fault.exception is None:
            return _s3_error(fault.status or 500, "InternalError", "We encountered an internal error.")
        if request.method != "PUT":
            return _s3_error(405, "MethodNotAllowed", "The specified method is not allowed")
        signed_names = query.get("X-Amz-SignedHeaders", "").split(";")
        signed = {name: request.headers.get(name, "") for name in signed_names if name != "host"}
        unsigned_query = {k: v for k, v in query.items() if k != "X-Amz-Signature"}
        if not hmac.compare_digest(
            _signature("PUT", request.url.path, unsigned_query, signed), query.get("X-Amz-Signature", "")
        ):
            return _s3_error(
                403, "SignatureDoesNotMatch", "The request signature we calculated does not match"
            )
        if self.now > float(query["X-Amz-Date"]) + float(query["X-Amz-Expires"]):
            return _s3_error(403, "AccessDenied", "Request has expired")
        if "content-length" not in request.headers:
            return _s3_error(411, "MissingContentLength", "You must provide the Content-Length HTTP header.")
        data = request.content
        checksum = request.headers.get("x-amz-checksum-sha256")
        if checksum is not None and checksum != base64.b64encode(hashlib.sha256(data).digest()).decode():
            return _s3_error(
                400, "BadDigest", "The SHA256 you specified did not match the calculated checksum."
            )
        crc = request.headers.get("x-amz-checksum-crc32c")
        if crc is not None and crc != base64.b64encode(crc32c.crc32c(data).to_bytes(4, "big")).decode():
            return _s3_error(
                400, "BadDigest", "The CRC32C you specified did not match the calculated checksum."
            )
        etag = f'"{hashlib.md5(data, usedforsecurity=False).hexdigest()}"'
        if self.before_store is not None and part_number is not None:
            self.before_store()
        with self._lock:
            upload = self._upload_at(request.url.path, query)
            if upload is None:
                return _s3_error(404, "NoSuchUpload", "The specified upload does not exist.")
            if fault is not None and not fault.after_store:
                assert fault.exception is not None
                raise fault.exception("connection reset by fake", request=request)
            if part_number is None:
                self.objects[upload.key] = data
                upload.single_checksum = checksum
            else:
                upload.parts[part_number] = FakePart(
                    data=data, etag=etag, checksum_sha256=checksum, checksum_crc32c=crc
                )
                self.stored_parts.append((upload.upload_id, part_number))
        if fault is not None:
            assert fault.exception is not None
            raise fault.exception("connection reset by fake after the part was stored", request=request)
        return httpx.Response(200, headers={"ETag": etag})

    def _upload_at(self, path: str, query: dict[str, str]) -> FakeUpload | None:
        key = path.lstrip("/")
        for upload in self.uploads.values():
            if upload.key != key:
                continue
            if "uploadId" in query:
                return (
                    upload
                    if query["uploadId"] == f"s3-{upload.upload_id}" and upload.status == "initiated"
                    else None
                )
            return upload if upload.mode == "single" else None
        return None


def _signature(method: str, path: str, query: dict[str, str], headers: dict[str, str]) -> str:
    canonical = "\n".join(
        [
            method,
            path,
            urlencode(sorted(query.items())),
            *(f"{k.lower()}:{v}" for k, v in sorted(headers.items())),
        ]
    )
    return hmac.new(_SECRET, canonical.encode(), hashlib.sha256).hexdigest()


def _error(status: int, code: str, message: str, *, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json={"error": {"code": code, "message": message}}, headers=headers)


def _s3_error(status: int, code: str, message: str) -> httpx.Response:
    body = f"<?xml version='1.0'?><Error><Code>{code}</Code><Message>{message}</Message></Error>"
    return httpx.Response(status, content=body.encode(), headers={"Content-Type": "application/xml"})
