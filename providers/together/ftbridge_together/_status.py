"""Together's job objects, events and metrics read into ftbridge's models.

The SDK returns different classes for the same job (the sync ``create`` gives a ``lib`` model
whose output name is ``.output_name``; ``retrieve`` gives a generated model where it is
``.x_model_output_name``), so everything here reads the wire fields (``to_dict()``, by alias)
instead of attributes.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from ftbridge._models import Event, EventLevel, JobErrorInfo, JobSnapshot, JobStatus, MetricPoint

# Together status -> ftbridge status. ``user_error`` is in the SDK's enum but not the spec's.
STATUS: dict[str, JobStatus] = {
    "pending": JobStatus.PENDING,
    "queued": JobStatus.QUEUED,
    "running": JobStatus.RUNNING,
    "compressing": JobStatus.RUNNING,
    "uploading": JobStatus.RUNNING,
    "cancel_requested": JobStatus.RUNNING,  # still billing until it stops
    "cancelled": JobStatus.CANCELLED,
    "error": JobStatus.FAILED,
    "user_error": JobStatus.FAILED,
    "completed": JobStatus.SUCCEEDED,
}

NANODOLLARS_PER_DOLLAR = 1_000_000_000  # Together reports ``total_price`` in nano-dollars

_LEVELS: dict[str, EventLevel] = {
    "info": "info",
    "legacy_info": "info",
    "warning": "warning",
    "legacy_iwarning": "warning",
    "error": "error",
    "legacy_ierror": "error",
}


def wire(obj: Any) -> dict[str, Any]:
    """The JSON fields the server sent for an SDK object, by their wire names."""
    if isinstance(obj, dict):
        return obj
    data: dict[str, Any] = obj.to_dict(
        mode="json", use_api_names=True, exclude_unset=True, warnings=False
    )
    return data


def map_status(raw: str | None, started: bool = False) -> JobStatus:
    """An unknown state maps to the nearest non-terminal value."""
    if raw in STATUS:
        return STATUS[raw]
    return JobStatus.RUNNING if started else JobStatus.PENDING


def _time(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, timezone.utc)
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _failure(job: dict[str, Any], raw: str) -> JobErrorInfo | None:
    if STATUS.get(raw) is not JobStatus.FAILED:
        return None
    # The job object carries its events; the last error-level one says why it failed.
    for event in reversed(job.get("events") or []):
        if isinstance(event, dict) and (
            event.get("level") in ("error", "legacy_ierror")
            or str(event.get("type", "")).lower() in ("job_error", "job_user_error")
        ):
            return JobErrorInfo(code=raw, message=str(event.get("message") or raw))
    return JobErrorInfo(code=raw, message=f"Together reports the job as {raw!r}")


def snapshot(obj: Any) -> JobSnapshot:
    """A ``JobSnapshot`` from a job as any SDK call returned it."""
    job = wire(obj)
    raw = str(job.get("status") or "pending")
    status = map_status(raw, started=job.get("started_at") is not None)
    updated = _time(job.get("updated_at"))
    progress = job.get("progress") or {}
    estimated_finish = None
    if progress.get("estimate_available") and _int(progress.get("seconds_remaining")) is not None:
        estimated_finish = (updated or datetime.now(timezone.utc)) + timedelta(
            seconds=progress["seconds_remaining"]
        )
    price = _int(job.get("total_price"))
    details: dict[str, Any] = {
        key: job[key]
        for key in (
            "training_file",
            "validation_file",
            "suffix",
            "training_type",
            "training_method",
            "batch_size",
            "learning_rate",
            "n_epochs",
            "queue_depth",
            "from_checkpoint",
            "adapter_output_name",
        )
        if job.get(key) not in (None, "")
    }
    if job.get("model_output_name"):
        details["output_name"] = job["model_output_name"]
    if job.get("model"):
        details["base_model"] = job["model"]
    if price is not None:
        details["price_usd"] = price / NANODOLLARS_PER_DOLLAR
        if raw in ("cancel_requested", "cancelled"):
            # Together bills the training steps completed before a cancellation.
            details["cost_so_far_usd"] = price / NANODOLLARS_PER_DOLLAR
    steps = _int(job.get("steps_completed"))
    return JobSnapshot(
        native_id=str(job["id"]),
        status=status,
        raw_status=raw,
        model=job.get("model_output_name") or None,
        created_at=_time(job.get("created_at")),
        finished_at=updated if status.is_terminal else None,
        step=steps,
        total_steps=_int(job.get("total_steps")),
        epoch=float(job["epochs_completed"]) if _int(job.get("epochs_completed")) else None,
        trained_tokens=_int(job.get("token_count")),
        estimated_finish=estimated_finish,
        error=_failure(job, raw),
        details=details,
    )


def events(data: list[Any], after: str | None) -> list[Event]:
    """Together's event list (oldest first) as ``Event``s newer than the id ``after``.

    Together's events have no id; the list only grows, so the position is a stable one.
    """
    start = int(after) + 1 if after is not None and after.isdigit() else 0
    result: list[Event] = []
    for index, item in enumerate(data):
        if index < start:
            continue
        event = wire(item)
        level = _LEVELS.get(str(event.get("level") or "info").lower(), "info")
        result.append(
            Event(
                id=str(index),
                time=_time(event.get("created_at")) or datetime.now(timezone.utc),
                level=level,
                message=str(event.get("message") or event.get("type") or ""),
                step=_int(event.get("step")),
            )
        )
    return result


def checkpoints(job_id: str, data: list[Any]) -> list[dict[str, Any]]:
    """Checkpoints, each with the ``from_checkpoint`` value that continues training from it."""
    result = []
    for item in data:
        point = wire(item)
        step = _int(point.get("step"))
        result.append(
            {
                "step": step,
                "type": point.get("checkpoint_type"),
                "path": point.get("path"),
                "created_at": point.get("created_at"),
                "from_checkpoint": f"{job_id}:{step}" if step is not None else job_id,
            }
        )
    return sorted(result, key=lambda c: c["step"] or 0)


_METRIC_NAMES = {
    "train/loss": "train_loss",
    "eval/loss": "valid_loss",
    "train/learning_rate": "learning_rate",
}
_STEP_KEYS = ("train/global_step", "global_step", "eval/global_step", "step")
_EPOCH_KEYS = ("train/epoch", "epoch", "eval/epoch")


def metric_points(rows: list[dict[str, float]]) -> list[MetricPoint]:
    """Rows such as ``{"train/loss": 0.5, "train/global_step": 7}`` merged by step."""
    by_step: dict[int, tuple[float | None, dict[str, float]]] = {}
    for row in rows:
        step = next((int(row[k]) for k in _STEP_KEYS if k in row), None)
        if step is None:
            continue
        epoch = next((float(row[k]) for k in _EPOCH_KEYS if k in row), None)
        values = {
            _METRIC_NAMES.get(name, name.replace("/", "_")): float(value)
            for name, value in row.items()
            if name not in _STEP_KEYS and name not in _EPOCH_KEYS
        }
        old_epoch, old_values = by_step.get(step, (None, {}))
        by_step[step] = (epoch if epoch is not None else old_epoch, {**old_values, **values})
    return [
        MetricPoint(step=step, epoch=epoch, values=values)
        for step, (epoch, values) in sorted(by_step.items())
    ]
