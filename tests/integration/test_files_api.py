"""/v1/files and /v1/audit through the Lambda handler, against moto: uploads made through the API,
processed by the processor handler in-process, then listed, searched, read, tagged and deleted.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest
import requests
from boto3.dynamodb.conditions import Key

from tests import samples
from tests.integration.api_requests import ALICE, BOB, Answer, call, call_with
from tests.integration.conftest import AUDIT_TABLE_NAME, BUCKET_NAME, Cloud, FakeLambdaContext
from tests.integration.workflow import deliver, raw_message, s3_notification


@pytest.fixture
def api(cloud: Cloud, lambda_context: FakeLambdaContext) -> FakeLambdaContext:
    # Like the deployed bucket: versioned, so a delete must remove every version
    cloud.s3.put_bucket_versioning(Bucket=BUCKET_NAME, VersioningConfiguration={"Status": "Enabled"})
    return lambda_context


def upload(
    api: FakeLambdaContext, data: bytes, *, filename: str, content_type: str, user: str = ALICE
) -> dict[str, Any]:
    """initiate -> PUT to the presigned URL -> complete, as a client does."""
    started = call(
        api,
        "POST",
        "/v1/uploads",
        body={"filename": filename, "size": len(data), "content_type": content_type},
        user=user,
    )
    assert started.status == 201, started.body
    single = started.body["single"]
    put = requests.put(single["url"], data=data, headers=single["headers"], timeout=30)
    assert put.status_code == 200, put.text
    completed = call(api, "POST", f"/v1/uploads/{started.body['upload_id']}/complete", user=user)
    assert completed.status == 200, completed.body
    return dict(started.body)


def process(cloud: Cloud, api: FakeLambdaContext, key: str, *, version_id: str | None = None) -> None:
    """Deliver the object's ObjectCreated notification to the starter, as SQS would, then run the workflow."""
    head = (
        cloud.s3.head_object(Bucket=BUCKET_NAME, Key=key, VersionId=version_id)
        if version_id
        else (cloud.s3.head_object(Bucket=BUCKET_NAME, Key=key))
    )
    notification = s3_notification(
        key,
        size=head["ContentLength"],
        etag=head["ETag"].strip('"'),
        version_id=head["VersionId"],
        sequencer=f"{time.time_ns():020X}",
    )
    assert deliver([raw_message(notification)], api).response == {"batchItemFailures": []}


def processed_image(cloud: Cloud, api: FakeLambdaContext, *, filename: str = "Holiday.png") -> dict[str, Any]:
    upload_ = upload(api, samples.png(), filename=filename, content_type="image/png")
    process(cloud, api, upload_["key"])
    return upload_


def object_versions(cloud: Cloud, prefix: str) -> list[str]:
    listed = cloud.s3.list_object_versions(Bucket=BUCKET_NAME, Prefix=prefix)
    return [entry["Key"] for entry in [*listed.get("Versions", []), *listed.get("DeleteMarkers", [])]]


def listed_ids(answer: Answer) -> list[str]:
    assert answer.status == 200, answer.body
    return [file["file_id"] for file in answer.body["files"]]


def flat(pages: list[list[str]]) -> list[str]:
    return [file_id for page in pages for file_id in page]


def all_pages(api: FakeLambdaContext, path: str, query: dict[str, str]) -> list[list[str]]:
    pages, cursor = [], None
    while True:
        answer = call(api, "GET", path, query={**query, **({"cursor": cursor} if cursor else {})})
        pages.append(listed_ids(answer))
        cursor = answer.body["next_cursor"]
        if cursor is None:
            return pages


# --- get ----------------------------------------------------------------------------------------------------


