import json

from tests.events import EVENTS_DIR
from tools.sample_events import OPENAPI_FILE, api_events, stale_files


def test_committed_api_events_match_the_openapi_document() -> None:
    # Given docs/openapi.json / When its operations are rendered like `make events` does
    document = json.loads(OPENAPI_FILE.read_text(encoding="utf-8"))
    # Then events/api/ holds exactly those events (else: run `make events` and commit them)
    assert stale_files(document) == [], "events/api/ is stale: run `make events`"
    assert len(api_events(document)) == sum(len(ops) for ops in document["paths"].values())


def test_an_authorized_route_carries_the_authorizers_context_and_a_public_one_none() -> None:
    # Given the generated events
    events = api_events(json.loads(OPENAPI_FILE.read_text(encoding="utf-8")))
    # Then a /v1 route has the context the TOKEN authorizer returns, the reviews routes with the role
    assert events["get_file"]["requestContext"]["authorizer"]["user_id"] == "user-alice"
    assert events["get_file"]["pathParameters"] == {"proxy": "files/file-0001"}
    assert events["list_reviews"]["requestContext"]["authorizer"]["roles"] == "reviewer"
    # And /health and the Uppy routes (the function checks their token) have none
    assert "authorizer" not in events["health"]["requestContext"]
    assert events["sign_part"]["resource"] == "/uppy/{token}/{proxy+}"


def test_every_sample_event_is_a_json_object_in_a_function_directory() -> None:
    # Given every file under events/
    files = sorted(EVENTS_DIR.rglob("*"))
    # Then each is events/<function>/<case>.json holding one JSON object
    for path in files:
        if path.is_dir():
            assert path.parent == EVENTS_DIR, f"{path}: one directory level per function"
            continue
        assert path.suffix == ".json", path
        assert path.parent.parent == EVENTS_DIR, path
        assert isinstance(json.loads(path.read_text(encoding="utf-8")), dict), path
