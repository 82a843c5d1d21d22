"""OpenAI job states onto ftbridge's, and a ``FineTuningJob`` onto a ``JobSnapshot``."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from ftbridge._models import JobErrorInfo, JobSnapshot, JobStatus

STATUS: dict[str, JobStatus] = {
    "validating_files": JobStatus.VALIDATING,
    "queued": JobStatus.QUEUED,
    "running": JobStatus.RUNNING,
    "paused": JobStatus.PAUSED,
    "succeeded": JobStatus.SUCCEEDED,
    "failed": JobStatus.FAILED,
    "cancelled": JobStatus.CANCELLED,
}
# A state OpenAI adds later is not terminal until we know better: keep following the job.
UNKNOWN_STATUS = JobStatus.RUNNING


def status_of(raw: str) -> JobStatus:
    return STATUS.get(raw, UNKNOWN_STATUS)


def _time(value: Any) -> datetime | None:
    return datetime.fromtimestamp(value, timezone.utc) if isinstance(value, (int, float)) else None


def snapshot(job: Any, checkpoints: list[dict[str, Any]] | None = None) -> JobSnapshot:
    """A ``JobSnapshot`` from the SDK's ``FineTuningJob`` (read leniently: fields come and go)."""
    raw = str(job.status)
    error = None
    job_error = getattr(job, "error", None)
    # A running job may carry ``error: {}``: only a message makes it an error.
    if job_error is not None and getattr(job_error, "message", None):
        error = JobErrorInfo(
            code=getattr(job_error, "code", None) or None,
            message=str(job_error.message),
            param=getattr(job_error, "param", None),
        )
    hp = getattr(job, "hyperparameters", None)
    details: dict[str, Any] = {
        "training_file": job.training_file,
        "validation_file": job.validation_file,
        "result_files": list(job.result_files or []),
        "base_model": job.model,
        "hyperparameters": hp.model_dump(mode="json") if hp is not None else None,
        "seed": getattr(job, "seed", None),
    }
    if checkpoints is not None:
        details["checkpoints"] = checkpoints
    epochs = getattr(hp, "n_epochs", None) if hp is not None else None
    return JobSnapshot(
        native_id=job.id,
        status=status_of(raw),
        raw_status=raw,
        model=job.fine_tuned_model,
        created_at=_time(job.created_at),
        finished_at=_time(job.finished_at),
        estimated_finish=_time(getattr(job, "estimated_finish", None)),
        trained_tokens=job.trained_tokens,
        epoch=float(epochs) if isinstance(epochs, int) and raw == "succeeded" else None,
        error=error,
        details=details,
    )