def test_a_processed_file_shows_its_derivatives_jobs_and_lineage_with_short_lived_downloads(
    api: FakeLambdaContext, cloud: Cloud
) -> None:
    # Given a PNG uploaded through the API and processed
    uploaded = processed_image(cloud, api)
    # When its owner reads it
    answer = call(api, "GET", f"/v1/files/{uploaded['file_id']}")
    # Then its metadata, detected type and analysis are there
    assert answer.status == 200, answer.body
    body = answer.body
    assert (body["filename"], body["status"], body["detected_type"]) == (
        "Holiday.png",
        "processed",
        "image/png",
    )
    assert body["analysis"]["width"] == 320
    # And each derivative has a presigned GET of its own key, under the owner's prefix, for 5 minutes
    assert len(body["derivatives"]) == 6
    for derivative in body["derivatives"]:
        assert derivative["key"].startswith(f"derived/{ALICE}/{uploaded['file_id']}/")
        assert "X-Amz-Expires=300" in derivative["download"]["url"]
        assert "X-Amz-Signature=" in derivative["download"]["url"]
        fetched = requests.get(derivative["download"]["url"], timeout=30)
        assert fetched.status_code == 200
        assert len(fetched.content) == derivative["size"]
    # And the original downloads (this version, under its stored name)
    original = body["original"]
    assert original["key"] == uploaded["key"]
    assert f"versionId={original['version_id']}" in original["download"]["url"]
    assert requests.get(original["download"]["url"], timeout=30).content == samples.png()
    # And the job history and the lineage: upload session -> original version -> job -> derivatives
    [job] = body["jobs"]
    assert (job["task"], job["status"], job["attempts"]) == ("image_renditions", "succeeded", 1)
    lineage = body["lineage"]
    assert lineage["upload"]["upload_id"] == uploaded["upload_id"]
    assert lineage["upload"]["status"] == "completed"
    assert lineage["original"] == {
        "key": uploaded["key"],
        "version_id": original["version_id"],
        "etag": body["etag"],
    }
    assert lineage["jobs"][0]["source"] == lineage["original"]
    assert sorted(lineage["jobs"][0]["derivatives"]) == sorted(d["key"] for d in body["derivatives"])


def test_unknown_malformed_and_other_users_files_are_all_404(api: FakeLambdaContext, cloud: Cloud) -> None:
    uploaded = processed_image(cloud, api)
    for file_id, user in (
        (uploaded["file_id"], BOB),
        ("no-such-file", ALICE),
        ("bad!id", ALICE),
        ("x" * 65, ALICE),
    ):
        # When a file that is not the caller's is read / Then 404 FileNotFound, nothing signed
        answer = call(api, "GET", f"/v1/files/{file_id}", user=user)
        assert (answer.status, answer.error_code) == (404, "FileNotFound"), (file_id, user)
        assert "amazonaws" not in json.dumps(answer.body)


def test_a_derivative_recorded_outside_the_owners_prefix_is_never_signed(
    api: FakeLambdaContext, cloud: Cloud
) -> None:
    # Given a file item whose derivatives list names another user's key (a bug, or a tampered item)
    uploaded = processed_image(cloud, api)
    item_key = {"pk": f"USER#{ALICE}", "sk": f"FILE#{uploaded['file_id']}"}
    foreign = {"name": "thumb-128.jpg", "key": f"derived/{BOB}/{uploaded['file_id']}/thumb-128.jpg"}
    cloud.table.update_item(
        Key=item_key, UpdateExpression="SET derivatives = :d", ExpressionAttributeValues={":d": [foreign]}
    )
    # When the owner reads the file / Then that key is not signed
    answer = call(api, "GET", f"/v1/files/{uploaded['file_id']}")
    assert answer.status == 200
    assert answer.body["derivatives"] == []


# --- list and search ----------------------------------------------------------------------------------------


def initiated(
    api: FakeLambdaContext, filename: str, *, user: str = ALICE, content_type: str = "text/plain"
) -> str:
    answer = call(
        api,
        "POST",
        "/v1/uploads",
        body={"filename": filename, "size": 10, "content_type": content_type},
        user=user,
    )
    assert answer.status == 201, answer.body
    return str(answer.body["file_id"])


