"""The cost model's arithmetic, against figures computed by hand (bench/cost_model.py, docs/cost.md)."""

from __future__ import annotations

import pytest

from bench.cost_model import (
    AWS_LINES,
    Invocation,
    Prices,
    Usage,
    add_usage,
    cost_per_million,
    dynamodb_units,
    s3_class,
)

# Round prices, so each expected figure is easy to check by hand.
PRICES = Prices(
    as_of="2026-12-02",
    verified_online=False,
    lambda_gb_second=0.00001,
    lambda_request=0.0000002,
    lambda_ephemeral_gb_second=0.00000003,
    lambda_ephemeral_free_mb=512,
    api_request=0.0000035,
    s3_put_class=0.000005,
    s3_get_class=0.0000004,
    s3_storage_gb_month=0.02,
    dynamodb_write_unit=0.000001,
    dynamodb_read_unit=0.0000001,
    sqs_request=0.0000004,
    sfn_transition=0.000025,
    logs_ingest_gb=0.5,
    secrets_call=0.000005,
    xray_trace=0.000005,
)


def test_the_price_file_loads_with_per_unit_prices() -> None:
    prices = Prices.load()
    # 0.20 USD per million requests, 0.005 USD per thousand PUTs, 0.025 USD per thousand transitions
    assert prices.lambda_request == pytest.approx(2e-7)
    assert prices.s3_put_class == pytest.approx(5e-6)
    assert prices.sfn_transition == pytest.approx(2.5e-5)
    assert prices.as_of
    assert prices.verified_online is False


def test_lambda_bills_gb_seconds_rounded_up_to_the_millisecond_and_one_request_each() -> None:
    # Given 1024 MB for 99.2 ms (billed 100 ms) and, half the time, 256 MB for 10 ms
    usage = Usage(
        invocations=(
            Invocation("image", memory_mb=1024, duration_ms=99.2),
            Invocation("starter", memory_mb=256, duration_ms=10, count=0.5),
        )
    )
    cost = cost_per_million(usage, PRICES)
    # Then compute is (1 GB x 0.1 s + 0.5 x 0.25 GB x 0.01 s) x 0.00001 x 1e6 = 1.0125 USD per million
    assert cost.lines["Lambda compute"] == pytest.approx(1.0125)
    # and requests 1.5 x 0.0000002 x 1e6 = 0.30 USD
    assert cost.lines["Lambda requests"] == pytest.approx(0.30)


def test_tmp_above_512_mb_is_billed_by_the_gb_second() -> None:
    # 2048 MB of memory, 2560 MB of /tmp (2 GB over the free 512 MB), 1 s
    usage = Usage(invocations=(Invocation("video", 2048, 1000, ephemeral_mb=2560),))
    cost = cost_per_million(usage, PRICES)
    # (2 GB x 1 s x 0.00001 + 2 GB x 1 s x 0.00000003) x 1e6 = 20 + 0.06
    assert cost.lines["Lambda compute"] == pytest.approx(20.06)


def test_s3_requests_are_priced_by_class_and_deletes_are_free() -> None:
    assert [
        s3_class(op) for op in ("PutObject", "UploadPart", "ListObjectsV2", "GetObject", "HeadObject")
    ] == [
        "put",
        "put",
        "put",
        "get",
        "get",
    ]
    assert s3_class("DeleteObject") == s3_class("AbortMultipartUpload") == "free"
    usage = Usage(operations={"s3:PutObject": 2, "s3:GetObject": 3, "s3:HeadObject": 2, "s3:DeleteObject": 9})
    # (2 x 0.000005 + 5 x 0.0000004) x 1e6 = 10 + 2
    assert cost_per_million(usage, PRICES).lines["S3 requests"] == pytest.approx(12.0)


def test_dynamodb_units_count_transaction_items_twice_and_control_calls_not_at_all() -> None:
    operations = {
        "dynamodb:GetItem": 3,
        "dynamodb:Query": 1,
        "dynamodb:UpdateItem": 2,
        "dynamodb:TransactWriteItems": 2,
        "dynamodb:BatchGetItem": 1,
        "dynamodb:DescribeTable": 4,
        "s3:GetObject": 5,
    }
    items = {"dynamodb:TransactWriteItems": 4, "dynamodb:BatchGetItem": 10}
    # reads: 3 + 1 + 10 = 14; writes: 2 + 4 x 2 = 10
    assert dynamodb_units(operations, items) == (14.0, 10.0)
    cost = cost_per_million(Usage(operations=operations, items=items), PRICES)
    # (14 x 0.0000001 + 10 x 0.000001) x 1e6 = 1.4 + 10
    assert cost.lines["DynamoDB"] == pytest.approx(11.4)


def test_the_other_lines_and_the_total() -> None:
    usage = Usage(
        operations={
            "sqs:SendMessage": 1,
            "sqs:DeleteMessageBatch": 0.1,
            "secretsmanager:GetSecretValue": 0.01,
        },
        transitions=8,
        api_requests=3,
        log_bytes=2048,
        traces=1,
        stored_bytes=5 * 1024**2,
    )
    cost = cost_per_million(usage, PRICES)
    assert cost.lines["SQS"] == pytest.approx(1.1 * 0.4)  # 1.1 requests x 0.0000004 x 1e6
    assert cost.lines["Secrets Manager"] == pytest.approx(0.05)  # 0.01 x 0.000005 x 1e6
    assert cost.lines["Step Functions"] == pytest.approx(200.0)  # 8 x 0.000025 x 1e6
    assert cost.lines["API Gateway"] == pytest.approx(10.5)  # 3 x 0.0000035 x 1e6
    assert cost.lines["CloudWatch Logs"] == pytest.approx(2048 / 1024**3 * 0.5 * 1e6)  # 0.9537 USD
    assert cost.lines["X-Ray"] == pytest.approx(5.0)
    # Storage is per month kept, outside the total: 5 MiB x 1e6 = 4882.8 GB x 0.02 = 97.66 USD a month
    assert cost.storage_month == pytest.approx(5 / 1024 * 0.02 * 1e6)
    assert list(cost.lines) == list(AWS_LINES)
    assert cost.total == pytest.approx(0.44 + 0.05 + 200 + 10.5 + 2048 / 1024**3 * 0.5 * 1e6 + 5)


def test_usages_add_up() -> None:
    api = Usage(
        invocations=(Invocation("api", 512, 20),), operations={"dynamodb:UpdateItem": 1}, api_requests=1
    )
    pipeline = Usage(
        invocations=(Invocation("detect", 512, 40),),
        operations={"dynamodb:UpdateItem": 2, "s3:GetObject": 1},
        items={"dynamodb:TransactWriteItems": 2},
        transitions=7,
    )
    total = add_usage(api, pipeline)
    assert total.operations == {"dynamodb:UpdateItem": 3, "s3:GetObject": 1}
    assert total.items == {"dynamodb:TransactWriteItems": 2}
    assert [one.function for one in total.invocations] == ["api", "detect"]
    assert (total.api_requests, total.transitions) == (1, 7)
