"""/v1/uploads through the Lambda handler, against moto: full flows, and every bad request's exact answer.

moto intercepts `requests` too, so parts go to the presigned URLs with real HTTP PUTs (moto does not
check SigV4 signatures: that S3 rejects a wrong size or checksum is proven on the local cloud, e2e).
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
import requests

from fileflow_api.uploads.part_plan import MiB
from tests.integration.api_requests import ALICE, BOB, Answer, call
from tests.integration.conftest import BUCKET_NAME, Cloud, FakeLambdaContext

SIZE = 20 * MiB + 12_345  # three parts of the 8 MiB plan


@pytest.fixture
def api(cloud: Cloud, lambda_context: FakeLambdaContext) -> FakeLambdaContext:
    return lambda_context


def payload(size: int, seed: int = 7) -> bytes:
    block = hashlib.sha256(str(seed).encode()).digest()
    return (block * (size // len(block) + 1))[:size]


def initiate(api: FakeLambdaContext, data: bytes, **fields: Any) -> Answer:
    body = {"filename": "film.bin", "size": len(data), "content_type": "application/octet-stream", **fields}
    answer = call(api, "POST", "/v1/uploads", body=body)
    assert answer.status == 201, answer.body
    return answer


def put_parts(api: FakeLambdaContext, upload: dict[str, Any], data: bytes, numbers: list[int]) -> None:
    signed = call(
        api,
        "POST",
        f"/v1/uploads/{upload['upload_id']}/parts",
        body={"parts": [{"part_number": n} for n in numbers]},
    )
    assert signed.status == 200, signed.body
    for part in signed.body["parts"]:
        start = (part["part_number"] - 1) * upload["part_size"]
        chunk = data[start : start + part["size"]]
        response = requests.put(part["url"], data=chunk, headers=part["headers"], timeout=30)
        assert response.status_code == 200, response.text


def test_multipart_upload_from_initiate_to_complete(api: FakeLambdaContext, cloud: Cloud) -> None:
    # Given a 20 MiB file and its SHA-256
    data = payload(SIZE)
    digest = hashlib.sha256(data).hexdigest()
    # When initiated
    upload = initiate(api, data, filename="../../Holiday Film.bin", sha256=digest).body
    # Then a planned multipart upload under a generated key, named by its sanitised filename
    assert upload["mode"] == "multipart"
    assert (upload["part_size"], upload["part_count"]) == (8 * MiB, 3)
    assert upload["key"] == f"uploads/{ALICE}/{upload['file_id']}"
    assert upload["filename"] == "Holiday Film.bin"
    assert upload["single"] is None

    # When two parts are PUT to their presigned URLs, then S3 is asked what it holds
    put_parts(api, upload, data, [1, 3])
    held = call(api, "GET", f"/v1/uploads/{upload['upload_id']}/parts")
    status = call(api, "GET", f"/v1/uploads/{upload['upload_id']}")
    # Then the two parts are listed (that is what a resuming client skips) and counted in the status
    assert held.status == 200
    assert [(p["part_number"], p["size"]) for p in held.body["parts"]] == [(1, 8 * MiB), (3, SIZE - 16 * MiB)]
    assert held.body["next_cursor"] is None
    assert (status.body["status"], status.body["bytes_received"], status.body["parts_received"]) == (
        "initiated",
        SIZE - 8 * MiB,
        2,
    )

    # When the last part is sent and the upload completed (twice)
    put_parts(api, upload, data, [2])
    completed = call(api, "POST", f"/v1/uploads/{upload['upload_id']}/complete", body={})
    again = call(api, "POST", f"/v1/uploads/{upload['upload_id']}/complete")
    # Then S3 holds the file's exact bytes, and the second complete answers the same
    assert completed.status == 200, completed.body
    assert completed.body["status"] == "completed"
    assert (completed.body["size"], completed.body["sha256"]) == (SIZE, digest)
    assert again.body == completed.body
    stored = cloud.s3.get_object(Bucket=BUCKET_NAME, Key=upload["key"])
    assert hashlib.sha256(stored["Body"].read()).hexdigest() == digest
    assert stored["ContentType"] == "application/octet-stream"
    assert completed.body["etag"] == stored["ETag"].strip('"')
    # And the file item carries the upload's metadata
    item = cloud.table.get_item(Key={"pk": f"USER#{ALICE}", "sk": f"FILE#{upload['file_id']}"})["Item"]
    assert (item["filename"], item["content_type"], item["sha256"], item["status"]) == (
        "Holiday Film.bin",
        "application/octet-stream",
        digest,
        "uploaded",
    )
    assert (item["size"], item["upload_id"]) == (SIZE, upload["upload_id"])


def test_single_put_upload(api: FakeLambdaContext, cloud: Cloud) -> None:
    # Given a small text file
    data = b"id,name\n1,ana\n"
    upload = initiate(api, data, filename="people.csv", content_type="text/csv").body
    # Then one PUT, whose headers are to be sent as they are
    assert upload["mode"] == "single"
    assert upload["single"]["headers"] == {"Content-Length": str(len(data)), "Content-Type": "text/csv"}
    # When the file is PUT and the upload completed
    response = requests.put(
        upload["single"]["url"], data=data, headers=upload["single"]["headers"], timeout=30
    )
    assert response.status_code == 200
    completed = call(api, "POST", f"/v1/uploads/{upload['upload_id']}/complete")
    # Then it is completed with the object's size
    assert completed.status == 200, completed.body
    assert completed.body["size"] == len(data)
    assert cloud.s3.get_object(Bucket=BUCKET_NAME, Key=upload["key"])["Body"].read() == data


@pytest.mark.parametrize(("sent", "stored"), [({"priority": 9}, 9), ({}, 5)])
def test_the_priority_is_stored_on_the_session_and_the_file(
    api: FakeLambdaContext, cloud: Cloud, sent: dict[str, int], stored: int
) -> None:
    # Given an initiate with a priority (or none: the default) / When initiated
    upload = initiate(api, b"urgent\n", filename="urgent.txt", content_type="text/plain", **sent).body
    # Then the session and the file item carry it as a number: the starter reads it there (its lane)
    user = upload["key"].split("/")[1]
    session = cloud.table.get_item(Key={"pk": f"USER#{user}", "sk": f"UPLOAD#{upload['upload_id']}"})["Item"]
    file = cloud.table.get_item(Key={"pk": f"USER#{user}", "sk": f"FILE#{upload['file_id']}"})["Item"]
    assert (session["priority"], file["priority"]) == (stored, stored)


# --- bad input: the exact status and code, and nothing lost -----------------------------------------------


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        pytest.param({"filename": "a.exe", "size": 10, "content_type": "application/x-msdownload"}, 415,
                     "UnsupportedContentType", id="disallowed type"),
        *(
            pytest.param({"filename": f"photo.{ext}", "size": 10, "content_type": f"image/{ext}"}, 415,
                         "UnsupportedContentType", id=f"{ext}: not processed")
            for ext in ("heic", "heif", "avif", "tiff")
        ),
        pytest.param({"filename": "a.bin", "size": 100 * 1024 * MiB + 1, "content_type": "image/png"}, 413,
                     "UploadTooLarge", id="oversize"),
        pytest.param({"filename": "a.bin", "size": 6 * 1024**4, "content_type": "image/png"}, 413,
                     "UploadTooLarge", id="beyond S3's 5 TiB"),
        pytest.param({"filename": "../../etc/\x00passwd", "size": 1, "content_type": "text/plain"}, 422,
                     "InvalidFilename", id="traversal with a NUL"),
        pytest.param({"filename": "a\r\nX-Injected: 1", "size": 1, "content_type": "text/plain"}, 422,
                     "InvalidFilename", id="CRLF"),
        pytest.param({"filename": "n" * 1000, "size": 1, "content_type": "text/plain"}, 422,
                     "InvalidFilename", id="1,000 characters"),
        pytest.param({"filename": "invoice\u202efdp.exe", "size": 1, "content_type": "text/plain"}, 422,
                     "InvalidFilename", id="bidi override"),
        pytest.param({"filename": "a.txt", "size": -1, "content_type": "text/plain"}, 422,
                     "InvalidRequest", id="negative size"),
        pytest.param({"filename": "a.txt", "size": "12", "content_type": "text/plain"}, 422,
                     "InvalidRequest", id="size as a string"),
        pytest.param({"filename": "a.txt", "size": 1}, 422, "InvalidRequest", id="no content type"),
        pytest.param({"filename": "a.txt", "size": 1, "content_type": "text"}, 422,
                     "InvalidContentType", id="not a media type"),
        pytest.param({"filename": "a.txt", "size": 1, "content_type": "text/plain", "sha256": "abc"}, 422,
                     "InvalidRequest", id="sha256 not 64 hex"),
        *(
            pytest.param({"filename": "a.txt", "size": 1, "content_type": "text/plain", "priority": p}, 422,
                         "InvalidRequest", id=f"priority {p!r}")
            for p in (0, 10, "9", 5.5)
        ),
    ],
)  # fmt: skip
def test_bad_initiates_are_refused_precisely(
    api: FakeLambdaContext, cloud: Cloud, body: dict[str, Any], status: int, code: str
) -> None:
    answer = call(api, "POST", "/v1/uploads", body=body)
    assert (answer.status, answer.error_code) == (status, code), answer.body
    assert answer.body["error"]["message"]
    assert cloud.s3.list_multipart_uploads(Bucket=BUCKET_NAME).get("Uploads", []) == []


@pytest.mark.parametrize(
    ("filename", "stored"),
    [
        pytest.param("../../etc/passwd", "passwd", id="traversal reduced to its name"),
        pytest.param("Résumé 2026 — final 📄.pdf", "Résumé 2026 — final 📄.pdf", id="unicode kept"),
    ],
)
def test_names_with_directories_or_unicode_are_accepted_as_metadata(
    api: FakeLambdaContext, filename: str, stored: str
) -> None:
    answer = call(
        api, "POST", "/v1/uploads", body={"filename": filename, "size": 5, "content_type": "text/plain"}
    )
    assert answer.status == 201
    assert answer.body["filename"] == stored
    assert stored not in answer.body["key"]


def test_malformed_json_is_a_400(api: FakeLambdaContext) -> None:
    answer = call(api, "POST", "/v1/uploads", raw_body='{"filename": "a.txt", "size": 1,')
    assert (answer.status, answer.error_code) == (400, "MalformedJson")
    upload = initiate(api, payload(SIZE)).body
    answer = call(api, "POST", f"/v1/uploads/{upload['upload_id']}/complete", raw_body="{nope")
    assert (answer.status, answer.error_code) == (400, "MalformedJson")


def test_unknown_and_foreign_upload_ids_are_404(api: FakeLambdaContext) -> None:
    # Given Alice's upload
    upload = initiate(api, payload(SIZE)).body
    upload_id = upload["upload_id"]
    # When Bob, or anyone with an unknown id, uses it / Then 404, the same as for an id that never existed
    for method, path, body in [
        ("GET", f"/v1/uploads/{upload_id}", None),
        ("GET", f"/v1/uploads/{upload_id}/parts", None),
        ("POST", f"/v1/uploads/{upload_id}/parts", {"parts": [{"part_number": 1}]}),
        ("POST", f"/v1/uploads/{upload_id}/complete", {}),
        ("DELETE", f"/v1/uploads/{upload_id}", None),
    ]:
        answer = call(api, method, path, body=body, user=BOB)
        assert (answer.status, answer.error_code) == (404, "UploadNotFound"), (method, path)
        unknown = call(api, method, path.replace(upload_id, "f" * 32), body=body)
        assert (unknown.status, unknown.error_code) == (404, "UploadNotFound"), (method, path)
    # And Alice's upload is intact
    assert call(api, "GET", f"/v1/uploads/{upload_id}").body["status"] == "initiated"


def test_no_identity_is_a_401(api: FakeLambdaContext) -> None:
    answer = call(
        api, "POST", "/v1/uploads", body={"filename": "a", "size": 1, "content_type": "text/plain"}, user=None
    )
    assert answer.status == 401


@pytest.mark.parametrize("number", [0, 4, 10_001])
def test_part_number_out_of_range_is_a_400(api: FakeLambdaContext, number: int) -> None:
    upload = initiate(api, payload(SIZE)).body
    answer = call(
        api, "POST", f"/v1/uploads/{upload['upload_id']}/parts", body={"parts": [{"part_number": number}]}
    )
    assert (answer.status, answer.error_code) == (400, "PartNumberOutOfRange")
    assert "1 to 3" in answer.body["error"]["message"]


def test_complete_with_missing_parts_is_a_409_that_keeps_what_was_sent(api: FakeLambdaContext) -> None:
    data = payload(SIZE)
    upload = initiate(api, data).body
    put_parts(api, upload, data, [2])
    answer = call(api, "POST", f"/v1/uploads/{upload['upload_id']}/complete")
    assert (answer.status, answer.error_code) == (409, "MissingParts")
    assert "1, 3" in answer.body["error"]["message"]
    # Then part 2 is still held: the client resumes instead of starting over
    held = call(api, "GET", f"/v1/uploads/{upload['upload_id']}/parts").body["parts"]
    assert [p["part_number"] for p in held] == [2]


def test_complete_with_a_wrong_sized_part_is_a_409(api: FakeLambdaContext, cloud: Cloud) -> None:
    # Given every part, one of them of the wrong size (sent around the API: moto checks no signatures)
    data = payload(SIZE)
    upload = initiate(api, data).body
    put_parts(api, upload, data, [1, 3])
    [s3_upload] = cloud.s3.list_multipart_uploads(Bucket=BUCKET_NAME)["Uploads"]
    cloud.s3.upload_part(
        Bucket=BUCKET_NAME, Key=upload["key"], UploadId=s3_upload["UploadId"], PartNumber=2, Body=b"short"
    )
    # When completed / Then 409 naming the part, and the upload still open
    answer = call(api, "POST", f"/v1/uploads/{upload['upload_id']}/complete")
    assert (answer.status, answer.error_code) == (409, "PartSizeMismatch")
    assert f"part 2 holds 5 bytes, not {8 * MiB}" in answer.body["error"]["message"]
    assert call(api, "GET", f"/v1/uploads/{upload['upload_id']}").body["status"] == "initiated"


def test_total_size_mismatch_is_a_409(api: FakeLambdaContext, cloud: Cloud) -> None:
    # Given a single-PUT upload whose object was written with another size (around the signed URL)
    upload = initiate(api, b"12345", content_type="text/plain").body
    cloud.s3.put_object(Bucket=BUCKET_NAME, Key=upload["key"], Body=b"123456")
    answer = call(api, "POST", f"/v1/uploads/{upload['upload_id']}/complete")
    assert (answer.status, answer.error_code) == (409, "SizeMismatch")
    assert "6 bytes; the upload declared 5" in answer.body["error"]["message"]


def test_complete_after_abort_and_abort_after_complete_are_409(api: FakeLambdaContext, cloud: Cloud) -> None:
    # Given one aborted upload and one completed upload
    data = payload(SIZE)
    aborted = initiate(api, data).body
    put_parts(api, aborted, data, [1])
    abort = call(api, "DELETE", f"/v1/uploads/{aborted['upload_id']}")
    assert (abort.status, abort.body) == (200, {"upload_id": aborted["upload_id"], "status": "aborted"})
    assert call(api, "DELETE", f"/v1/uploads/{aborted['upload_id']}").status == 200  # repeatable
    completed = initiate(api, data).body
    put_parts(api, completed, data, [1, 2, 3])
    assert call(api, "POST", f"/v1/uploads/{completed['upload_id']}/complete").status == 200
    # When each is asked the other transition
    late_complete = call(api, "POST", f"/v1/uploads/{aborted['upload_id']}/complete")
    late_abort = call(api, "DELETE", f"/v1/uploads/{completed['upload_id']}")
    late_sign = call(
        api, "POST", f"/v1/uploads/{aborted['upload_id']}/parts", body={"parts": [{"part_number": 1}]}
    )
    # Then 409 with the state, S3 freed the aborted parts, and the completed object is untouched
    assert (late_complete.status, late_complete.error_code) == (409, "UploadAborted")
    assert (late_abort.status, late_abort.error_code) == (409, "UploadCompleted")
    assert (late_sign.status, late_sign.error_code) == (409, "UploadAborted")
    assert cloud.s3.list_multipart_uploads(Bucket=BUCKET_NAME).get("Uploads", []) == []
    assert cloud.s3.head_object(Bucket=BUCKET_NAME, Key=completed["key"])["ContentLength"] == SIZE


def test_sign_parts_request_shape_errors_are_422(api: FakeLambdaContext) -> None:
    upload = initiate(api, payload(SIZE)).body
    path = f"/v1/uploads/{upload['upload_id']}/parts"
    for body, code in [
        ({"parts": []}, "InvalidRequest"),
        ({"parts": [{"part_number": "1"}]}, "InvalidRequest"),
        ({"parts": [{"part_number": 1}, {"part_number": 1}]}, "InvalidPartRequest"),
        ({"parts": [{"part_number": 1, "checksum_sha256": "AAAA"}]}, "InvalidPartRequest"),
    ]:
        answer = call(api, "POST", path, body=body)
        assert (answer.status, answer.error_code) == (422, code), body


def test_the_openapi_document_is_served_and_declares_the_bearer_scheme(api: FakeLambdaContext) -> None:
    answer = call(api, "GET", "/openapi.json", user=None)
    assert answer.status == 200
    assert answer.body["components"]["securitySchemes"]["BearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "A Fileflow access token (JWT)",
    }
    assert answer.body["paths"]["/v1/uploads"]["post"]["security"] == [{"BearerAuth": []}]