def test_listing_pages_by_creation_date_and_by_name_without_gaps_or_repeats(api: FakeLambdaContext) -> None:
    # Given five files created one after the other, and one of Bob's
    names = ["delta.txt", "Alpha.txt", "echo.txt", "charlie.txt", "bravo.txt"]
    ids = [initiated(api, name) for name in names]
    initiated(api, "zulu.txt", user=BOB)
    # When Alice pages through her files two at a time, newest first
    pages = all_pages(api, "/v1/files", {"limit": "2"})
    # Then every file comes once, newest first, and none of Bob's
    assert pages == [ids[4:2:-1], ids[2:0:-1], ids[:1]]
    # And oldest first, and by name (case-insensitive) in both orders
    assert flat(all_pages(api, "/v1/files", {"limit": "2", "order": "asc"})) == ids
    by_name = [ids[names.index(name)] for name in sorted(names, key=str.lower)]
    assert flat(all_pages(api, "/v1/files", {"limit": "3", "sort": "name", "order": "asc"})) == by_name
    assert flat(all_pages(api, "/v1/files", {"limit": "3", "sort": "name", "order": "desc"})) == by_name[::-1]


def test_listing_filters_by_status_type_and_creation_date(api: FakeLambdaContext, cloud: Cloud) -> None:
    # Given an image processed, and a text file still uploading
    image = processed_image(cloud, api)
    pending = initiated(api, "notes.txt")
    created = call(api, "GET", f"/v1/files/{image['file_id']}").body["created_at"]
    # Then the status index, the detected type and the date range each select the right files
    assert listed_ids(call(api, "GET", "/v1/files", query={"status": "processed"})) == [image["file_id"]]
    assert listed_ids(call(api, "GET", "/v1/files", query={"status": "uploading"})) == [pending]
    assert listed_ids(call(api, "GET", "/v1/files", query={"type": "image/*"})) == [image["file_id"]]
    assert listed_ids(call(api, "GET", "/v1/files", query={"type": "image/png", "sort": "name"})) == [
        image["file_id"]
    ]
    assert listed_ids(call(api, "GET", "/v1/files", query={"type": "application/pdf"})) == []
    assert (
        listed_ids(call(api, "GET", "/v1/files", query={"created_from": created, "order": "asc"}))[0]
        == image["file_id"]
    )
    assert listed_ids(call(api, "GET", "/v1/files", query={"created_to": created})) == []
    assert listed_ids(
        call(api, "GET", "/v1/files", query={"status": "uploading", "sort": "name", "created_from": created})
    ) == [pending]
    # And contradictory or malformed filters are 422
    for query in (
        {"created_from": "2026-02-01", "created_to": "2026-01-01"},
        {"type": "image"},
        {"status": "lost"},
    ):
        assert call(api, "GET", "/v1/files", query=query).status == 422, query


def test_search_by_name_prefix_contains_and_tag(api: FakeLambdaContext) -> None:
    report = initiated(api, "Quarterly Report.pdf", content_type="application/pdf")
    summary = initiated(api, "report-summary.txt")
    other = initiated(api, "holiday.txt")
    initiated(api, "report-of-bob.txt", user=BOB)
    for file_id, tags in ((report, ["Finance", "q3"]), (summary, ["finance"]), (other, ["travel"])):
        assert call(api, "PUT", f"/v1/files/{file_id}/tags", body={"tags": tags}).status == 200

    def search(**query: str) -> set[str]:
        return set(listed_ids(call(api, "GET", "/v1/files/search", query=query)))

    assert search(q="REPORT") == {summary}
    assert search(q="report", match="contains") == {report, summary}
    assert search(tag="finance") == {report, summary}
    assert search(tag="finance", q="quarterly") == {report}
    assert search(tag="finance", q="summary", match="contains") == {summary}
    assert search(tag="nothing") == set()
    # A search needs q or tag, and a tag must be one
    assert call(api, "GET", "/v1/files/search").status == 422
    assert call(api, "GET", "/v1/files/search", query={"tag": "no#hash"}).status == 422


