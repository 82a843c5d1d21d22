"""What Together holds for the account: the fine-tuned models its succeeded jobs made.

Together's listing gives no shutdown date for a fine-tuned model, so ``ftbridge inventory``
reports it as unknown rather than guessing one.
"""

from __future__ import annotations

from typing import Any

from ftbridge._models import Hyperparameters, JobSnapshot
from ftbridge.migrate import RemoteModel

from . import _status


def fine_tuned_models(jobs: list[Any]) -> list[RemoteModel]:
    """One model per succeeded job of Together's job listing."""
    out: dict[str, RemoteModel] = {}
    for job in map(_status.wire, jobs):
        name = job.get("model_output_name") or job.get("output_name")
        if job.get("status") != "completed" or not name:
            continue
        out[name] = RemoteModel(
            model=name,
            base_model=job.get("model"),
            created_at=_status._time(job.get("updated_at") or job.get("created_at")),
            job=job.get("id"),
            shutdown_date=None,
        )
    return sorted(out.values(), key=lambda m: m.model)


def trained_hyperparameters(snapshot: JobSnapshot) -> Hyperparameters:
    """What Together resolved for a job, in ftbridge's unified names."""
    d = snapshot.details
    values: dict[str, Any] = {}
    for theirs, ours in (("n_epochs", "epochs"), ("batch_size", "batch_size")):
        if isinstance(d.get(theirs), int) and not isinstance(d.get(theirs), bool):
            values[ours] = d[theirs]
    if isinstance(d.get("learning_rate"), (int, float)) and d["learning_rate"] > 0:
        values["learning_rate"] = float(d["learning_rate"])
    return Hyperparameters.model_validate(values)
