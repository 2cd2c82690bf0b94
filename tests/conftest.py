"""Shared by every suite that imports function code in-process (unit, integration)."""

import io
import json
import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

# Powertools reads these when fileflow_common.observability is first imported (test collection).
os.environ["POWERTOOLS_SERVICE_NAME"] = "fileflow-test"
os.environ["POWERTOOLS_METRICS_NAMESPACE"] = "FileflowTest"
os.environ["POWERTOOLS_TRACE_DISABLED"] = "true"

from fileflow_common.observability import logger, metrics

type LogReader = Callable[[], list[dict[str, Any]]]


@pytest.fixture(autouse=True)
def _isolated_metrics() -> Iterator[None]:
    """Metrics added outside a `log_metrics` handler would otherwise leak into a later test's flush."""
    metrics.clear_metrics()
    yield
    metrics.clear_metrics()


@pytest.fixture
def captured_logs(monkeypatch: pytest.MonkeyPatch) -> LogReader:
    """The Powertools logger's JSON lines, parsed (its handler holds the stream it was built with)."""
    buffer = io.StringIO()
    monkeypatch.setattr(logger.registered_handler, "stream", buffer)
    return lambda: [json.loads(line) for line in buffer.getvalue().splitlines()]