def test_search_by_tag_pages_newest_first(api: FakeLambdaContext) -> None:
    ids = [initiated(api, f"file-{n}.txt") for n in range(5)]
    for file_id in ids:
        assert call(api, "PUT", f"/v1/files/{file_id}/tags", body={"tags": ["batch"]}).status == 200
    pages = all_pages(api, "/v1/files/search", {"tag": "batch", "limit": "2"})
    assert flat(pages) == ids[::-1]
    assert [len(page) for page in pages] == [2, 2, 1]


# --- cursors ------------------------------------------------------------------------------------------------


def test_cursors_are_tamper_proof_and_bound_to_the_user_and_the_query(api: FakeLambdaContext) -> None:
    for n in range(3):
        initiated(api, f"f{n}.txt")
        initiated(api, f"b{n}.txt", user=BOB)
    first = call(api, "GET", "/v1/files", query={"limit": "1"})
    cursor = first.body["next_cursor"]
    payload, signature = cursor.split(".")
    position = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    position["p"]["pk"] = f"USER#{BOB}"  # point the position into Bob's partition
    forged_payload = base64.urlsafe_b64encode(json.dumps(position).encode()).rstrip(b"=").decode()
    cases = {
        "garbage": ({"cursor": "not-a-cursor"}, ALICE),
        "tampered position": ({"cursor": f"{forged_payload}.{signature}"}, ALICE),
        "tampered signature": ({"cursor": f"{payload}.{signature[:-2]}AA"}, ALICE),
        "another user's cursor": ({"cursor": cursor}, BOB),
        "other filters": ({"cursor": cursor, "order": "asc"}, ALICE),
    }
    for case, (query, user) in cases.items():
        answer = call(api, "GET", "/v1/files", query={"limit": "1", **query}, user=user)
        assert (answer.status, answer.error_code) == (400, "InvalidCursor"), case
    # While the cursor, unchanged, continues Alice's listing
    assert call(api, "GET", "/v1/files", query={"limit": "1", "cursor": cursor}).status == 200
    # And a listing's cursor does not open a search
    assert call(api, "GET", "/v1/files/search", query={"tag": "x", "cursor": cursor}).status == 400


# --- tags ---------------------------------------------------------------------------------------------------


def test_tags_are_validated_normalised_and_written_conditionally(api: FakeLambdaContext) -> None:
    file_id = initiated(api, "notes.txt")
    # When tags are set: trimmed, lower-cased, de-duplicated, sorted; version 1
    answer = call(api, "PUT", f"/v1/files/{file_id}/tags", body={"tags": [" Work ", "work", "2026:q3"]})
    assert answer.status == 200, answer.body
    assert answer.body == {"file_id": file_id, "tags": ["2026:q3", "work"], "tags_version": 1}
    # Then invalid tags are 422 InvalidTags, and change nothing
    for tags in (["no spaces"], ["#hash"], [""], ["x" * 65], [f"t{n}" for n in range(21)]):
        refused = call(api, "PUT", f"/v1/files/{file_id}/tags", body={"tags": tags})
        assert (refused.status, refused.error_code) == (422, "InvalidTags"), tags
    assert call(api, "PUT", f"/v1/files/{file_id}/tags", body={"tags": "work"}).status == 422
    # And If-Match must name the current version (412 otherwise); the right one writes version 2
    stale = call_with(
        api, "PUT", f"/v1/files/{file_id}/tags", headers={"If-Match": '"0"'}, body={"tags": ["a"]}
    )
    assert (stale.status, stale.error_code) == (412, "TagsVersionMismatch")
    fresh = call_with(
        api, "PUT", f"/v1/files/{file_id}/tags", headers={"If-Match": '"1"'}, body={"tags": ["a"]}
    )
    assert (fresh.status, fresh.body["tags_version"]) == (200, 2)
    # And another user's file cannot be tagged
    assert call(api, "PUT", f"/v1/files/{file_id}/tags", body={"tags": ["x"]}, user=BOB).status == 404


