"""Local analysis on the deployed stack (issue #11's "Must show"): OCR reads the exact words of a
rendered-text PNG, and a re-encoded copy of an image is flagged as a near duplicate of the original,
both read through GET /v1/files/{id} (the analysis stage runs with its images + analysis layers)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests import analysis_samples
from tests.e2e.polling import wait_for
from tests.e2e.test_isolation import Client
from tests.e2e.uploading import upload
from tools.stack import StackOutputs
from tools.token import TokenFactory

# A cold analysis environment loads numpy, Pillow and the OCR engine: the first file takes longer.
PROCESSED_WITHIN = 180


@pytest.fixture(scope="module")
def client(stack: StackOutputs) -> Client:
    return Client(stack.api_url, TokenFactory.for_stack(stack).valid(f"e2e-analysis-{uuid.uuid4().hex[:10]}"))


def analysed(client: Client, file_id: str) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        body: dict[str, Any] = client.ok("GET", f"/v1/files/{file_id}")
        features = (body.get("analysis") or {}).get("features")
        return body if body.get("status") in ("processed", "needs_review") and features else None

    return wait_for(done, timeout=PROCESSED_WITHIN, interval=1.0, what=f"the features of {file_id}")


def test_ocr_returns_the_exact_words_of_a_rendered_text_png(client: Client) -> None:
    # Given a PNG of three lines rendered in Pillow's bundled font, uploaded through the API
    uploaded = upload(client, analysis_samples.text_png(), filename="lines.png", content_type="image/png")
    # When it is processed / Then its OCR text is the three lines, word for word, each with a confidence
    features = analysed(client, uploaded.file_id)["analysis"]["features"]
    assert features["ocr"]["text"].split("\n") == list(analysis_samples.TEXT_LINES)
    assert [line["text"] for line in features["ocr"]["lines"]] == list(analysis_samples.TEXT_LINES)
    assert all(0.8 <= line["confidence"] <= 1.0 for line in features["ocr"]["lines"])
    assert 0.0 < features["complexity"] <= 1.0


def test_a_reencoded_copy_of_an_image_is_flagged_as_a_near_duplicate_of_the_original(client: Client) -> None:
    # Given a photo, processed
    original = analysis_samples.scene_jpeg(11)
    first = upload(client, original, filename="photo.jpg", content_type="image/jpeg")
    first_features = analysed(client, first.file_id)["analysis"]["features"]
    assert first_features["duplicates"]["count"] == 0
    # When a re-encoded, resized copy of it is uploaded
    copy = upload(
        client, analysis_samples.reencoded(original), filename="copy.jpg", content_type="image/jpeg"
    )
    # Then the copy's features link the original as a near duplicate, within the threshold
    duplicates = analysed(client, copy.file_id)["analysis"]["features"]["duplicates"]
    assert [link["file_id"] for link in duplicates["near"]] == [first.file_id]
    assert duplicates["near"][0]["distance"] <= duplicates["threshold"]
    assert duplicates["exact"] == []
