"""Exact and near duplicates among ONE user's files. No boto3: the index is a port (`HashIndex`).

Each analysed image (and each video's poster) leaves an entry in its owner's index: the file id, the
content's SHA-256 (when known), its pHash and dHash. A new file is compared with every other entry of
the same owner: the same SHA-256 is an exact duplicate; a pHash within `NEAR_DUPLICATE_DISTANCE` bits
(of 64) is a near duplicate (a re-encoded, resized or lightly edited copy; unrelated photos differ in
~32 bits, and re-encodings in under 6). The index lives in the metadata table under the user's own
partition (`USER#{user}` / `IMAGEHASH#{file}`), so no query ever reads another user's entries; the
file's delete removes its entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Protocol

from fileflow_stages.analysis.hashes import hamming

NEAR_DUPLICATE_DISTANCE: Final = 10
# Links kept on the file item (the closest first); the count in the state is of all of them.
MAX_LINKS: Final = 20


@dataclass(frozen=True, slots=True)
class HashEntry:
    file_id: str
    kind: str
    phash: str | None = None
    dhash: str | None = None
    sha256: str | None = None


class HashIndex(Protocol):
    def entries(self, user_id: str) -> list[HashEntry]:
        """The user's entries (bounded: the adapter reads at most a fixed number)."""
        ...

    def put(self, user_id: str, entry: HashEntry) -> None:
        """Add or replace the file's entry; FileDeletedError if the file was deleted meanwhile."""
        ...


def find_duplicates(entry: HashEntry, others: list[HashEntry]) -> dict[str, Any]:
    exact: list[str] = []
    near: list[tuple[int, str]] = []
    for other in others:
        if other.file_id == entry.file_id:
            continue
        if entry.sha256 and other.sha256 == entry.sha256:
            exact.append(other.file_id)
            continue
        if entry.phash and other.phash and len(entry.phash) == len(other.phash):
            distance = hamming(entry.phash, other.phash)
            if distance <= NEAR_DUPLICATE_DISTANCE:
                near.append((distance, other.file_id))
    near.sort()
    return {
        "exact": sorted(exact)[:MAX_LINKS],
        "near": [{"file_id": file_id, "distance": distance} for distance, file_id in near[:MAX_LINKS]],
        "count": len(exact) + len(near),
        "threshold": NEAR_DUPLICATE_DISTANCE,
    }
