"""The analysis stage's local features in the workflow, in-process on moto: OCR of a rendered PNG, the
duplicate index across one user's files (and never another's), text features of a document."""

from __future__ import annotations

from typing import Any

import pytest
from boto3.dynamodb.conditions import Key

from fileflow_stages._runtime.stage import StageContext
from fileflow_stages.analysis import handler as analysis_handler
from fileflow_stages.analysis.features import Ports
from tests import analysis_samples, samples
from tests.integration.conftest import BUCKET_NAME, Cloud
from tests.integration.processing import USER, declare, file_item, jobs_of, new_file_id, upload
from tests.integration.stages.conftest import process
from tests.integration.workflow import run_execution


def analysed(cloud: Cloud, data: bytes, *, user: str = USER, filename: str = "upload") -> tuple[str, Any]:
    file_id = new_file_id()
    declare(cloud, file_id, user=user, filename=filename)
    execution = process(upload(cloud, data, file_id=file_id, user=user))
    assert execution.status == "SUCCEEDED", execution.caught
    return file_id, execution


def test_ocr_of_a_rendered_png_reaches_the_file_item_with_its_confidences(cloud: Cloud) -> None:
    # Given a PNG of three rendered lines
    file_id, execution = analysed(cloud, analysis_samples.text_png())
    # Then the workflow got the counts only
    state = execution.state["analysis"]
    assert set(state) == {"findings", "features", "complexity", "duplicates"}
    assert state["features"] >= 4
    assert 0.0 < state["complexity"] <= 1.0
    # And the file item's analysis holds the summary and the features, the OCR text word for word
    analysis = file_item(cloud, file_id)["analysis"]
    assert analysis["summary"]["kind"] == "image"
    features = analysis["features"]
    assert features["ocr"]["text"].split("\n") == list(analysis_samples.TEXT_LINES)
    assert all(line["confidence"] > 0.8 for line in features["ocr"]["lines"])
    assert features["image"]["source"] == "thumb-1024.jpg"
    assert set(features["hashes"]) == {"phash", "dhash", "sha256"}
    # And the job's result carries them too
    [job] = jobs_of(cloud, file_id)
    assert job["result"]["features"]["ocr"]["text"] == features["ocr"]["text"]
    # And a replay of the execution computes nothing again, and gives the workflow the same counts
    again = run_execution(execution.execution_arn)
    assert again.state["analysis"] == {**state, "already_finished": True}


def test_copies_are_flagged_and_linked_among_one_users_files_only(cloud: Cloud) -> None:
    original = analysis_samples.scene_jpeg(1)
    # Given Alice's photo, and Bob's upload of the very same bytes
    first, _ = analysed(cloud, original)
    bobs, bob_execution = analysed(cloud, original, user="bob")
    # When Alice uploads a re-encoded, resized copy and the same bytes again
    near, near_execution = analysed(cloud, analysis_samples.reencoded(original))
    exact, _ = analysed(cloud, original)
    # Then the copy links her photo as a near duplicate, the same bytes as an exact one
    near_links = file_item(cloud, near)["analysis"]["features"]["duplicates"]
    assert [link["file_id"] for link in near_links["near"]] == [first]
    assert near_links["near"][0]["distance"] <= near_links["threshold"]
    assert near_execution.state["analysis"]["duplicates"] == 1
    exact_links = file_item(cloud, exact)["analysis"]["features"]["duplicates"]
    assert exact_links["exact"] == [first]
    assert [link["file_id"] for link in exact_links["near"]] == [near]
    # And Bob's copy is linked to nothing of Alice's (his index is his own partition)
    assert bob_execution.state["analysis"]["duplicates"] == 0
    assert bobs not in str(file_item(cloud, exact)["analysis"])
    index = cloud.table.query(
        KeyConditionExpression=Key("pk").eq(f"USER#{USER}") & Key("sk").begins_with("IMAGEHASH#")
    )["Items"]
    assert {item["file_id"] for item in index} == {first, near, exact}


def test_a_jpeg_with_a_location_gets_the_gps_flag_and_a_finding_but_no_coordinates(cloud: Cloud) -> None:
    file_id, _ = analysed(cloud, analysis_samples.jpeg_with_exif(gps=True))
    features = file_item(cloud, file_id)["analysis"]["features"]
    assert features["exif"]["gps"] is True
    assert features["exif"]["camera"] == "Fileflow Test Camera 1"
    assert {"code": "GpsLocation", "message": features["findings"][0]["message"]} in features["findings"]
    assert "52" not in str(features["exif"])


def test_a_document_gets_language_keywords_readability_and_masked_entities(cloud: Cloud) -> None:
    file_id, execution = analysed(cloud, samples.docx_file(), filename="report.docx")
    features = file_item(cloud, file_id)["analysis"]["features"]
    assert features["kind"] == "document"
    assert features["text"]["source"] == "text.txt"
    assert features["text"]["words"] > 0
    assert execution.state["analysis"]["complexity"] is not None


def test_a_corrupt_thumbnail_falls_back_on_the_original_and_the_file_is_still_processed(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an image whose 1024-px thumbnail is garbage by the time the analysis stage reads it
    file_id = new_file_id()
    declare(cloud, file_id, filename="upload")
    build_ports = analysis_handler.ports_for

    def corrupting(context: StageContext) -> Ports:
        cloud.s3.put_object(
            Bucket=BUCKET_NAME, Key=f"derived/{USER}/{file_id}/thumb-1024.jpg", Body=b"\xff\xd8 x"
        )
        return build_ports(context)

    monkeypatch.setattr(analysis_handler, "ports_for", corrupting)
    # When it is processed
    execution = process(upload(cloud, analysis_samples.scene_jpeg(3), file_id=file_id))
    # Then the stage succeeded, its pixel features read the (small) original, and the file is processed
    assert execution.status == "SUCCEEDED"
    item = file_item(cloud, file_id)
    assert item["analysis"]["features"]["image"]["source"] == "original"
    assert item["status"] == "processed"
