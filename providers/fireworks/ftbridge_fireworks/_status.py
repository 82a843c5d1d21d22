"""Fireworks' job objects read into ftbridge's models: the state table, snapshots, events.

A job's ftbridge id carries its kind: ``sft/<job id>`` for a supervised fine-tuning job,
``dpo/<job id>`` for a DPO job (``fireworks:sft/ftb-3f9a...``), because the two live under
different routes. Everything here reads the wire fields (camelCase, as the server sent them).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from ftbridge._models import Event, EventLevel, JobErrorInfo, JobSnapshot, JobStatus

# Every ``gatewayJobState`` the reference pages list, plus PAUSED (the SDK and resume-dpo).
STATES: dict[str, JobStatus] = {
    "JOB_STATE_UNSPECIFIED": JobStatus.PENDING,
    "JOB_STATE_CREATING": JobStatus.PENDING,
    "JOB_STATE_PENDING": JobStatus.QUEUED,
    "JOB_STATE_RE_QUEUEING": JobStatus.QUEUED,
    "JOB_STATE_IDLE": JobStatus.QUEUED,
    "JOB_STATE_VALIDATING": JobStatus.VALIDATING,
    "JOB_STATE_CREATING_INPUT_DATASET": JobStatus.VALIDATING,
    "JOB_STATE_RUNNING": JobStatus.RUNNING,
    "JOB_STATE_WRITING_RESULTS": JobStatus.RUNNING,
    "JOB_STATE_CANCELLING": JobStatus.RUNNING,  # still stopping
    "JOB_STATE_PAUSED": JobStatus.PAUSED,
    "JOB_STATE_COMPLETED": JobStatus.SUCCEEDED,
    "JOB_STATE_EARLY_STOPPED": JobStatus.SUCCEEDED,  # stopped by early_stop, with a model
    "JOB_STATE_FAILED": JobStatus.FAILED,
    "JOB_STATE_EXPIRED": JobStatus.FAILED,
    "JOB_STATE_CANCELLED": JobStatus.CANCELLED,
    "JOB_STATE_DELETING": JobStatus.CANCELLED,  # the job is going away: nothing will come of it
    "JOB_STATE_DELETING_CLEANING_UP": JobStatus.CANCELLED,
}

KINDS = ("sft", "dpo")


def native_id(kind: str, job_id: str) -> str:
    return f"{kind}/{job_id}"


def split_id(native: str) -> tuple[str, str]:
    """``"sft/ftb-1"`` -> ``("sft", "ftb-1")``; a bare id is taken as an SFT job's."""
    kind, sep, job_id = native.partition("/")
    if sep and kind in KINDS and job_id:
        return kind, job_id
    return "sft", native.rsplit("/", 1)[-1]


def map_state(raw: str | None, started: bool = False) -> JobStatus:
    """An unknown state maps to the nearest non-terminal value."""
    if raw in STATES:
        return STATES[raw]
    return JobStatus.RUNNING if started else JobStatus.PENDING


def wire(obj: Any) -> dict[str, Any]:
    """The JSON fields the server sent for an SDK object, by their wire names."""
    if isinstance(obj, dict):
        return obj
    data: dict[str, Any] = obj.to_dict(
        mode="json", use_api_names=True, exclude_unset=True, warnings=False
    )
    return data


def parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def tail(name: Any) -> str:
    """The id at the end of a resource name (``accounts/a/models/m`` -> ``m``)."""
    return str(name or "").rsplit("/", 1)[-1]


def money(cost: Any) -> float | None:
    """A ``google.type.Money`` (``units`` string, ``nanos``) as a float."""
    if not isinstance(cost, dict):
        return None
    try:
        return int(cost.get("units") or 0) + int(cost.get("nanos") or 0) / 1e9
    except (TypeError, ValueError):
        return None


def snapshot(obj: Any, kind: str, account: str) -> JobSnapshot:
    """A ``JobSnapshot`` from an SFT or DPO job as any SDK call returned it."""
    job = wire(obj)
    raw = str(job.get("state") or "JOB_STATE_UNSPECIFIED")
    progress = job.get("jobProgress") or {}
    status = map_state(raw, started=bool(progress))
    config = job.get("trainingConfig") or job  # DPO nests its training settings
    job_id = tail(job.get("name"))
    output = config.get("outputModel") or job_id
    model = output if "/" in str(output) else f"accounts/{account}/models/{output}"
    details: dict[str, Any] = {"job_name": job.get("name"), "output_model": model}
    for key in ("dataset", "evaluationDataset", "baseModel", "warmStartFrom"):
        value = config.get(key) if key != "dataset" else job.get("dataset")
        if value:
            details[key] = value
    for key in (
        "epochs",
        "learningRate",
        "loraRank",
        "batchSize",
        "batchSizeSamples",
        "maxContextLength",
    ):
        if config.get(key) is not None:
            details[key] = config[key]
    if progress.get("percent") is not None:
        details["percent"] = progress["percent"]
    cost = money(job.get("estimatedCost"))
    if cost is not None:
        details["estimated_cost_usd"] = cost
    error = None
    st = job.get("status") or {}
    if status is JobStatus.FAILED:
        error = JobErrorInfo(
            code=str(st.get("code") or raw),
            message=str(st.get("message") or f"Fireworks reports the job as {raw}"),
        )
    epoch = progress.get("epoch")
    return JobSnapshot(
        native_id=native_id(kind, job_id),
        status=status,
        raw_status=raw,
        model=model if status is JobStatus.SUCCEEDED else None,
        created_at=parse_time(job.get("createTime")),
        finished_at=parse_time(job.get("completedTime") or job.get("updateTime"))
        if status.is_terminal
        else None,
        epoch=float(epoch) if isinstance(epoch, (int, float)) else None,
        error=error,
        details=details,
    )


def events(job: dict[str, Any], after: str | None) -> list[Event]:
    """What a job object says happened, as events (Fireworks has no event list).

    The creation, and the state the job is in with its status message. Ids are the event's
    kind and state, so the same event read twice has the same id and the core keeps it once.
    """
    raw = str(job.get("state") or "JOB_STATE_UNSPECIFIED")
    created = parse_time(job.get("createTime")) or datetime.now(timezone.utc)
    result = [Event(id="created", time=created, message="Fine-tuning job created")]
    if raw not in ("JOB_STATE_UNSPECIFIED", "JOB_STATE_CREATING"):
        status = map_state(raw)
        st = job.get("status") or {}
        message = f"Job state {raw.removeprefix('JOB_STATE_')}"
        if st.get("message"):
            message += f": {st['message']}"
        when = parse_time(job.get("completedTime") or job.get("updateTime")) or created
        level: EventLevel = "error" if status is JobStatus.FAILED else "info"
        result.append(Event(id=f"state:{raw}", time=when, level=level, message=message))
    if after is None:
        return result
    ids = [e.id for e in result]
    # "created" always comes first, so an ``after`` that is no longer listed (an earlier
    # state) means everything but the creation is new.
    return result[ids.index(after) + 1 :] if after in ids else result[1:]
