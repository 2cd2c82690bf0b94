"""The audit trail counts what operators watch: uploads started, completed (with bytes), aborted."""

from __future__ import annotations

from typing import Any

import pytest

from fileflow_api.audit.trail import AuditAction, AuditEvent, AuditPage, AuditTrail, RequestOrigin
from fileflow_common.observability import metrics


class MemoryLog:
    def __init__(self) -> None:
        self.events: list[AuditEvent] = []

    def append(self, event: AuditEvent) -> None:
        self.events.append(event)

    def page(self, user_id: str, *, after: dict[str, str] | None, limit: int) -> AuditPage:
        mine = [event for event in self.events if event.user_id == user_id]
        return AuditPage(events=mine[::-1][:limit], next_position=None)


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    calls: list[tuple[str, Any]] = []
    monkeypatch.setattr(metrics, "add_metric", lambda **kw: calls.append((kw["name"], kw["value"])))
    return calls


def test_a_completed_upload_counts_once_with_its_bytes(counted: list[tuple[str, Any]]):
    trail = AuditTrail(MemoryLog())
    origin = RequestOrigin(request_id="r1")
    trail.record("u1", AuditAction.UPLOAD_INITIATED, resource_type="upload", resource_id="up1", origin=origin)
    trail.record(
        "u1", AuditAction.UPLOAD_COMPLETED, resource_type="upload", resource_id="up1", origin=origin,
        details={"size": 4096},
    )  # fmt: skip
    trail.record(
        "u1", AuditAction.UPLOAD_TOKEN_MINTED, resource_type="upload_token", resource_id="t", origin=origin
    )
    assert counted == [("UploadsStarted", 1), ("UploadsCompleted", 1), ("UploadedBytes", 4096)]
