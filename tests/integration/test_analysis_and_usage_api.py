"""Initiate's `analysis` (local, auto, deep) and GET /v1/usage (#11) through the API handler on moto: the
mode stored on the session and the file item (where the AI stage reads it) and shown; the caller's own
storage and AI figures, budgets included, and nobody else's."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.integration.api_requests import ALICE, BOB, Answer, call
from tests.integration.conftest import Cloud, FakeLambdaContext
from tests.integration.test_upload_priority_callback_api import upload_token

BODY = {"filename": "a.txt", "size": 3, "content_type": "text/plain"}


@pytest.fixture
def api(cloud: Cloud, lambda_context: FakeLambdaContext) -> FakeLambdaContext:
    return lambda_context


def initiate(api: FakeLambdaContext, **fields: Any) -> Answer:
    return call(api, "POST", "/v1/uploads", body={**BODY, **fields})


def test_initiate_stores_the_analysis_mode_where_the_ai_stage_reads_it(
    api: FakeLambdaContext, cloud: Cloud
) -> None:
    answer = initiate(api, analysis="deep")
    assert answer.status == 201, answer.body
    upload = answer.body
    assert upload["analysis"] == "deep"
    session = cloud.table.get_item(Key={"pk": f"USER#{ALICE}", "sk": f"UPLOAD#{upload['upload_id']}"})["Item"]
    file = cloud.table.get_item(Key={"pk": f"USER#{ALICE}", "sk": f"FILE#{upload['file_id']}"})["Item"]
    assert (session["analysis_mode"], file["analysis_mode"]) == ("deep", "deep")
    assert call(api, "GET", f"/v1/uploads/{upload['upload_id']}").body["analysis"] == "deep"
    assert call(api, "GET", f"/v1/files/{upload['file_id']}").body["analysis_mode"] == "deep"
    # And without it: auto
    assert initiate(api).body["analysis"] == "auto"


def test_an_unknown_analysis_mode_is_a_422(api: FakeLambdaContext) -> None:
    answer = initiate(api, analysis="maximum")
    assert answer.status == 422
    s3 = f"/uppy/{upload_token(api)}/s3"
    query = {"filename": "cat.png", "type": "image/png", "metadata[size]": "4", "metadata[analysis]": "max"}
    uppy = call(api, "GET", f"{s3}/params", query=query, user=None)
    assert (uppy.status, uppy.error_code) == (422, "InvalidAnalysisMode")


def test_uppy_metadata_carries_the_analysis_mode(api: FakeLambdaContext, cloud: Cloud) -> None:
    s3 = f"/uppy/{upload_token(api)}/s3"
    created = call(
        api,
        "POST",
        f"{s3}/multipart",
        body={"filename": "clip.png", "type": "image/png", "metadata": {"analysis": "local"}},
        user=None,
    )
    assert created.status == 200, created.body
    assert call(api, "GET", f"/v1/uploads/{created.body['uploadId']}").body["analysis"] == "local"


def _day_item(user: str, day: str, **counters: int) -> dict[str, Any]:
    return {"pk": f"USER#{user}", "sk": f"AIUSAGE#DAY#{day}", "entity": "ai_usage", **counters}


def test_usage_shows_the_callers_storage_and_ai_figures_and_budget_only(
    api: FakeLambdaContext, cloud: Cloud
) -> None:
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    month = today[:7]
    # Given Alice's AI use today, Bob's, and everyone's month
    cloud.table.put_item(
        Item=_day_item(
            ALICE, today, input_tokens=1200, output_tokens=80, cost_micro_usd=250_000, calls=2, cache_hits=1
        )
    )
    cloud.table.put_item(Item=_day_item(BOB, today, input_tokens=9, cost_micro_usd=999_999, calls=9))
    cloud.table.put_item(Item={"pk": "AIUSAGE#GLOBAL", "sk": f"MONTH#{month}", "cost_micro_usd": 5})
    # And a file of Alice's initiated (its bytes reserved against her quota)
    assert initiate(api).status == 201
    # When Alice asks
    answer = call(api, "GET", "/v1/usage")
    assert answer.status == 200, answer.body
    body = answer.body
    # Then her storage use and quota ...
    assert (body["storage"]["files"], body["storage"]["bytes"]) == (1, 3)
    assert body["storage"]["max_files"] > 0
    # ... her AI figures today and this month, never Bob's
    assert body["ai"]["today"] == {
        "period": today,
        "input_tokens": 1200,
        "output_tokens": 80,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "cost_usd": 0.25,
        "calls": 2,
        "cache_hits": 1,
    }
    assert body["ai"]["month"]["cost_usd"] == 0.25
    assert [day["period"] for day in body["ai"]["days"]] == [today]
    # ... and her budget with what is left (the default 1 USD a day)
    assert body["ai"]["budget"] == {
        "daily_usd": 1.0,
        "daily_remaining_usd": 0.75,
        "daily_overridden": False,
        "monthly_exhausted": False,
    }
    # And an operator's override of her budget shows
    cloud.table.put_item(Item={"pk": f"USER#{ALICE}", "sk": "AIBUDGET", "daily_budget_micro_usd": 100_000})
    budget = call(api, "GET", "/v1/usage").body["ai"]["budget"]
    assert (budget["daily_usd"], budget["daily_remaining_usd"], budget["daily_overridden"]) == (0.1, 0, True)
    # And Bob sees his own
    assert call(api, "GET", "/v1/usage", user=BOB).body["ai"]["today"]["cost_usd"] == 0.999999
    # And without a token: 401
    assert call(api, "GET", "/v1/usage", user=None).status == 401
