"""The files API on the deployed stack: a processed upload listed, searched, read and deleted for good."""

from __future__ import annotations

import uuid
from typing import Any

import requests

from infra import outputs as names
from tests import samples
from tests.e2e.conftest import AwsClients
from tests.e2e.polling import wait_for
from tests.e2e.test_isolation import Client, upload_file
from tools.stack import StackOutputs
from tools.token import TokenFactory


def test_a_processed_file_is_listed_searched_read_and_deleted_with_every_version(
    stack: StackOutputs, aws: AwsClients
) -> None:
    client = Client(stack.api_url, TokenFactory.for_stack(stack).valid(f"e2e-files-{uuid.uuid4().hex[:10]}"))
    # Given a PNG uploaded through the API, processed, and tagged; and a second file
    started = upload_file(client, samples.png(), filename="Beach Day.png", content_type="image/png")
    file_id = started["file_id"]

    def processed() -> dict[str, Any] | None:
        body: dict[str, Any] = client("GET", f"/v1/files/{file_id}").json()
        return body if body.get("status") == "processed" and body.get("derivatives") else None

    detail = wait_for(processed, timeout=90, what="the file to be processed")
    client.ok("PUT", f"/v1/files/{file_id}/tags", json={"tags": ["Holiday"]})
    other = client.ok(
        "POST", "/v1/uploads", 201, json={"filename": "a.txt", "size": 1, "content_type": "text/plain"}
    )
    # When listed one per page, newest first / Then two pages, the cursor carrying the listing on
    first = client.ok("GET", "/v1/files", params={"limit": 1})
    second = client.ok("GET", "/v1/files", params={"limit": 1, "cursor": first["next_cursor"]})
    assert [first["files"][0]["file_id"], second["files"][0]["file_id"]] == [other["file_id"], file_id]
    assert second["next_cursor"] is None
    # And filters, search and the derivative downloads work on the deployed indexes and S3
    assert [f["file_id"] for f in client.ok("GET", "/v1/files", params={"status": "processed"})["files"]] == [
        file_id
    ]
    assert [f["file_id"] for f in client.ok("GET", "/v1/files/search", params={"q": "beach"})["files"]] == [
        file_id
    ]
    assert [
        f["file_id"] for f in client.ok("GET", "/v1/files/search", params={"tag": "holiday"})["files"]
    ] == [file_id]
    for derivative in detail["derivatives"]:
        assert requests.get(derivative["download"]["url"], timeout=30).status_code == 200
    # When it is deleted
    assert client("DELETE", f"/v1/files/{file_id}").status_code == 204
    # Then S3 holds no version of the original or of any derivative, and the API knows it no more
    bucket = stack[names.BUCKET_NAME]
    for prefix in (started["key"], f"derived/{started['key'].split('/')[1]}/{file_id}/"):
        listed = aws.s3.list_object_versions(Bucket=bucket, Prefix=prefix)
        assert not listed.get("Versions"), prefix
        assert not listed.get("DeleteMarkers"), prefix
    assert client("GET", f"/v1/files/{file_id}").status_code == 404
    assert client("DELETE", f"/v1/files/{file_id}").status_code == 404
    assert client.ok("GET", "/v1/files/search", params={"tag": "holiday"})["files"] == []
    assert client.ok("GET", "/v1/audit", params={"limit": 1})["events"][0]["action"] == "file.deleted"