def test_a_tags_write_loses_to_a_concurrent_one_and_is_retried_on_the_fresh_version(
    api: FakeLambdaContext, cloud: Cloud
) -> None:
    from fileflow_api.files.table import DynamoFileIndex

    # Given a file read at tags version 0, then tagged by another request
    file_id = initiated(api, "notes.txt")
    index = DynamoFileIndex(cloud.table)
    stale = index.get(ALICE, file_id)
    assert stale is not None
    assert call(api, "PUT", f"/v1/files/{file_id}/tags", body={"tags": ["first"]}).status == 200
    # When the stale copy is written / Then the conditional write refuses it (None), and the tag index holds
    # only what the winner wrote
    assert index.replace_tags(stale, ("second",)) is None
    tag_items = cloud.table.query(
        KeyConditionExpression=Key("pk").eq(f"USER#{ALICE}") & Key("sk").begins_with("TAG#")
    )["Items"]
    assert [item["tag"] for item in tag_items] == ["first"]


# --- delete -------------------------------------------------------------------------------------------------


def test_delete_removes_objects_versions_and_records_and_gives_the_quota_back(
    api: FakeLambdaContext, cloud: Cloud
) -> None:
    # Given a processed, tagged file
    uploaded = processed_image(cloud, api)
    file_id = uploaded["file_id"]
    assert call(api, "PUT", f"/v1/files/{file_id}/tags", body={"tags": ["trip"]}).status == 200
    usage_before = cloud.table.get_item(Key={"pk": f"USER#{ALICE}", "sk": "USAGE"})["Item"]
    # (the analysis stage indexed its hashes for duplicates, in Alice's partition)
    assert "Item" in cloud.table.get_item(Key={"pk": f"USER#{ALICE}", "sk": f"IMAGEHASH#{file_id}"})
    # When Bob tries to delete it / Then 404, and nothing is touched
    assert call(api, "DELETE", f"/v1/files/{file_id}", user=BOB).status == 404
    assert call(api, "GET", f"/v1/files/{file_id}").status == 200
    # When Alice deletes it
    answer = call(api, "DELETE", f"/v1/files/{file_id}")
    # Then 204, and every version of the original and the derivatives is gone
    assert answer.status == 204
    assert object_versions(cloud, uploaded["key"]) == []
    assert object_versions(cloud, f"derived/{ALICE}/{file_id}/") == []
    # And the jobs, tags, upload session and hash index entry are gone; the file item is a bare tombstone
    assert cloud.table.query(KeyConditionExpression=Key("pk").eq(f"FILE#{file_id}"))["Items"] == []
    rest = cloud.table.query(KeyConditionExpression=Key("pk").eq(f"USER#{ALICE}"))["Items"]
    assert {str(item["sk"]).split("#")[0] for item in rest} == {"FILE", "USAGE", "RATE"}
    [tombstone] = [item for item in rest if item["sk"] == f"FILE#{file_id}"]
    assert set(tombstone) == {
        "pk",
        "sk",
        "entity",
        "user_id",
        "file_id",
        "status",
        "deleted_at",
        "purged_at",
        "expires_at",
    }
    # And the file's bytes and count are given back to the quota
    usage_after = cloud.table.get_item(Key={"pk": f"USER#{ALICE}", "sk": "USAGE"})["Item"]
    assert int(str(usage_before["bytes"])) - int(str(usage_after["bytes"])) == len(samples.png())
    assert int(str(usage_before["files"])) - int(str(usage_after["files"])) == 1
    # And it is gone from reads, listings and searches; a second delete is 404 (documented)
    assert call(api, "GET", f"/v1/files/{file_id}").status == 404
    assert listed_ids(call(api, "GET", "/v1/files")) == []
    assert listed_ids(call(api, "GET", "/v1/files/search", query={"tag": "trip"})) == []
    assert (call(api, "DELETE", f"/v1/files/{file_id}").status, usage_after) == (
        404,
        cloud.table.get_item(Key={"pk": f"USER#{ALICE}", "sk": "USAGE"})["Item"],
    )


