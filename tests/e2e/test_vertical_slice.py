"""The first vertical slice, end to end on the deployed stack:
API Gateway -> API Lambda (/health), and S3 ObjectCreated -> SQS -> starter Lambda -> DynamoDB; an
object that no upload session stored is refused there.
"""

from __future__ import annotations

import uuid
from typing import Any, cast

import requests

from infra import outputs as names
from tests.e2e import uploading
from tests.e2e.conftest import AwsClients
from tests.e2e.polling import wait_for
from tests.e2e.test_isolation import Client
from tools.stack import StackOutputs
from tools.token import TokenFactory


def file_record(stack: StackOutputs, aws: AwsClients, user_id: str, file_id: str) -> dict[str, Any] | None:
    item = aws.dynamodb.get_item(
        TableName=stack[names.TABLE_NAME],
        Key={"pk": {"S": f"USER#{user_id}"}, "sk": {"S": f"FILE#{file_id}"}},
        ConsistentRead=True,
    ).get("Item")
    return cast(dict[str, Any] | None, item)


def client_of(stack: StackOutputs, user_id: str) -> Client:
    return Client(stack.api_url, TokenFactory.for_stack(stack).valid(user_id))


def test_health_reports_every_dependency_reachable(stack: StackOutputs):
    # Given the deployed API
    # When /health is asked through API Gateway
    response = requests.get(f"{stack.api_url}/health", timeout=30)
    # Then the API function answers with real checks of the bucket, table and queue
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) >= {"bucket", "table", "queue"}
    assert all(check["status"] == "ok" for check in body["checks"].values()), body
    assert response.headers["x-content-type-options"] == "nosniff"


def test_unknown_route_ends_at_api_gateway(stack: StackOutputs):
    # Given a path no API resource matches (no greedy root proxy: /v1 and /uppy are the proxied trees)
    response = requests.get(f"{stack.api_url}/no-such-route", timeout=30)
    # Then API Gateway answers it itself, as AWS does: 403 "Missing Authentication Token", in JSON
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("application/json")


def test_uploaded_object_is_recorded_by_the_starter(stack: StackOutputs, aws: AwsClients):
    # Given a file uploaded through the API (initiate, presigned PUT, complete)
    user_id = "e2e-user"
    uploaded = uploading.upload(client_of(stack, user_id), b"hello fileflow")
    file_id, key = uploaded.file_id, uploaded.key
    put = aws.s3.head_object(Bucket=stack[names.BUCKET_NAME], Key=key)

    # When S3 notifies the queue and the starter consumes it
    def processed() -> dict[str, Any] | None:
        item = file_record(stack, aws, user_id, file_id)
        return item if item and item.get("status", {}).get("S") == "processed" else None

    item = wait_for(processed, timeout=90, interval=1, what=f"the processed DynamoDB record of {key}")

    # Then the record describes the stored object, typed by its content
    assert item["key"]["S"] == key
    assert item["detected_type"]["S"] == "text/plain"
    assert int(item["size"]["N"]) == len(b"hello fileflow")
    assert item["etag"]["S"].strip('"') == put["ETag"].strip('"')

    # And the starter's log line is in CloudWatch Logs (searched by message: LocalStack
    # ignores filterPattern)
    log_group = f"/aws/lambda/{stack[names.STARTER_FUNCTION_NAME]}"

    def log_line() -> str | None:
        try:
            events = aws.logs.filter_log_events(logGroupName=log_group)["events"]
        except aws.logs.exceptions.ResourceNotFoundException:
            return None
        return next(
            (e["message"] for e in events if "object stored" in e["message"] and key in e["message"]), None
        )

    line = wait_for(log_line, timeout=60, interval=1, what="the starter's 'object stored' log line")
    assert file_id in line


def test_objects_outside_the_upload_prefix_do_not_trigger_processing(stack: StackOutputs, aws: AwsClients):
    # Given an object written under the derivatives prefix (as processors will do)
    user_id, file_id = "e2e-user", f"f{uuid.uuid4().hex}"
    aws.s3.put_object(
        Bucket=stack[names.BUCKET_NAME], Key=f"derived/{user_id}/{file_id}/thumb.webp", Body=b"x"
    )
    # and then a real upload as a marker that the pipeline has moved on
    marker_id = uploading.upload(client_of(stack, user_id), b"y").file_id
    wait_for(
        lambda: file_record(stack, aws, user_id, marker_id),
        timeout=90,
        interval=1,
        what="the marker upload's record",
    )
    # Then the derivative produced no file record
    item = file_record(stack, aws, user_id, file_id)
    assert item is None


def test_an_object_no_upload_session_stored_is_deleted_and_audited(stack: StackOutputs, aws: AwsClients):
    # Given an object put straight into a user's upload prefix, with no upload session behind it
    user_id, file_id = f"e2e-stray-{uuid.uuid4().hex[:8]}", f"f{uuid.uuid4().hex}"
    key = f"uploads/{user_id}/{file_id}"
    put = aws.s3.put_object(Bucket=stack[names.BUCKET_NAME], Key=key, Body=b"not uploaded through the API")

    # When the starter gets its notification
    def versions() -> list[str]:
        listed = aws.s3.list_object_versions(Bucket=stack[names.BUCKET_NAME], Prefix=key)
        return [str(v["VersionId"]) for v in listed.get("Versions", []) if v["Key"] == key]

    wait_for(lambda: versions() == [], timeout=90, interval=1, what=f"the stray object {key} to be deleted")
    # Then that version is gone, no file record was made, and the owner's audit trail says why
    assert put["VersionId"] not in versions()
    item = file_record(stack, aws, user_id, file_id)
    assert item is None
    owner = client_of(stack, user_id)

    def refusals() -> list[dict[str, Any]]:
        events = owner.ok("GET", "/v1/audit")["events"]
        return [event for event in events if event["action"] == "upload.object_refused"]

    refused = wait_for(refusals, timeout=30, interval=1, what="the upload.object_refused audit event")
    assert [event["resource_id"] for event in refused] == [file_id], refused
