"""Whole-file integrity: the client's declared SHA-256 against the bytes the pipeline read. No boto3 here.

The upload API stores the client's `sha256` as declared. S3 checks it itself only where it was signed into
a single PUT (`x-amz-checksum-sha256`: other bytes are refused with BadDigest, and the version keeps that
FULL_OBJECT SHA-256). A multipart object's SHA-256 checksum is COMPOSITE (a hash of the parts' hashes;
S3 refuses FULL_OBJECT for SHA-256), so there the pipeline's own hash of every byte is the check.
"""

from __future__ import annotations

from enum import StrEnum

from fileflow_stages._runtime.content import RejectedContentError


class Integrity(StrEnum):
    """How the declared SHA-256 of a stored version was verified (the file item's `integrity`)."""

    STORAGE = "storage"  # S3 checked it when the version was written (its FULL_OBJECT SHA-256 is it)
    PIPELINE = "pipeline"  # the pipeline hashed every byte of the version: it matched
    MISMATCH = "mismatch"  # the pipeline hashed every byte: it did not match (the file failed)


class IntegrityMismatchError(RejectedContentError):
    """The stored bytes are not the ones the client declared: the file fails, never retried."""

    code = "IntegrityMismatch"


def verify_integrity(
    declared: str | None, *, read_sha256: str, stored_sha256: str | None
) -> Integrity | None:
    """None when nothing was declared; raises IntegrityMismatchError when the bytes read are other ones.

    `read_sha256`: the hex SHA-256 of every byte of the version, as the pipeline read it.
    `stored_sha256`: S3's FULL_OBJECT SHA-256 of the version (hex), verified by S3 at write; or None.
    """
    if declared is None:
        return None
    expected = declared.lower()
    if read_sha256 != expected:
        raise IntegrityMismatchError(
            f"the stored bytes hash to SHA-256 {read_sha256}; the upload declared {expected}"
        )
    return Integrity.STORAGE if stored_sha256 == expected else Integrity.PIPELINE
