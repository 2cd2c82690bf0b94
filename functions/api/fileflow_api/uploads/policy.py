"""What an upload may be: its name, media type, size, checksums and parts. Pure checks, no I/O."""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from fileflow_api.uploads.errors import (
    InvalidChecksumError,
    InvalidContentTypeError,
    InvalidPartRequestError,
    MissingPartsError,
    PartMismatchError,
    PartNumberOutOfRangeError,
    PartSizeMismatchError,
    Sha256MismatchError,
    Sha256TooLateError,
    SizeMismatchError,
    SizeRequiredError,
    UnsupportedContentTypeError,
    UploadTooLargeError,
)
from fileflow_api.uploads.filenames import sanitize_filename
from fileflow_api.uploads.model import (
    Checksum,
    ChecksumAlgorithm,
    ClientPart,
    DeclaredSize,
    FileSize,
    PartRequest,
    StoredPart,
    UnknownSize,
    UploadMode,
    UploadSession,
    UploadStatus,
)
from fileflow_api.uploads.part_plan import S3_MAX_PARTS, S3_MAX_SINGLE_PUT_SIZE, S3_MIN_PART_SIZE, PartPlan
from fileflow_common.files import MEDIA_TYPE

_HEADER_SAFE = re.compile(r"[\x20-\x7e]*")
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_CHECKSUM_BYTES = {ChecksumAlgorithm.SHA256: 32, ChecksumAlgorithm.CRC32C: 4}
# Listing more than this many part numbers in one example of a refusal helps nobody.
_LISTED_IN_ERRORS = 20


@dataclass(frozen=True, slots=True)
class UploadPolicy:
    max_upload_size: int
    allowed_content_types: frozenset[str]
    single_put_threshold: int  # below it: one presigned PUT; from it on: multipart
    part_size: int  # the preferred part size (larger when 10,000 parts would not hold the file)
    url_ttl: timedelta
    session_ttl: timedelta
    max_parts_per_request: int = 100

    def check_file(self, filename: str, content_type: str, size: FileSize) -> tuple[str, str]:
        """The filename and media type to store, once both and the declared size are allowed."""
        name = sanitize_filename(filename)
        media_type = self.check_content_type(content_type)
        if isinstance(size, DeclaredSize):
            self.check_max_size(size.bytes)
        return name, media_type

    def check_content_type(self, raw: str) -> str:
        essence, _, parameters = raw.partition(";")
        essence = essence.strip().lower()
        parameters = parameters.strip()
        if not MEDIA_TYPE.fullmatch(essence) or not _HEADER_SAFE.fullmatch(parameters):
            raise InvalidContentTypeError("content type must be a media type such as image/png")
        if essence not in self.allowed_content_types:
            raise UnsupportedContentTypeError(f"content type {essence} is not allowed")
        return f"{essence}; {parameters}" if parameters else essence

    def check_max_size(self, size: int) -> None:
        if size > self.max_upload_size:
            raise UploadTooLargeError(
                f"{size} bytes is more than the {self.max_upload_size} bytes an upload may hold"
            )

    def check_total(self, session: UploadSession, total: int) -> None:
        """What S3 holds must be allowed, and be what the client declared (if it declared anything)."""
        self.check_max_size(total)
        match session.size:
            case DeclaredSize(bytes=declared) if declared != total:
                raise SizeMismatchError(f"the parts hold {total} bytes; the upload declared {declared}")

    def form_post_range(self, size: FileSize) -> tuple[int, int]:
        """The content-length-range of a form POST: exactly the declared size, which the quota reserved.

        A form POST has no complete that could charge a size found later, so it must declare one."""
        match size:
            case DeclaredSize(bytes=declared) if declared <= S3_MAX_SINGLE_PUT_SIZE:
                return declared, declared
            case DeclaredSize(bytes=declared):
                raise UploadTooLargeError(
                    f"{declared} bytes is more than one form POST may hold ({S3_MAX_SINGLE_PUT_SIZE})"
                )
            case UnknownSize():
                raise SizeRequiredError(
                    "a form upload must declare its size (metadata[size], in bytes);"
                    " uploads of unknown size must be multipart"
                )

    def check_part_requests(self, plan: PartPlan | None, requests: Sequence[PartRequest]) -> None:
        if not requests or len(requests) > self.max_parts_per_request:
            raise InvalidPartRequestError(
                f"sign 1 to {self.max_parts_per_request} parts per request, not {len(requests)}"
            )
        numbers = [request.part_number for request in requests]
        if len(set(numbers)) != len(numbers):
            raise InvalidPartRequestError("each part number may appear once per request")
        highest = plan.part_count if plan is not None else S3_MAX_PARTS
        out_of_range = [number for number in numbers if not 1 <= number <= highest]
        if out_of_range:
            raise PartNumberOutOfRangeError(
                f"part number {out_of_range[0]} is out of range: this upload has parts 1 to {highest}"
            )


def sha256_checksum(hex_digest: str) -> Checksum:
    """The whole-file SHA-256 (hex, as clients declare it) as S3 wants it: base64 of the digest."""
    return Checksum(ChecksumAlgorithm.SHA256, base64.b64encode(bytes.fromhex(hex_digest)).decode())