def test_a_file_still_uploading_is_not_deleted(api: FakeLambdaContext) -> None:
    file_id = initiated(api, "big.bin", content_type="application/octet-stream")
    answer = call(api, "DELETE", f"/v1/files/{file_id}")
    assert (answer.status, answer.error_code) == (409, "FileUploading")
    assert call(api, "GET", f"/v1/files/{file_id}").status == 200


def test_an_object_arriving_for_a_deleted_file_is_discarded_and_does_not_revive_it(
    api: FakeLambdaContext, cloud: Cloud
) -> None:
    # Given a deleted file
    uploaded = processed_image(cloud, api)
    assert call(api, "DELETE", f"/v1/files/{uploaded['file_id']}").status == 204
    # When an object lands at its key afterwards (a presigned PUT URL used late) and is processed
    put = cloud.s3.put_object(Bucket=BUCKET_NAME, Key=uploaded["key"], Body=samples.png())
    process(cloud, api, uploaded["key"], version_id=put["VersionId"])
    # Then no job, no derivative, the tombstone stays, and the object version is removed
    assert (
        cloud.table.query(KeyConditionExpression=Key("pk").eq(f"FILE#{uploaded['file_id']}"))["Items"] == []
    )
    assert object_versions(cloud, f"derived/{ALICE}/{uploaded['file_id']}/") == []
    item = cloud.table.get_item(Key={"pk": f"USER#{ALICE}", "sk": f"FILE#{uploaded['file_id']}"})["Item"]
    assert item["status"] == "deleted"
    assert "source_object" not in item
    assert put["VersionId"] not in {
        v["VersionId"]
        for v in cloud.s3.list_object_versions(Bucket=BUCKET_NAME, Prefix=uploaded["key"]).get("Versions", [])
    }
    assert call(api, "GET", f"/v1/files/{uploaded['file_id']}").status == 404


def test_a_job_cannot_be_created_for_a_deleted_file(cloud: Cloud) -> None:
    from datetime import UTC, datetime

    from fileflow_common.keys import UploadKey
    from fileflow_intake.files import DynamoIntakeRecords, FileDeletedError
    from fileflow_intake.stored_objects import StoredObject

    # Given a tombstone
    cloud.table.put_item(
        Item={"pk": f"USER#{ALICE}", "sk": "FILE#f1", "user_id": ALICE, "file_id": "f1", "deleted_at": "x"}
    )
    stored = StoredObject(
        upload=UploadKey(ALICE, "f1"),
        bucket=BUCKET_NAME,
        size=1,
        etag="e",
        version_id="v1",
        sequencer="0" * 64,
        stored_at=datetime.now(UTC),
    )
    # When the starter queues the job / Then the transaction refuses it: no job record
    with pytest.raises(FileDeletedError):
        DynamoIntakeRecords(cloud.table).queue_job(stored, correlation_id=None, at=datetime.now(UTC))
    assert cloud.table.query(KeyConditionExpression=Key("pk").eq("FILE#f1"))["Items"] == []


# --- audit --------------------------------------------------------------------------------------------------


