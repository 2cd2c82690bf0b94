"""Local analysis (issue #11 item 1): each extractor on its own, then the features of each kind through
fakes of the stage's ports. No network, no AWS: real Pillow, numpy, faster-paddle, langdetect and yake."""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import pytest
from PIL import Image

from fileflow_stages.analysis import complexity, entities, exif, hashes, pixels, text
from fileflow_stages.analysis.duplicates import NEAR_DUPLICATE_DISTANCE, HashEntry, find_duplicates
from fileflow_stages.analysis.features import (
    AnalysisLimits,
    FileFacts,
    LocalFeatures,
    OriginalRead,
    Ports,
    local_features,
)
from fileflow_stages.analysis.ocr import OcrLimits, OcrLine, OcrTimeoutError, default_reader, recognise
from tests import analysis_samples as samples


def image_of(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


# --- hashes ---------------------------------------------------------------------------------------------


def test_hashes_are_bit_stable_for_the_same_pixels() -> None:
    # Given the same picture, drawn twice (no codec in between)
    first, second = samples.scene(1), samples.scene(1)
    # Then pHash and dHash are the pinned values, both times (a change of the algorithm moves them)
    assert hashes.phash(first) == hashes.phash(second) == "d32525b18d25cf9c"
    assert hashes.dhash(first) == hashes.dhash(second) == "cecc2cb9b9191c20"


def test_a_reencoded_and_resized_copy_is_within_the_threshold_and_an_unrelated_image_is_far() -> None:
    original = samples.scene_jpeg(1)
    copy = samples.reencoded(original, quality=50, scale=0.5)
    unrelated = samples.scene_jpeg(2)
    near = hashes.hamming(hashes.phash(image_of(original)), hashes.phash(image_of(copy)))
    far = hashes.hamming(hashes.phash(image_of(original)), hashes.phash(image_of(unrelated)))
    assert near <= NEAR_DUPLICATE_DISTANCE < 2 * NEAR_DUPLICATE_DISTANCE < far
    assert (
        hashes.hamming(hashes.dhash(image_of(original)), hashes.dhash(image_of(copy)))
        <= NEAR_DUPLICATE_DISTANCE
    )


def test_hamming_counts_differing_bits() -> None:
    assert hashes.hamming("00ff", "00f0") == 4
    with pytest.raises(ValueError, match="lengths"):
        hashes.hamming("00", "000")


# --- pixels and complexity ------------------------------------------------------------------------------


def test_dominant_colours_are_hex_with_shares_largest_first() -> None:
    image = Image.new("RGB", (100, 100), "#ff0000")
    image.paste(Image.new("RGB", (100, 25), "#0000ff"), (0, 0))
    colours = pixels.dominant_colours(image)
    assert colours[0] == {"hex": "#ff0000", "share": 0.75}
    assert colours[1] == {"hex": "#0000ff", "share": 0.25}


def test_sharpness_drops_when_the_image_is_blurred() -> None:
    sharp = pixels.working_copy(image_of(samples.text_png()))
    blurred = sharp.resize((90, 27)).resize(sharp.size)
    assert pixels.pixel_facts(sharp).sharpness > 4 * pixels.pixel_facts(blurred).sharpness


def test_complexity_is_in_0_1_and_grows_with_edges_colours_and_text() -> None:
    flat = pixels.pixel_facts(pixels.working_copy(Image.new("RGB", (200, 200), "white")))
    busy = pixels.pixel_facts(pixels.working_copy(samples.scene(3)))
    low = complexity.image_complexity(
        edge_density=flat.edge_density, colour_entropy=flat.colour_entropy, ocr_chars=0
    )
    high = complexity.image_complexity(
        edge_density=busy.edge_density, colour_entropy=busy.colour_entropy, ocr_chars=400
    )
    assert low == 0.0
    assert 0.0 < high <= 1.0
    assert complexity.image_complexity(edge_density=1.0, colour_entropy=1.0, ocr_chars=10_000) == 1.0
    assert complexity.text_complexity(
        words=10, reading_ease=95.0, mean_word_length=4.0
    ) < complexity.text_complexity(words=3000, reading_ease=10.0, mean_word_length=4.0)


# --- EXIF --------------------------------------------------------------------------------------------------


def test_the_exif_summary_names_the_camera_and_flags_gps_without_copying_it() -> None:
    summary = exif.exif_summary(samples.jpeg_with_exif(gps=True))
    assert summary == {
        "present": True,
        "camera": "Fileflow Test Camera 1",
        "taken_at": "2026-11-30T14:15:16",
        "orientation": 1,
        "gps": True,
    }
    assert exif.exif_summary(samples.jpeg_with_exif(gps=False))["gps"] is False
    assert exif.exif_summary(samples.scene_jpeg()) == {"present": False, "gps": False}


# --- OCR ---------------------------------------------------------------------------------------------------


def test_ocr_returns_the_exact_words_of_a_rendered_png_with_confidences() -> None:
    found = recognise(default_reader("small"), image_of(samples.text_png()), OcrLimits())
    assert found["text"].split("\n") == list(samples.TEXT_LINES)
    assert [line["text"] for line in found["lines"]] == list(samples.TEXT_LINES)
    assert all(0.8 <= line["confidence"] <= 1.0 for line in found["lines"])
    assert found["truncated"] is False


@dataclass
class FixedReader:
    lines: list[OcrLine]
    calls: list[int] = field(default_factory=list)

    def read(self, png: bytes, *, timeout_s: float) -> list[OcrLine]:
        self.calls.append(image_of(png).width * image_of(png).height)
        return self.lines


def test_ocr_is_capped_in_pixels_and_text() -> None:
    reader = FixedReader([OcrLine("x" * 30, 0.9)] * 10)
    found = recognise(
        reader, Image.new("RGB", (4000, 3000), "white"), OcrLimits(max_pixels=1_000_000, max_chars=50)
    )
    assert reader.calls[0] <= 1_000_000
    assert len(found["text"]) <= 50
    assert (found["truncated"], found["line_count"]) == (True, 10)


# --- text --------------------------------------------------------------------------------------------------


def test_language_is_detected_and_deterministic() -> None:
    assert text.language(samples.ENGLISH_TEXT) == {"code": "en", "probability": 1.0}
    assert text.language(samples.GERMAN_TEXT)["code"] == "de"  # type: ignore[index]
    assert text.language("ok") is None
    # An ambiguous text: unseeded, langdetect's answer (and its probability) varies from call to call
    mixed = "ciao amigo merci beaucoup danke schön hola hello"
    assert len({str(text.language(mixed)) for _ in range(10)}) == 1


def test_flesch_reading_ease_follows_the_plain_formula() -> None:
    # 2 sentences, 9 words, 10 syllables: 206.835 - 1.015 * 9 / 2 - 84.6 * 10 / 9 = 108.3
    assert text.flesch_reading_ease("The cat sat on the mat. It was happy.") == 108.3
    assert text.syllables("table") == 2
    assert text.syllables("make") == 1
    assert text.syllables("a") == 1
    assert text.flesch_reading_ease("") is None


def test_keywords_come_from_the_text() -> None:
    found = [entry["keyword"].lower() for entry in text.keywords(samples.ENGLISH_TEXT, "en")]
    assert any("upload service" in keyword or "quarterly report" in keyword for keyword in found)


def test_entities_are_found_and_pii_is_only_kept_masked() -> None:
    found = entities.extract_entities(samples.ENGLISH_TEXT)
    assert found["emails"] == {"count": 1, "pii": True, "samples": ["o***@e***.com"]}
    assert found["phones"] == {"count": 1, "pii": True, "samples": ["***-34"]}
    assert found["urls"]["samples"] == ["https://example.org/report"]
    assert found["dates"]["samples"] == ["2026-12-31"]
    assert found["amounts"]["samples"] == ["$12,500.00"]
    assert found["pii"] is True
    assert "ops@example.com" not in str(found)
    assert "555-0134" not in str(found)
    masked = entities.mask_pii(samples.ENGLISH_TEXT)
    assert "ops@example.com" not in masked
    assert "555-0134" not in masked
    assert "o***@e***.com" in masked


# --- duplicates ---------------------------------------------------------------------------------------------


def test_duplicates_link_exact_and_near_entries_and_never_the_file_itself() -> None:
    entry = HashEntry("f-new", "image", phash="d32525b18d25cf9c", sha256="aa")
    others = [
        HashEntry("f-new", "image", phash="d32525b18d25cf9c", sha256="aa"),
        HashEntry("f-same", "image", phash="0000000000000000", sha256="aa"),
        HashEntry("f-near", "image", phash="d32525b18d25cf9f", sha256="bb"),
        HashEntry("f-far", "image", phash="2cdada4e72da3063", sha256="cc"),
    ]
    found = find_duplicates(entry, others)
    assert found["exact"] == ["f-same"]
    assert found["near"] == [{"file_id": "f-near", "distance": 2}]
    assert found["count"] == 2


# --- the features of each kind, through fakes ---------------------------------------------------------------


@dataclass
class FakeSources:
    derivatives: dict[str, bytes]
    original_bytes: bytes = b""

    def derivative(self, key: str, *, max_bytes: int) -> bytes:
        return self.derivatives[key]

    def original(self, *, head_bytes: int) -> OriginalRead:
        import hashlib

        return OriginalRead(
            self.original_bytes[:head_bytes],
            len(self.original_bytes),
            hashlib.sha256(self.original_bytes).hexdigest(),
        )


@dataclass
class FakeIndex:
    by_user: dict[str, list[HashEntry]] = field(default_factory=dict)

    def entries(self, user_id: str) -> list[HashEntry]:
        return list(self.by_user.get(user_id, []))

    def put(self, user_id: str, entry: HashEntry) -> None:
        kept = [other for other in self.by_user.get(user_id, []) if other.file_id != entry.file_id]
        self.by_user[user_id] = [*kept, entry]


def image_facts(file_id: str, user: str = "alice", name: str = "thumb-1024.jpg") -> FileFacts:
    return FileFacts(
        user_id=user,
        file_id=file_id,
        kind="image",
        size=0,
        job_result={"derivative_records": [{"name": name, "key": f"derived/{user}/{file_id}/{name}"}]},
    )


def analyse_image(
    file_id: str, data: bytes, index: FakeIndex, *, user: str = "alice", thumbnail: bytes | None = None
) -> LocalFeatures:
    facts = image_facts(file_id, user)
    sources = FakeSources({f"derived/{user}/{file_id}/thumb-1024.jpg": thumbnail or data}, data)
    return local_features(facts, Ports(sources, index, default_reader("small")), AnalysisLimits())


def test_an_image_gets_every_feature_and_a_gps_finding() -> None:
    found = analyse_image("f-1", samples.jpeg_with_exif(gps=True), FakeIndex())
    features = found.describe()
    assert set(features) >= {"kind", "image", "hashes", "exif", "ocr", "duplicates", "complexity", "findings"}
    assert features["exif"]["gps"] is True
    assert [finding["code"] for finding in features["findings"]] == ["GpsLocation"]
    assert len(features["hashes"]["phash"]) == len(features["hashes"]["dhash"]) == 16
    assert len(features["hashes"]["sha256"]) == 64
    assert 0.0 <= features["complexity"] <= 1.0
    assert not [name for name, value in features.items() if isinstance(value, dict) and "error" in value]


def test_copies_of_one_users_image_are_linked_and_another_users_are_not() -> None:
    index = FakeIndex()
    original = samples.scene_jpeg(1)
    analyse_image("f-original", original, index)
    analyse_image("f-other-user", original, index, user="bob")
    # The same bytes again: an exact duplicate; a re-encoded copy: a near one
    exact = analyse_image("f-exact", original, index)
    near = analyse_image("f-near", samples.reencoded(original), index)
    unrelated = analyse_image("f-unrelated", samples.scene_jpeg(2), index)
    assert exact.features["duplicates"]["exact"] == ["f-original"]
    assert [link["file_id"] for link in near.features["duplicates"]["near"]] == ["f-exact", "f-original"]
    assert near.duplicates == 2
    assert unrelated.features["duplicates"]["count"] == 0
    assert "f-other-user" not in str([exact.features, near.features])


def test_a_corrupt_derivative_falls_back_on_the_small_original() -> None:
    found = analyse_image("f-bad", samples.scene_jpeg(1), FakeIndex(), thumbnail=b"\xff\xd8 not a jpeg")
    # The thumbnail failed to decode: the pixel features come from the (small) original instead ...
    assert found.features["image"]["source"] == "original"
    # ... and the original's EXIF and hashes are there
    assert found.features["exif"] == {"present": False, "gps": False}
    assert "phash" in found.features["hashes"]


def test_hostile_input_never_raises() -> None:
    facts = image_facts("f-hostile")
    sources = FakeSources(
        {"derived/alice/f-hostile/thumb-1024.jpg": b"GIF89a\x00\x00"}, b"\x89PNG\r\n\x1a\n garbage"
    )
    found = local_features(facts, Ports(sources, FakeIndex(), default_reader("small")), AnalysisLimits())
    assert "error" in found.features["image"]
    assert "error" in found.features["exif"]
    assert found.complexity is None


@dataclass
class SlowReader:
    def read(self, png: bytes, *, timeout_s: float) -> list[OcrLine]:
        raise OcrTimeoutError(f"OCR took longer than {timeout_s:g} s")


def test_an_ocr_timeout_is_recorded_and_the_rest_stands() -> None:
    facts = image_facts("f-slow")
    data = samples.text_png()
    sources = FakeSources({"derived/alice/f-slow/thumb-1024.jpg": data}, data)
    found = local_features(facts, Ports(sources, FakeIndex(), SlowReader()), AnalysisLimits())
    assert found.features["ocr"] == {"error": "OcrTimeoutError: OCR took longer than 15 s"}
    assert "phash" in found.features["hashes"]


def test_a_platform_failure_propagates_so_the_stage_is_retried() -> None:
    class DownError(Exception):
        pass

    class DownIndex(FakeIndex):
        def entries(self, user_id: str) -> list[HashEntry]:
            raise DownError("DynamoDB is down")

    data = samples.scene_jpeg(1)
    sources = FakeSources({"derived/alice/f-1/thumb-1024.jpg": data}, data)
    with pytest.raises(DownError):
        local_features(
            image_facts("f-1"),
            Ports(sources, DownIndex(), default_reader("small"), (DownError,)),
            AnalysisLimits(),
        )


def test_a_document_gets_text_features_with_pii_masked() -> None:
    facts = FileFacts(
        user_id="alice",
        file_id="f-doc",
        kind="document",
        size=0,
        job_result={"derivative_records": [{"name": "text.txt", "key": "derived/alice/f-doc/text.txt"}]},
    )
    sources = FakeSources({"derived/alice/f-doc/text.txt": samples.ENGLISH_TEXT.encode()})
    found = local_features(facts, Ports(sources, FakeIndex(), default_reader("small")), AnalysisLimits())
    described = found.describe()
    assert described["text"]["language"]["code"] == "en"
    assert described["text"]["words"] == len(text.WORD.findall(samples.ENGLISH_TEXT))
    assert described["text"]["readability"]["flesch_reading_ease"] == text.flesch_reading_ease(
        samples.ENGLISH_TEXT
    )
    assert described["entities"]["emails"]["count"] == 1
    assert [finding["code"] for finding in described["findings"]] == ["PersonalData"]
    assert "ops@example.com" not in str(described)
    assert 0.0 < described["complexity"] <= 1.0


def test_a_text_file_is_read_from_its_original() -> None:
    facts = FileFacts(
        user_id="alice", file_id="f-txt", kind="text", size=0, job_result={"analysis": {"encoding": "utf-8"}}
    )
    sources = FakeSources({}, samples.GERMAN_TEXT.encode())
    found = local_features(facts, Ports(sources, FakeIndex(), default_reader("small")), AnalysisLimits())
    assert found.features["text"]["language"]["code"] == "de"
    assert found.features["text"]["readability"] is None  # Flesch is for English only


def test_a_video_gets_its_metadata_and_its_posters_ocr_and_hashes() -> None:
    poster = samples.text_png()
    facts = FileFacts(
        user_id="alice",
        file_id="f-video",
        kind="video",
        size=0,
        job_result={
            "analysis": {"container": "mp4", "duration_s": 2.0, "width": 1280, "height": 720, "hls": {}},
            "derivative_records": [{"name": "poster.jpg", "key": "derived/alice/f-video/poster.jpg"}],
        },
    )
    sources = FakeSources({"derived/alice/f-video/poster.jpg": poster})
    found = local_features(facts, Ports(sources, FakeIndex(), default_reader("small")), AnalysisLimits())
    assert found.features["video"] == {"container": "mp4", "duration_s": 2.0, "width": 1280, "height": 720}
    assert found.features["ocr"]["text"].split("\n") == list(samples.TEXT_LINES)
    assert "phash" in found.features["hashes"]