def normalize_sha256(value: str) -> str:
    digest = value.strip().lower()
    if not _SHA256_HEX.fullmatch(digest):
        raise InvalidChecksumError("sha256 must be the 64 hex digits of the file's SHA-256")
    return digest


def sha256_at_complete(session: UploadSession, given: str) -> str:
    """The whole-file SHA-256 a complete declares (hex, normalised), once it fits what the upload holds.

    Equal to one declared before: accepted (a repeated complete). Another one: 409 Sha256Mismatch. New:
    only for a multipart upload not completed yet, whose object does not exist before complete does.
    """
    digest = normalize_sha256(given)
    if session.sha256 is not None:
        if session.sha256 != digest:
            raise Sha256MismatchError(
                f"sha256 {digest} is not the {session.sha256} that upload {session.upload_id} declared"
            )
        return digest
    if session.mode is UploadMode.SINGLE:
        raise Sha256TooLateError(
            f"upload {session.upload_id} is a single PUT: its sha256 is declared at initiate, where it is "
            "signed into the PUT URL"
        )
    if session.status is UploadStatus.COMPLETED:
        raise Sha256TooLateError(
            f"upload {session.upload_id} was completed without a sha256: it can no longer be declared"
        )
    return digest


def validate_checksum(checksum: Checksum) -> Checksum:
    """A part checksum must be the base64 of a digest of the algorithm's size."""
    try:
        raw = base64.b64decode(checksum.value, validate=True)
    except ValueError as exc:
        raise InvalidChecksumError(f"{checksum.algorithm} checksum is not base64") from exc
    if len(raw) != _CHECKSUM_BYTES[checksum.algorithm]:
        raise InvalidChecksumError(
            f"{checksum.algorithm} checksum must encode {_CHECKSUM_BYTES[checksum.algorithm]} bytes"
        )
    return checksum


def part_checksum(session: UploadSession, request: PartRequest) -> Checksum | None:
    """The checksum to sign into a part's URL: exactly one of the upload's algorithm, or none."""
    expected = session.checksum_algorithm
    given = request.checksum
    if expected is None and given is not None:
        raise InvalidPartRequestError(
            "this upload was initiated without checksum_algorithm, so its parts take no checksum"
        )
    if expected is not None and (given is None or given.algorithm is not expected):
        raise InvalidPartRequestError(
            f"part {request.part_number} needs its {expected} checksum (the upload's checksum_algorithm)"
        )
    return validate_checksum(given) if given is not None else None


def parts_to_complete(
    session: UploadSession, held: list[StoredPart], client_parts: Sequence[ClientPart] | None
) -> list[StoredPart]:
    """The parts to complete with, in order: S3's (or those the client lists), checked against the plan."""
    by_number = {part.part_number: part for part in held}
    if client_parts is not None:
        chosen = _match_client_parts(by_number, client_parts)
    else:
        chosen = sorted(held, key=lambda part: part.part_number)
    plan = session.plan
    if plan is not None:
        _check_plan(plan, chosen)
    else:
        if not chosen:
            raise MissingPartsError("no part has been uploaded")
        small = [part.part_number for part in chosen[:-1] if part.size < S3_MIN_PART_SIZE]
        if small:
            raise PartSizeMismatchError(
                f"every part but the last must hold at least 5 MiB; these do not: {_listed(small)}"
            )
    return chosen


def _match_client_parts(
    by_number: dict[int, StoredPart], client_parts: Sequence[ClientPart]
) -> list[StoredPart]:
    numbers = [part.part_number for part in client_parts]
    if len(set(numbers)) != len(numbers):
        raise InvalidPartRequestError("each part number may appear once")
    missing = sorted(number for number in numbers if number not in by_number)
    if missing:
        raise MissingPartsError(f"S3 holds none of these parts: {_listed(missing)}")
    differing = sorted(
        part.part_number for part in client_parts if by_number[part.part_number].etag != part.etag.strip('"')
    )
    if differing:
        raise PartMismatchError(f"S3 holds other content (another ETag) for parts {_listed(differing)}")
    return [by_number[number] for number in sorted(numbers)]


def _check_plan(plan: PartPlan, parts: list[StoredPart]) -> None:
    present = {part.part_number for part in parts}
    missing = [number for number in range(1, plan.part_count + 1) if number not in present]
    if missing:
        raise MissingPartsError(f"{len(missing)} of {plan.part_count} parts are missing: {_listed(missing)}")
    wrong = []
    for part in parts:
        if part.part_number > plan.part_count:
            wrong.append(f"part {part.part_number} is beyond the {plan.part_count} planned parts")
        elif part.size != (planned := plan.part_length(part.part_number)):
            wrong.append(f"part {part.part_number} holds {part.size} bytes, not {planned}")
    if wrong:
        raise PartSizeMismatchError("; ".join(wrong[:_LISTED_IN_ERRORS]))


def _listed(numbers: Sequence[int]) -> str:
    shown = ", ".join(str(number) for number in numbers[:_LISTED_IN_ERRORS])
    hidden = len(numbers) - _LISTED_IN_ERRORS
    return shown + (f" and {hidden} more" if hidden > 0 else "")
