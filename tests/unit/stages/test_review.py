"""The review stage opens a review with the task token, escalates and expires it by the timeout rule;
finalize applies the decision to the file's AI analysis; notify sends review.decided. Fakes only."""

from __future__ import annotations

from typing import Any

import pytest

from fileflow_common.pipeline import Stage
from fileflow_common.reviews import review_id_for
from fileflow_common.webhooks.events import EventType
from fileflow_stages._runtime.stage import run_stage
from fileflow_stages._runtime.state import DeclaredFile
from fileflow_stages.analysis.handler import analyze
from fileflow_stages.detect.handler import detect_file
from fileflow_stages.finalize.handler import finalize
from fileflow_stages.image.handler import render
from fileflow_stages.notify.handler import notify
from fileflow_stages.review.handler import ReviewStateError, escalate_review, expire_review, open_review
from tests import samples
from tests.unit.stage_fakes import SOURCE, FakeRecords, FakeStore, FakeWebhookEvents, install, payload

AI: dict[str, Any] = {
    "status": "succeeded",
    "kind": "image",
    "model": "claude-cheap",
    "prompt_version": "v1",
    "confidence": 0.42,
    "result": {"description": "a cat", "tags": ["cat"], "category": "animals", "confidence": 0.42},
    "usage": {"input_tokens": 10, "output_tokens": 5, "cost_usd": 0.001},
}
FEATURES = {"image": {"width": 4, "height": 4}, "hashes": {"phash": "0" * 16}}
REVIEW_ID = review_id_for(SOURCE.job_id)


@pytest.fixture
def records() -> FakeRecords:
    records = FakeRecords(declared_file=DeclaredFile(upload_id="up-1", filename="secret-holiday.png"))
    records.queue()
    return records


@pytest.fixture
def webhooks(monkeypatch: pytest.MonkeyPatch, records: FakeRecords) -> FakeWebhookEvents:
    webhooks = FakeWebhookEvents()
    install(monkeypatch, FakeStore(samples.png()), records, webhooks)
    return webhooks


def analysed(records: FakeRecords) -> dict[str, Any]:
    """detect -> image -> analysis, then the AI stage's result on the job (what helper A's stage writes)."""
    state: dict[str, Any] = payload(data=samples.png())["state"]
    for stage, work, path in (
        (Stage.DETECT, detect_file, "detect"),
        (Stage.IMAGE, render, "content"),
        (Stage.ANALYSIS, analyze, "analysis"),
    ):
        state = {**state, path: run_stage(stage, {**payload(), "state": state}, work)}
    records.merge_job_result(records.job, {"ai": AI, "features": FEATURES})
    return {
        **state,
        "ai": {"ai_status": "succeeded", "confidence": 0.42, "review_required": True, "kind": "image"},
    }


def reviewing(state: dict[str, Any], work: Any, *, token: str | None = "token-1") -> dict[str, Any]:
    event = {**payload(), "state": state, "task_token": token}
    return run_stage(Stage.REVIEW, event, work, record_succeeded=work is expire_review)


def test_open_creates_the_review_with_what_the_reviewer_needs_and_nothing_else(
    records: FakeRecords, webhooks: FakeWebhookEvents
) -> None:
    # Given a file whose AI result has a low confidence
    state = analysed(records)
    # When the review task runs with its task token
    output = reviewing(state, open_review)
    # Then one review waits on that token, holding the thumbnail's key, the AI result and the features
    item = records.reviews[REVIEW_ID]
    assert output == {"review_id": REVIEW_ID, "status": "pending"}
    assert item["task_token"] == "token-1"
    assert (item["status"], item["gsi1pk"], item["kind"], item["category"]) == (
        "pending",
        "REVIEWS#pending",
        "image",
        "animals",
    )
    assert item["thumbnail_key"] == f"derived/{SOURCE.key.split('/')[1]}/file-0001/thumb-128.png"
    assert item["ai"]["result"] == AI["result"]
    assert "usage" not in item["ai"]
    assert item["features"] == FEATURES
    # And nothing else of the owner's: not the filename, not the original's key
    flat = repr(item)
    assert "secret-holiday" not in flat
    assert SOURCE.key not in flat.replace(item["thumbnail_key"], "")
    # And the owner sees the pending review on the file, the job carries it, and the stage is waiting
    assert records.file_review == {"review_id": REVIEW_ID, "status": "pending"}
    assert records.job.result["review"] == {"review_id": REVIEW_ID, "status": "pending"}
    assert records.stage_events()[-1] == ("review", "started")


