"""The API logs one line per request, with the request's correlation id: what `make trace` finds of it."""

from __future__ import annotations

import json

import pytest

from fileflow_api.handler import loggable_path
from fileflow_common.observability import logger
from tests.integration.api_requests import ALICE, call, signing_secret
from tests.integration.conftest import Cloud, FakeLambdaContext

__all__ = ["signing_secret"]  # the fixture, imported for this module's tests


def _request_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, object]]:
    """The request lines as the function writes them (Powertools' JSON formatter, with its appended keys)."""
    formatter = logger.registered_formatter
    lines = [json.loads(formatter.format(record)) for record in caplog.records]
    return [line for line in lines if line.get("message") == "request"]


def test_each_request_is_logged_with_its_correlation_id_path_and_status(
    cloud: Cloud, lambda_context: FakeLambdaContext, signing_secret: str, caplog: pytest.LogCaptureFixture
):
    answer = call(lambda_context, "GET", "/v1/files/no-such-file", user=ALICE)
    assert answer.status == 404
    (line,) = _request_lines(caplog)
    assert line["method"] == "GET"
    assert line["path"] == "/v1/files/no-such-file"
    assert line["status"] == 404
    assert line["correlation_id"]  # API Gateway's request id, on every line of the request
    assert isinstance(line["duration_ms"], float)
    # And its AWS calls by operation (the rate limit, the file read), which `make bench-cost` prices
    assert line["aws_calls"] == sum(line["aws_operations"].values())  # type: ignore[attr-defined]
    assert "dynamodb:GetItem" in line["aws_operations"]  # type: ignore[operator]


def test_an_upload_token_in_uppys_paths_never_reaches_the_log():
    assert loggable_path("/uppy/eyJhbGciOi.secret.sig/s3/multipart") == "/uppy/<token>/s3/multipart"
    assert loggable_path("/v1/files/f_1") == "/v1/files/f_1"


def test_every_line_of_a_request_names_its_caller_and_the_next_request_starts_clean(
    cloud: Cloud, lambda_context: FakeLambdaContext, signing_secret: str, caplog: pytest.LogCaptureFixture
):
    # Given Alice's request (a line inside it too: the route's refusal is logged before the request line)
    assert call(lambda_context, "GET", "/v1/files/no-such-file", user=ALICE).status == 404
    # Then each of its lines names her (formatted now: the keys are the logger's until the next request)
    alices = [json.loads(logger.registered_formatter.format(record)) for record in caplog.records]
    assert alices
    assert {line.get("user_id") for line in alices} == {ALICE}
    caplog.clear()
    # When an anonymous request follows in the same execution environment
    assert call(lambda_context, "GET", "/v1/files", user=None).status == 401
    # Then none of its lines carries Alice's id: the request's keys were cleared at its start
    (line,) = _request_lines(caplog)
    assert line["status"] == 401
    assert "user_id" not in line
