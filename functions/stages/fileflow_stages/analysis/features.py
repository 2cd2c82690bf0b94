"""The local features of one file, offline: what each kind's extractors make of it. No boto3 here.

Every extractor runs guarded: one that fails (corrupt, hostile or huge input, a bug) is recorded as
`{"error": "..."}` under its name and the others still run, so the stage succeeds whatever the file
holds. Failures of the platform itself (S3, DynamoDB, a file deleted meanwhile: `Ports.passthrough`)
are not features' failures: they propagate, and the workflow retries the stage.
Reads go through `Sources` (the derivatives the content stages wrote, the original), duplicates through
`HashIndex`, OCR through `TextReader`: adapters.py implements them, tests pass fakes.
"""

from __future__ import annotations

import io
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

from PIL import Image, ImageOps

from fileflow_stages.analysis import complexity, entities, exif, hashes, pixels, text
from fileflow_stages.analysis.duplicates import HashEntry, HashIndex, find_duplicates
from fileflow_stages.analysis.ocr import OcrLimits, TextReader, recognise

_FORMATS: Final = ("JPEG", "PNG", "WEBP", "GIF")
TEXT_DERIVATIVE: Final = "text.txt"
POSTER_DERIVATIVE: Final = "poster.jpg"
# Names in the features that are not features themselves (not counted in `$.analysis.features`).
_NOT_FEATURES: Final = frozenset({"kind", "findings", "complexity"})
# The video stage's facts kept in the features (the rest is on the content stage's analysis).
_VIDEO_FACTS: Final = (
    "container",
    "duration_s",
    "width",
    "height",
    "video_codec",
    "audio_codec",
    "frame_rate",
)


@dataclass(frozen=True, slots=True)
class AnalysisLimits:
    # The original is streamed (hashed whole); this much of its head is kept for EXIF (JPEG: APP1 is
    # in the first 64 KiB) and, when the whole original fits, for OCR on lossless pixels.
    original_head_bytes: int = 8 * 1024 * 1024
    # Pixels of an image decoded here (the original or a derivative); above: the feature is an error.
    max_pixels: int = 50_000_000
    max_derivative_bytes: int = 32 * 1024 * 1024
    # Text analysed (counts, entities; the language and keywords read less, text.py).
    max_text_chars: int = 1_000_000
    ocr: OcrLimits = field(default_factory=OcrLimits)


@dataclass(frozen=True, slots=True)
class OriginalRead:
    head: bytes
    size: int
    sha256: str | None  # of every byte (None when the object was larger than the read limit)

    @property
    def whole(self) -> bool:
        return len(self.head) == self.size


class Sources(Protocol):
    def derivative(self, key: str, *, max_bytes: int) -> bytes: ...

    def original(self, *, head_bytes: int) -> OriginalRead:
        """The version being processed, streamed and hashed; its first head_bytes kept."""
        ...


@dataclass(frozen=True)
class Ports:
    sources: Sources
    index: HashIndex
    reader: TextReader
    passthrough: tuple[type[BaseException], ...] = ()


@dataclass(frozen=True, slots=True)
class FileFacts:
    user_id: str
    file_id: str
    kind: str
    size: int
    job_result: dict[str, Any]
    # The declared SHA-256 once a content stage verified it (None: not declared, or not verified).
    verified_sha256: str | None = None

    def derivative_key(self, name: str) -> str | None:
        for record in self.job_result.get("derivative_records") or []:
            if isinstance(record, dict) and record.get("name") == name and record.get("key"):
                return str(record["key"])
        return None

    def largest_thumbnail(self) -> str | None:
        """The key of the largest JPEG/PNG thumbnail (`thumb-1024.jpg` by default)."""
        best: tuple[int, str] | None = None
        for record in self.job_result.get("derivative_records") or []:
            name = str(record.get("name") or "") if isinstance(record, dict) else ""
            if name.startswith("thumb-") and name.endswith((".jpg", ".png")) and record.get("key"):
                size = name.removeprefix("thumb-").rsplit(".", 1)[0]
                if size.isdigit() and (best is None or int(size) > best[0]):
                    best = (int(size), str(record["key"]))
        return best[1] if best else None


@dataclass
class LocalFeatures:
    features: dict[str, Any] = field(default_factory=dict)
    findings: list[dict[str, str]] = field(default_factory=list)
    complexity: float | None = None
    duplicates: int = 0

    @property
    def succeeded(self) -> int:
        """How many features were computed (the others hold an error)."""
        return sum(
            1
            for name, value in self.features.items()
            if name not in _NOT_FEATURES and not (isinstance(value, dict) and "error" in value)
        )

    def describe(self) -> dict[str, Any]:
        return {**self.features, "complexity": self.complexity, "findings": self.findings}