def test_open_without_a_task_token_is_refused(records: FakeRecords, webhooks: FakeWebhookEvents) -> None:
    state = analysed(records)
    with pytest.raises(ReviewStateError, match="task token"):
        reviewing(state, open_review, token=None)


def test_a_retried_open_keeps_the_review_and_takes_the_new_token(
    records: FakeRecords, webhooks: FakeWebhookEvents
) -> None:
    state = analysed(records)
    reviewing(state, open_review, token="token-1")
    created = records.reviews[REVIEW_ID]["created_at"]
    reviewing(state, open_review, token="token-2")
    assert records.reviews[REVIEW_ID]["task_token"] == "token-2"
    assert records.reviews[REVIEW_ID]["created_at"] == created


def test_escalate_flags_the_review_and_waits_on_the_new_token_then_expire_rejects_it(
    records: FakeRecords, webhooks: FakeWebhookEvents
) -> None:
    # Given a pending review whose task timed out once
    state = analysed(records)
    reviewing(state, open_review, token="token-1")
    # When the timeout rule escalates it
    reviewing(state, escalate_review, token="token-2")
    # Then it waits on the new token, flagged, and the owner sees it escalated
    assert (records.reviews[REVIEW_ID]["status"], records.reviews[REVIEW_ID]["task_token"]) == (
        "escalated",
        "token-2",
    )
    assert records.file_review is not None
    assert records.file_review["status"] == "escalated"
    # When it times out again
    output = reviewing(state, expire_review, token=None)
    # Then the rule closed it: expired, decided by the rule, and the workflow gets what a decision gives
    assert output == {"review_id": REVIEW_ID, "decision": "expired"}
    assert records.reviews[REVIEW_ID]["status"] == "expired"
    assert "task_token" not in records.reviews[REVIEW_ID]
    assert records.file_review["status"] == "expired"


@pytest.mark.parametrize(
    ("decision", "changes", "expected_result", "rejected"),
    [
        ("approve", None, AI["result"], False),
        (
            "correct",
            {"description": "a dog", "tags": ["dog"]},
            {**AI["result"], "description": "a dog", "tags": ["dog"]},
            False,
        ),
        ("reject", None, None, True),
        ("expired", None, None, True),
    ],
)
def test_finalize_applies_the_decision_to_the_files_ai_analysis(
    records: FakeRecords,
    webhooks: FakeWebhookEvents,
    decision: str,
    changes: dict[str, Any] | None,
    expected_result: dict[str, Any] | None,
    rejected: bool,
) -> None:
    # Given a review decided (what the API's claim writes before it resumes the execution)
    state = analysed(records)
    reviewing(state, open_review)
    closed = "expired" if decision == "expired" else "decided"
    records.reviews[REVIEW_ID] |= {
        "status": closed,
        "decision": decision,
        "reviewer": "bob",
        "decided_at": "2026-05-04T10:30:00.000Z",
        **({"changes": changes} if changes else {}),
    }
    state = {**state, "review": {"review_id": REVIEW_ID, "decision": decision}}
    # When finalize runs, then notify
    state["finalize"] = run_stage(Stage.FINALIZE, {**payload(), "state": state}, finalize)
    run_stage(Stage.NOTIFY, {**payload(), "state": state}, notify)
    # Then the file's analysis shows the outcome: the result as it stands, corrected or dropped
    final = records.states[-1]
    assert final.final
    ai = final.analysis["ai"]
    assert ai["result"] == expected_result
    assert ai.get("rejected", False) is rejected
    assert ai["reviewed"] == decision
    assert final.analysis["review"]["decision"] == decision
    assert final.analysis["review"]["status"] == closed
    assert final.review == final.analysis["review"]
    assert records.job.result["review"]["reviewer"] == "bob"
    # And the owner's endpoints are told: review.decided with the decision
    reviewed = [event for event in webhooks.sent if event.type is EventType.REVIEW_DECIDED]
    assert [event.data.status for event in reviewed] == [decision]


def test_finalize_without_a_review_leaves_the_analysis_alone(
    records: FakeRecords, webhooks: FakeWebhookEvents
) -> None:
    state = analysed(records)
    state["finalize"] = run_stage(Stage.FINALIZE, {**payload(), "state": state}, finalize)
    run_stage(Stage.NOTIFY, {**payload(), "state": state}, notify)
    final = records.states[-1]
    assert final.final
    assert "review" not in final.analysis
    assert final.review is None
    assert all(event.type is not EventType.REVIEW_DECIDED for event in webhooks.sent)
