"""The API's public base URL, as the caller reached it (uppy_endpoint and other links)."""

from __future__ import annotations

from fileflow_api.core.public_url import api_base_url
from tests.events import load_event


def test_execute_api_url_keeps_the_stage() -> None:
    # Given a request to https://{api}.execute-api.../prod/v1/upload-tokens
    event = load_event("api/create_upload_token")
    # Then the base is scheme, host and stage
    assert api_base_url(event) == "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/prod"


def test_custom_domain_keeps_its_base_path_and_drops_the_stage() -> None:
    # Given a custom domain mapping /files to the stage
    event = load_event("api/create_upload_token")
    event["requestContext"]["domainName"] = "api.example.com"
    event["requestContext"]["path"] = "/files/v1/upload-tokens"
    assert api_base_url(event) == "https://api.example.com/files"
    # And with an empty base path mapping, nothing is prefixed
    event["requestContext"]["path"] = "/v1/upload-tokens"
    assert api_base_url(event) == "https://api.example.com"


def test_local_cloud_url_is_localstacks_execute_api_path() -> None:
    event = load_event("api/create_upload_token")
    assert (
        api_base_url(event, local_endpoint="http://127.0.0.1:4566/")
        == "http://127.0.0.1:4566/_aws/execute-api/a1b2c3d4e5/prod"
    )