class _Run:
    def __init__(self, ports: Ports) -> None:
        self.ports = ports
        self.result = LocalFeatures()

    def guarded[T](self, name: str, compute: Callable[[], T]) -> T | None:
        try:
            return compute()
        except self.ports.passthrough:
            raise
        except Exception as exc:
            self.result.features[name] = {"error": f"{type(exc).__name__}: {str(exc)[:200]}"}
            return None

    def finding(self, code: str, message: str) -> None:
        self.result.findings.append({"code": code, "message": message})


def _open_image(data: bytes, limits: AnalysisLimits, *, decode_pixels: int | None = None) -> Image.Image:
    """Decoded (first frame, orientation applied); a JPEG over `decode_pixels` is decoded at 1/2 to 1/8."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        image = Image.open(io.BytesIO(data), formats=_FORMATS)
    pixel_count = image.width * image.height
    if pixel_count > limits.max_pixels:
        raise ValueError(f"{image.width}x{image.height} is over the {limits.max_pixels}-pixel limit")
    if decode_pixels is not None and pixel_count > decode_pixels:
        scale = math.sqrt(decode_pixels / pixel_count)
        image.draft(None, (max(1, int(image.width * scale)), max(1, int(image.height * scale))))
    image.seek(0)
    image.load()
    return ImageOps.exif_transpose(image)


def _text_features(run: _Run, content: str, *, source: str) -> None:
    """Counts, language, keywords, readability and entities of a text; its complexity."""
    stats = text.counts(content)
    described: dict[str, Any] = {"source": source, **stats}
    found = run.guarded("language", lambda: text.language(content))
    described["language"] = found
    code = found["code"] if found else None
    described["keywords"] = run.guarded("keywords", lambda: text.keywords(content, code))
    reading_ease = text.flesch_reading_ease(content) if code == "en" else None
    described["readability"] = {"flesch_reading_ease": reading_ease} if reading_ease is not None else None
    run.result.features["text"] = described
    found_entities = run.guarded("entities", lambda: entities.extract_entities(content))
    if found_entities is not None:
        run.result.features["entities"] = found_entities
        if found_entities["pii"]:
            run.finding("PersonalData", "the text holds email addresses or phone numbers (masked here)")
    words = text.WORD.findall(content)
    mean_length = sum(map(len, words)) / len(words) if words else 0.0
    if stats["words"]:
        run.result.complexity = complexity.text_complexity(
            words=stats["words"], reading_ease=reading_ease, mean_word_length=mean_length
        )


def _image_features(
    run: _Run,
    facts: FileFacts,
    working: Image.Image,
    ocr_image: Image.Image,
    *,
    source: str,
    limits: AnalysisLimits,
) -> str | None:
    """Pixels, hashes, OCR (+ its entities) and complexity of one image; returns its pHash."""
    copy = pixels.working_copy(working)
    measured = run.guarded("image", lambda: pixels.pixel_facts(copy))
    if measured is not None:
        run.result.features["image"] = {"source": source, **measured.describe()}
    computed = run.guarded("hashes", lambda: {"phash": hashes.phash(copy), "dhash": hashes.dhash(copy)})
    if computed is not None:
        run.result.features["hashes"] = computed
    ocr = run.guarded("ocr", lambda: recognise(run.ports.reader, ocr_image, limits.ocr))
    ocr_chars = 0
    if ocr is not None:
        found = entities.extract_entities(ocr["text"])
        ocr_chars = len(ocr["text"])
        ocr["text"] = entities.mask_pii(ocr["text"])
        ocr["lines"] = [{**line, "text": entities.mask_pii(line["text"])} for line in ocr["lines"]]
        run.result.features["ocr"] = ocr
        if ocr_chars:
            run.result.features["entities"] = found
            if found["pii"]:
                run.finding("PersonalData", "the image's text holds email addresses or phone numbers")
    if measured is not None:
        run.result.complexity = complexity.image_complexity(
            edge_density=measured.edge_density, colour_entropy=measured.colour_entropy, ocr_chars=ocr_chars
        )
    return computed["phash"] if computed else None


def _duplicates(run: _Run, facts: FileFacts, computed: dict[str, Any] | None, sha256: str | None) -> None:
    entry = HashEntry(
        file_id=facts.file_id,
        kind=facts.kind,
        phash=computed.get("phash") if computed else None,
        dhash=computed.get("dhash") if computed else None,
        sha256=sha256,
    )
    if entry.phash is None and entry.sha256 is None:
        return

    def compare() -> dict[str, Any]:
        found = find_duplicates(entry, run.ports.index.entries(facts.user_id))
        run.ports.index.put(facts.user_id, entry)
        return found

    found = run.guarded("duplicates", compare)
    if found is not None:
        run.result.features["duplicates"] = found
        run.result.duplicates = int(found["count"])


def _analyse_image(run: _Run, facts: FileFacts, limits: AnalysisLimits) -> None:
    original = run.guarded(
        "original", lambda: run.ports.sources.original(head_bytes=limits.original_head_bytes)
    )
    sha256 = original.sha256 if original else None
    if original is not None:
        summary = run.guarded("exif", lambda: exif.exif_summary(original.head))
        if summary is not None:
            run.result.features["exif"] = summary
            if summary.get("gps"):
                run.finding(
                    "GpsLocation", "the original's EXIF holds a GPS location (its derivatives do not)"
                )
    thumbnail = facts.largest_thumbnail()
    working: Image.Image | None = None
    source = ""
    if thumbnail is not None:
        working = run.guarded(
            "image",
            lambda: _open_image(
                run.ports.sources.derivative(thumbnail, max_bytes=limits.max_derivative_bytes), limits
            ),
        )
        source = thumbnail.rsplit("/", 1)[-1]
    # OCR reads the original's lossless pixels when it is small enough to hold (JPEG thumbnails blur text).
    ocr_image = None
    if original is not None and original.whole:
        ocr_image = run.guarded(
            "original", lambda: _open_image(original.head, limits, decode_pixels=limits.ocr.max_pixels)
        )
    if working is None and ocr_image is not None:
        working, source = ocr_image, "original"
    if working is None:
        run.result.features.setdefault("image", {"error": "no derivative or original to read"})
        return
    _image_features(run, facts, working, ocr_image or working, source=source, limits=limits)
    if "hashes" in run.result.features and sha256:
        run.result.features["hashes"]["sha256"] = sha256
    _duplicates(run, facts, _ok(run.result.features.get("hashes")), sha256)


def _ok(value: Any) -> dict[str, Any] | None:
    return value if isinstance(value, dict) and "error" not in value else None


def _analyse_video(run: _Run, facts: FileFacts, limits: AnalysisLimits) -> None:
    analysis = facts.job_result.get("analysis") or {}
    run.result.features["video"] = {
        name: analysis[name] for name in _VIDEO_FACTS if analysis.get(name) is not None
    }
    poster = facts.derivative_key(POSTER_DERIVATIVE)
    if poster is None:
        run.result.features["poster"] = {"error": "the video stage wrote no poster"}
        return
    image = run.guarded(
        "poster",
        lambda: _open_image(
            run.ports.sources.derivative(poster, max_bytes=limits.max_derivative_bytes), limits
        ),
    )
    if image is None:
        return
    _image_features(run, facts, image, image, source=POSTER_DERIVATIVE, limits=limits)
    sha256 = facts.verified_sha256
    if sha256 and "hashes" in run.result.features:
        run.result.features["hashes"]["sha256"] = sha256
    _duplicates(run, facts, _ok(run.result.features.get("hashes")), sha256)


def _analyse_document(run: _Run, facts: FileFacts, limits: AnalysisLimits) -> None:
    key = facts.derivative_key(TEXT_DERIVATIVE)
    if key is None:
        run.result.features["text"] = {"error": "the document stage wrote no text"}
        return
    raw = run.guarded("text", lambda: run.ports.sources.derivative(key, max_bytes=limits.max_text_chars * 4))
    if raw is not None:
        _text_features(
            run, raw.decode("utf-8", errors="replace")[: limits.max_text_chars], source=TEXT_DERIVATIVE
        )


def _analyse_text(run: _Run, facts: FileFacts, limits: AnalysisLimits) -> None:
    original = run.guarded("text", lambda: run.ports.sources.original(head_bytes=limits.max_text_chars * 4))
    if original is None:
        return
    encoding = str((facts.job_result.get("analysis") or {}).get("encoding") or "utf-8")
    try:
        decoded = original.head.decode(encoding, errors="replace")
    except LookupError:
        decoded = original.head.decode("utf-8", errors="replace")
    _text_features(run, decoded[: limits.max_text_chars], source="original")


_BY_KIND: Final[dict[str, Callable[[_Run, FileFacts, AnalysisLimits], None]]] = {
    "image": _analyse_image,
    "video": _analyse_video,
    "document": _analyse_document,
    "text": _analyse_text,
}


def local_features(facts: FileFacts, ports: Ports, limits: AnalysisLimits) -> LocalFeatures:
    """The features of `facts.kind` (archives and unknown kinds have none beyond the summary)."""
    run = _Run(ports)
    run.result.features["kind"] = facts.kind
    analyse = _BY_KIND.get(facts.kind)
    if analyse is not None:
        analyse(run, facts, limits)
    return run.result
