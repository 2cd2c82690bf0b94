import dataclasses
import json

from tests.events import load_event
from tools.ops.aim import Target, aim

TARGET = Target(
    user_id="owner-7",
    file_id="0f1e2d3c4b5a69788796a5b4c3d2e1f0",
    upload_id="9a8b7c6d5e4f30211203f4e5d6c7b8a9",
    bucket="fileflow-uploads-000000000000-us-east-1",
    key="uploads/owner-7/0f1e2d3c4b5a69788796a5b4c3d2e1f0",
    etag="81da3c2473b8a054164e1449c5aad85f",
    version_id="AaI2yJYvzjFJV0Uo1ensK4eizHjpggqo",
    size=1826,
    job_id="job-65865f74eeef3c59e19afe8048a73bd02c619c67",
    execution_arn="arn:aws:states:us-east-1:000000000000:execution:Fileflow-pipeline:job-65865f74eeef3c59e19afe8048a73bd02c619c67",
    correlation_id="196efe90-6526-4df4-825d-81bf88b809be",
    review_id="rv_b7ea566dfebca0ebd41fa91a25bb5476",
    api_token="api.token.signed",
    upload_token="upload.token.signed",
)


def test_a_stage_sample_aimed_at_a_file_carries_that_files_version_job_and_execution() -> None:
    # Given the image stage's sample / When aimed at a real file
    aimed = aim(load_event("stage-image/png"), TARGET)
    # Then its state names that file's stored version and job, and the execution is the file's
    file = aimed["state"]["file"]
    assert (file["user_id"], file["file_id"], file["key"]) == (TARGET.user_id, TARGET.file_id, TARGET.key)
    assert (file["bucket"], file["etag"], file["version_id"]) == (
        TARGET.bucket,
        TARGET.etag,
        TARGET.version_id,
    )
    assert (file["size"], file["job_id"], file["correlation_id"]) == (
        1826,
        TARGET.job_id,
        TARGET.correlation_id,
    )
    assert aimed["execution_arn"] == TARGET.execution_arn
    # And nothing of the made-up file is left anywhere in it
    text = json.dumps(aimed)
    for placeholder in ("user-alice", "file-0001", "job-7a8e05a8", "fileflow-uploads-example", "3HL4kqtJ"):
        assert placeholder not in text


def test_an_api_sample_aimed_at_a_file_is_the_owners_request_with_the_stacks_tokens() -> None:
    # Given the API's samples / When aimed
    get_file = aim(load_event("api/get_file"), TARGET)
    sign_part = aim(load_event("api/sign_part"), TARGET)
    get_review = aim(load_event("api/get_review"), TARGET)
    # Then the route names the file, the authorizer's context its owner, the header a signed token
    assert get_file["path"] == f"/v1/files/{TARGET.file_id}"
    assert get_file["pathParameters"] == {"proxy": f"files/{TARGET.file_id}"}
    assert get_file["requestContext"]["authorizer"]["user_id"] == TARGET.user_id
    assert get_file["headers"]["Authorization"] == "Bearer api.token.signed"
    # And Uppy's path carries an upload token, its upload id and key the file's; a review its job's
    assert sign_part["pathParameters"]["token"] == "upload.token.signed"
    assert TARGET.upload_id in sign_part["path"]
    assert sign_part["queryStringParameters"]["key"] == TARGET.key
    assert get_review["path"] == f"/v1/reviews/{TARGET.review_id}"


def test_an_sqs_sample_is_aimed_inside_its_message_bodies() -> None:
    # Given the webhook sender's event message / When aimed
    aimed = aim(load_event("webhooks/file_processed"), TARGET)
    # Then the JSON body names the owner and the file
    body = json.loads(aimed["Records"][0]["body"])
    assert (body["user_id"], body["data"]["file_id"]) == (TARGET.user_id, TARGET.file_id)


def test_the_review_samples_aimed_at_a_file_waiting_for_review_keep_its_executions_token() -> None:
    # Given a file whose execution waits on a review's task token
    waiting = dataclasses.replace(TARGET, task_token="AAAArealtoken==")
    # When the review's open and escalate samples are aimed at it
    opened = aim(load_event("stage-review/open"), waiting)
    escalated = aim(load_event("stage-review/escalate"), waiting)
    # Then both carry the token the execution waits on, and their action
    assert (opened["action"], opened["task_token"]) == ("open", "AAAArealtoken==")
    assert (escalated["action"], escalated["task_token"]) == ("escalate", "AAAArealtoken==")
    # And aimed at a file that waits on nothing, the samples' own token stays
    assert aim(load_event("stage-review/open"), TARGET)["task_token"].endswith("example")
