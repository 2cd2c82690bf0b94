"""Local analysis time per image and per document page, against named peers in the same run.

    make bench-analysis   # installs imagehash (and scipy) into .venv for this bench only

- per image: `local_features()` of the analysis stage as it runs (the 1024-px thumbnail's pixels,
  pHash + dHash, EXIF of the original, OCR with faster-paddle "small", duplicates against an in-memory
  index of 100 entries), against the plain Pillow baseline every analysis pays anyway (open the
  thumbnail, decode it, convert it to RGB);
- hashes: our pHash + dHash (Pillow + numpy) against imagehash 4.3.2's `phash` + `dhash` (scipy's DCT),
  which must give the same bits on every image;
- per page: the text features of one ~450-word English page (counts, language, keywords, readability,
  entities), against a plain `str.split()` word count of the same page.
Each figure is the median of `--rounds` timed runs after one warm-up.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image

from bench.figures import record
from fileflow_stages.analysis import hashes
from fileflow_stages.analysis.duplicates import HashEntry
from fileflow_stages.analysis.features import AnalysisLimits, FileFacts, OriginalRead, Ports, local_features
from fileflow_stages.analysis.ocr import default_reader
from tests import analysis_samples

PAGE_WORDS = 450


@dataclass
class MemorySources:
    thumbnail: bytes
    original_bytes: bytes

    def derivative(self, key: str, *, max_bytes: int) -> bytes:
        return self.thumbnail

    def original(self, *, head_bytes: int) -> OriginalRead:
        return OriginalRead(
            self.original_bytes[:head_bytes],
            len(self.original_bytes),
            hashlib.sha256(self.original_bytes).hexdigest(),
        )


class MemoryIndex:
    def __init__(self, entries: int) -> None:
        self._entries = [
            HashEntry(f"f-{n}", "image", phash=f"{n * 7919:016x}", sha256=str(n)) for n in range(entries)
        ]

    def entries(self, user_id: str) -> list[HashEntry]:
        return list(self._entries)

    def put(self, user_id: str, entry: HashEntry) -> None:
        return None


def thumbnail_of(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        copy = image.convert("RGB")
    copy.thumbnail((1024, 1024))
    return analysis_samples.encode(copy, "JPEG", quality=85)


def images() -> list[tuple[str, bytes]]:
    photo = analysis_samples.encode(analysis_samples.scene(5, 4000, 3000), "JPEG", quality=90)
    return [
        ("photo 4000x3000 (3 MB JPEG)", photo),
        ("photo with EXIF + GPS 640x480", analysis_samples.jpeg_with_exif(gps=True)),
        ("rendered text PNG 900x270", analysis_samples.text_png()),
    ]


def page() -> str:
    words = analysis_samples.ENGLISH_TEXT.split()
    return " ".join(words[index % len(words)] for index in range(PAGE_WORDS))


def timed(work: Callable[[], object], rounds: int) -> float:
    work()  # warm-up: the OCR engine loads, caches fill
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        work()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    import imagehash  # bench only: make bench-analysis installs it

    reader = default_reader("small")
    index = MemoryIndex(100)
    print(
        f"{'image':<32} {'analysis ms':>12} {'Pillow ms':>10} {'ratio':>7} "
        f"{'hashes ms':>10} {'imagehash ms':>13} {'ratio':>7} same"
    )
    photo_ms: list[tuple[float, float]] = []
    hash_ms: list[tuple[float, float]] = []
    identical = True
    for name, data in images():
        thumbnail = thumbnail_of(data)
        facts = FileFacts(
            "bench",
            "f-bench",
            "image",
            len(data),
            {"derivative_records": [{"name": "thumb-1024.jpg", "key": "k"}]},
        )
        ports = Ports(MemorySources(thumbnail, data), index, reader)
        ours = timed(lambda: local_features(facts, ports, AnalysisLimits()), args.rounds)  # noqa: B023
        baseline = timed(lambda: Image.open(io.BytesIO(thumbnail)).convert("RGB"), args.rounds)  # noqa: B023
        decoded = Image.open(io.BytesIO(thumbnail)).convert("RGB")
        our_hashes = timed(lambda: (hashes.phash(decoded), hashes.dhash(decoded)), args.rounds)  # noqa: B023
        their_hashes = timed(lambda: (imagehash.phash(decoded), imagehash.dhash(decoded)), args.rounds)  # noqa: B023
        same = (hashes.phash(decoded), hashes.dhash(decoded)) == (
            str(imagehash.phash(decoded)),
            str(imagehash.dhash(decoded)),
        )
        photo_ms.append((ours * 1000, baseline * 1000))
        hash_ms.append((our_hashes * 1000, their_hashes * 1000))
        identical = identical and same
        print(
            f"{name:<32} {ours * 1000:12.1f} {baseline * 1000:10.1f} {ours / baseline:6.1f}x "
            f"{our_hashes * 1000:10.2f} {their_hashes * 1000:13.2f} {our_hashes / their_hashes:6.2f}x {same}"
        )
    text = page()
    facts = FileFacts(
        "bench", "f-page", "document", len(text), {"derivative_records": [{"name": "text.txt", "key": "k"}]}
    )
    ports = Ports(MemorySources(text.encode(), b""), index, reader)
    ours = timed(lambda: local_features(facts, ports, AnalysisLimits()), args.rounds)
    baseline = timed(lambda: len(text.split()), args.rounds)
    print(f"\n{'document page':<32} {'analysis ms':>12} {'split() ms':>10} {'ratio':>7}")
    print(
        f"{f'{PAGE_WORDS} English words':<32} {ours * 1000:12.1f} {baseline * 1000:10.3f} "
        f"{ours / baseline:6.0f}x"
    )
    record_medians(photo_ms, hash_ms, identical, (ours * 1000, baseline * 1000))


def record_medians(
    photos: list[tuple[float, float]],
    hashing: list[tuple[float, float]],
    identical: bool,
    page_ms: tuple[float, float],
) -> None:
    ours, pillow = (statistics.median(column) for column in zip(*photos, strict=True))
    record(
        "local analysis per photo, median", f"{ours:.1f} ms", f"Pillow decode {pillow:.1f} ms", ours / pillow
    )
    ours, theirs = (statistics.median(column) for column in zip(*hashing, strict=True))
    record(
        f"pHash + dHash, median ms ({'bit-identical' if identical else 'NOT identical'})",
        f"{ours:.2f} ms",
        f"imagehash {theirs:.2f} ms",
        ours / theirs,
    )
    record(
        f"local analysis per {PAGE_WORDS}-word page",
        f"{page_ms[0]:.1f} ms",
        f"str.split() {page_ms[1]:.3f} ms",
        page_ms[0] / page_ms[1],
    )


if __name__ == "__main__":
    main()
