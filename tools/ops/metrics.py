"""Fileflow's metrics as the functions wrote them: EMF records in their log lines (no CloudWatch query,
so it works the same on the local cloud, whose metrics API holds only what was put directly)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tools.ops import logs


@dataclass(slots=True)
class MetricRow:
    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...]
    unit: str
    latest: float = 0.0
    samples: int = 0
    at_ms: int = 0
    values: list[float] = field(default_factory=list)

    @property
    def dimension_text(self) -> str:
        return ", ".join(f"{key}={value}" for key, value in self.dimensions)

    @property
    def at(self) -> str:
        return datetime.fromtimestamp(self.at_ms / 1000, UTC).isoformat(timespec="seconds")

    def as_json(self) -> dict[str, Any]:
        return {
            "namespace": self.namespace,
            "name": self.name,
            "dimensions": dict(self.dimensions),
            "unit": self.unit,
            "latest": self.latest,
            "samples": self.samples,
            "sum": sum(self.values),
            "at": self.at,
        }


def emf_metrics(
    record: dict[str, Any],
) -> Iterable[tuple[tuple[str, str, tuple[tuple[str, str], ...], str], list[float]]]:
    """((namespace, name, dimensions, unit), values) for each metric of one EMF record."""
    meta = record.get("_aws")
    if not isinstance(meta, dict):
        return
    for directive in meta.get("CloudWatchMetrics") or []:
        namespace = str(directive.get("Namespace", ""))
        dimension_sets = directive.get("Dimensions") or [[]]
        for metric in directive.get("Metrics") or []:
            name = metric.get("Name")
            raw = record.get(name)
            values = raw if isinstance(raw, list) else [raw]
            numbers = [float(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
            if not name or not numbers:
                continue
            for dimension_set in dimension_sets:
                dimensions = tuple((key, str(record.get(key, ""))) for key in dimension_set)
                yield (namespace, name, dimensions, str(metric.get("Unit", ""))), numbers


def latest_metrics(logs_client: Any, groups: Iterable[str], *, start_ms: int) -> list[MetricRow]:
    rows: dict[tuple[str, str, tuple[tuple[str, str], ...], str], MetricRow] = {}
    for group in groups:
        for line in logs.read(logs_client, group, start_ms=start_ms):
            record = line.record
            if record is None:
                continue
            for key, values in emf_metrics(record):
                row = rows.get(key) or rows.setdefault(key, MetricRow(key[0], key[1], key[2], key[3]))
                row.samples += len(values)
                row.values.extend(values)
                if line.timestamp_ms >= row.at_ms:
                    row.latest, row.at_ms = values[-1], line.timestamp_ms
    return sorted(rows.values(), key=lambda row: (row.namespace, row.name, row.dimensions))