def test_every_mutating_action_is_audited_and_each_user_sees_only_their_own(
    api: FakeLambdaContext, cloud: Cloud
) -> None:
    # Given Alice mints an upload token, uploads a file, tags it, aborts another upload and deletes the file
    assert call(api, "POST", "/v1/upload-tokens").status == 201
    uploaded = processed_image(cloud, api)
    file_id = uploaded["file_id"]
    assert call(api, "PUT", f"/v1/files/{file_id}/tags", body={"tags": ["x"]}).status == 200
    other = call(
        api, "POST", "/v1/uploads", body={"filename": "a.txt", "size": 1, "content_type": "text/plain"}
    )
    assert call(api, "DELETE", f"/v1/uploads/{other.body['upload_id']}").status == 200
    assert call(api, "DELETE", f"/v1/files/{file_id}").status == 204
    # When she pages through her audit log, two events at a time
    events: list[dict[str, Any]] = []
    cursor = None
    while True:
        answer = call(api, "GET", "/v1/audit", query={"limit": "2", **({"cursor": cursor} if cursor else {})})
        assert answer.status == 200, answer.body
        events += answer.body["events"]
        cursor = answer.body["next_cursor"]
        if cursor is None:
            break
    # Then every action is there, newest first, with who/what/which/when/request id/source IP
    assert [event["action"] for event in events] == [
        "file.deleted",
        "upload.aborted",
        "upload.initiated",
        "file.tags_changed",
        "upload.completed",
        "upload.initiated",
        "upload_token.minted",
    ]
    deleted = events[0]
    assert (deleted["resource_type"], deleted["resource_id"]) == ("file", file_id)
    assert deleted["request_id"]
    assert deleted["source_ip"]
    assert events[3]["details"] == {"tags": ["x"]}
    # And Bob sees none of it, and Alice's cursor is refused to him
    assert call(api, "GET", "/v1/audit", user=BOB).body == {"events": [], "next_cursor": None}
    first = call(api, "GET", "/v1/audit", query={"limit": "1"}).body["next_cursor"]
    assert call(api, "GET", "/v1/audit", query={"cursor": first}, user=BOB).status == 400
    # And the stored events carry the user's partition and a TTL
    stored: list[dict[str, Any]] = cloud.table.meta.client.scan(TableName=AUDIT_TABLE_NAME)["Items"]
    assert {item["pk"] for item in stored} == {f"USER#{ALICE}"}
    assert all("expires_at" in item for item in stored)


def test_a_multipart_content_type_without_boundary_is_handled_by_the_api(api: FakeLambdaContext) -> None:
    # Given the request LocalStack's gateway itself fails on (Schemathesis ST102): no boundary, no body
    headers = {"Content-Type": "multipart/form-data"}
    file_id = initiated(api, "notes.txt")
    # When it reaches the function / Then it answers like any other request, never a 5xx
    assert call_with(api, "POST", "/v1/upload-tokens", headers=headers).status == 201
    assert call_with(api, "PUT", f"/v1/files/{file_id}/tags", headers=headers).status == 422
    assert call_with(api, "POST", "/v1/uploads", headers=headers).status == 422


def test_files_routes_answer_with_the_security_headers_whatever_the_status(api: FakeLambdaContext) -> None:
    from fileflow_api.core.security import SECURITY_HEADERS

    file_id = initiated(api, "notes.txt")
    answers = [
        call(api, "GET", "/v1/files"),
        call(api, "GET", f"/v1/files/{file_id}"),
        call(api, "GET", "/v1/files/nope"),
        call(api, "GET", "/v1/files", query={"cursor": "x.y"}),
        call(api, "PUT", f"/v1/files/{file_id}/tags", body={"tags": ["#"]}),
        call(api, "DELETE", f"/v1/files/{file_id}"),
        call(api, "GET", "/v1/audit", user=None),
    ]
    assert [answer.status for answer in answers] == [200, 200, 404, 400, 422, 409, 401]
    for position, answer in enumerate(answers):
        for name, value in SECURITY_HEADERS.items():
            # A file's detail is revalidated by its ETag instead (docs/files-api.md, "ETag and ...")
            expected = "private, no-cache" if (position, name) == (1, "Cache-Control") else value
            assert answer.headers.get(name.lower()) == expected, (answer.status, name)
