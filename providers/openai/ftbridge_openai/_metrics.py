"""Training metrics from OpenAI: the result file's CSV and ``metrics`` events.

The CSV's columns have changed over time (``train_accuracy`` became
``train_mean_token_accuracy`` in places, Azure adds ``full_valid_*``), so it is read by header
name and any numeric column is kept; empty cells (steps without evaluation) are skipped.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable
from typing import Any

from ftbridge._models import MetricPoint

# One name per quantity, whichever source it came from.
RENAMES = {"train_mean_token_accuracy": "train_accuracy"}
_NOT_METRICS = {"step", "total_steps", "epoch"}


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _values(row: dict[str, Any]) -> dict[str, float]:
    out: dict[str, float] = {}
    for name, value in row.items():
        if name is None or name in _NOT_METRICS:
            continue
        number = _number(value)
        if number is not None:
            out[RENAMES.get(name.strip(), name.strip())] = number
    return out


def parse_results_csv(text: str) -> list[MetricPoint]:
    """``step,train_loss,...`` → one point per step, in step order."""
    points: dict[int, MetricPoint] = {}
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    if reader.fieldnames is None or "step" not in [f.strip() for f in reader.fieldnames]:
        return []
    for row in reader:
        row = {(k or "").strip(): v for k, v in row.items()}
        step = _number(row.get("step"))
        if step is None:
            continue
        values = _values(row)
        if values:
            epoch = _number(row.get("epoch"))
            points[int(step)] = MetricPoint(step=int(step), epoch=epoch, values=values)
    return [points[s] for s in sorted(points)]


def points_from_event_data(items: Iterable[dict[str, Any]]) -> list[MetricPoint]:
    """Metrics events' ``data`` (``{"step": 3, "train_loss": ...}``) → points in step order."""
    points: dict[int, MetricPoint] = {}
    for data in items:
        step = _number(data.get("step"))
        values = _values(data)
        if step is not None and values:
            points[int(step)] = MetricPoint(step=int(step), values=values)
    return [points[s] for s in sorted(points)]


def merge(primary: list[MetricPoint], extra: list[MetricPoint]) -> list[MetricPoint]:
    """``primary`` wins a step both have; the rest of ``extra`` fills in."""
    by_step = {p.step: p for p in extra}
    by_step.update({p.step: p for p in primary})
    return [by_step[s] for s in sorted(by_step)]
