"""The operator commands' parsing: durations, EMF records (tools/ops)."""

from __future__ import annotations

import pytest

from tools.ops.logs import since_ms
from tools.ops.metrics import emf_metrics


def test_since_takes_a_number_and_a_unit():
    assert since_ms("10m", now=1_000.0) == (1_000 - 600) * 1000
    assert since_ms("2h", now=10_000.0) == (10_000 - 7200) * 1000
    with pytest.raises(ValueError, match=r"e\.g\. 10m"):
        since_ms("ten minutes")


def test_an_emf_record_gives_each_metric_with_its_dimensions_and_values():
    record = {
        "_aws": {
            "Timestamp": 1,
            "CloudWatchMetrics": [
                {
                    "Namespace": "Fileflow",
                    "Dimensions": [["stage", "service"]],
                    "Metrics": [{"Name": "StageDuration", "Unit": "Milliseconds"}, {"Name": "Missing"}],
                }
            ],
        },
        "stage": "image",
        "service": "stage-image",
        "StageDuration": [12.5, 30.0],
    }
    assert list(emf_metrics(record)) == [
        (
            ("Fileflow", "StageDuration", (("stage", "image"), ("service", "stage-image")), "Milliseconds"),
            [12.5, 30.0],
        )
    ]


def test_a_log_line_that_is_not_emf_gives_nothing():
    assert list(emf_metrics({"message": "stage succeeded"})) == []


def test_invoke_counts_an_api_answer_of_5xx_as_a_failure_but_not_a_4xx():
    from tools.ops.__main__ import _server_error

    assert _server_error('{"statusCode": 502, "body": "{}"}') == "status 502"
    assert _server_error('{"statusCode": 404, "body": "{}"}') is None
    assert _server_error('{"batchItemFailures": []}') is None
    assert _server_error("not json") is None
