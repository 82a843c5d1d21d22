"""Fine-tuning jobs inside the emulator: how they progress over (scaled) time.

A job spends ``VALIDATE`` seconds in ``validating_files`` (then its files are checked as OpenAI
checks them), ``QUEUE`` in ``queued`` and ``TRAIN`` in ``running``, emitting a metrics event per
step and checkpoints at the last epochs, then ``succeeded`` with a result file. Every duration is
multiplied by the server's ``pace``; time spent ``paused`` does not count.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ._data import FileCheck, check_file

VALIDATE, QUEUE, TRAIN = 1.0, 0.5, 2.0
TERMINAL = frozenset({"succeeded", "failed", "cancelled"})


@dataclass
class JobRecord:
    id: str
    created_at: int
    model: str
    training_file: str
    training_content: bytes
    validation_file: str | None
    validation_content: bytes | None
    method: dict[str, Any]
    suffix: str | None
    seed: int
    metadata: dict[str, str] | None
    integrations: list[Any] | None
    fine_tuned_name: str
    status: str = "validating_files"
    error: dict[str, Any] | None = None
    fine_tuned_model: str | None = None
    finished_at: int | None = None
    trained_tokens: int | None = None
    result_files: list[str] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)  # oldest first
    checkpoints: list[dict[str, Any]] = field(default_factory=list)  # oldest first
    metrics_rows: list[dict[str, float | None]] = field(default_factory=list)
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    total_steps: int = 0
    steps_done: int = 0
    epochs: int = 0
    tokens_per_epoch: int = 0
    progress: float = 0.0  # pace-scaled seconds of progress before ``since``
    since: float | None = None  # monotonic time progress resumed; None while paused or done

    @property
    def method_type(self) -> str:
        return str(self.method.get("type", "supervised"))

    def hp(self) -> dict[str, Any]:
        section = self.method.get(self.method_type) or {}
        return dict(section.get("hyperparameters") or {})


class JobClock:
    """Advances jobs; ``new_id`` makes ids, ``add_result_file`` stores the metrics CSV."""

    def __init__(
        self,
        pace: float,
        rng: random.Random,
        new_id: Callable[[str], str],
        add_result_file: Callable[[str, bytes], str],
        reject_training: Callable[[], str | None],
    ) -> None:
        self.pace = max(pace, 1e-6)
        self.rng = rng
        self.new_id = new_id
        self.add_result_file = add_result_file
        self.reject_training = reject_training

    def start(self, job: JobRecord) -> None:
        job.since = time.monotonic()
        self.event(job, f"Created fine-tuning job: {job.id}")
        self.event(job, f"Validating training file: {job.training_file}")

    def event(
        self,
        job: JobRecord,
        message: str,
        *,
        level: str = "info",
        data: dict[str, Any] | None = None,
    ) -> None:
        job.events.append(
            {
                "object": "fine_tuning.job.event",
                "id": self.new_id("ftevent"),
                "created_at": int(time.time()),
                "level": level,
                "message": message,
                "type": "metrics" if data is not None else "message",
                "data": data if data is not None else {},
            }
        )

    def pause(self, job: JobRecord) -> None:
        self.advance(job)
        if job.since is not None:
            job.progress += (time.monotonic() - job.since) / self.pace
            job.since = None
        job.status = "paused"
        self.event(job, "Fine-tuning job paused.")

    def resume(self, job: JobRecord) -> None:
        job.since = time.monotonic()
        job.status = "running"
        self.event(job, "Fine-tuning job resumed.")

    def cancel(self, job: JobRecord) -> None:
        self.advance(job)
        job.since = None
        job.status = "cancelled"
        self.event(job, "Fine-tuning job cancelled.")

    def advance(self, job: JobRecord) -> None:
        """Bring ``job`` up to date with the clock."""
        if job.status in TERMINAL or job.since is None:
            return
        elapsed = job.progress + (time.monotonic() - job.since) / self.pace
        if job.status == "validating_files" and elapsed >= VALIDATE and not self._validate(job):
            return
        if job.status == "queued" and elapsed >= VALIDATE + QUEUE:
            job.status = "running"
            self.event(job, "Fine-tuning job started.")
        if job.status == "running":
            fraction = min(1.0, (elapsed - VALIDATE - QUEUE) / TRAIN)
            self._train_to(job, int(job.total_steps * fraction))
            if fraction >= 1.0:
                self._succeed(job)

    def _validate(self, job: JobRecord) -> bool:
        method = job.method_type
        rejection = self.reject_training()
        verdict = (
            FileCheck(error=rejection) if rejection else check_file(job.training_content, method)
        )
        param = "training_file"
        if verdict.error is None and job.validation_content is not None:
            valid = check_file(job.validation_content, method, which="validation")
            if valid.error is not None and "at least" not in valid.error:
                verdict, param = valid, "validation_file"
        if verdict.error is not None:
            job.status = "failed"
            job.since = None
            job.finished_at = None
            job.error = {"code": "invalid_training_file", "message": verdict.error, "param": param}
            if param == "validation_file":
                job.error["code"] = "invalid_validation_file"
            self.event(job, verdict.error, level="error")
            return False
        self._resolve_hyperparameters(job, verdict)
        job.status = "queued"
        self.event(job, "Files validated, moving job to queued state.")
        return True

    def _resolve_hyperparameters(self, job: JobRecord, verdict: FileCheck) -> None:
        hp = job.hp()
        examples = max(verdict.examples, 1)
        epochs = hp.get("n_epochs", "auto")
        epochs = 3 if epochs == "auto" else int(epochs)
        batch = hp.get("batch_size", "auto")
        batch = max(1, math.ceil(examples / 10)) if batch == "auto" else int(batch)
        lrm = hp.get("learning_rate_multiplier", "auto")
        lrm = 1.8 if lrm == "auto" else float(lrm)
        resolved: dict[str, Any] = {
            "batch_size": batch,
            "learning_rate_multiplier": lrm,
            "n_epochs": epochs,
        }
        if job.method_type == "dpo":
            beta = hp.get("beta", "auto")
            resolved["beta"] = 0.1 if beta == "auto" else float(beta)
        job.hyperparameters = resolved
        job.method = {"type": job.method_type, job.method_type: {"hyperparameters": resolved}}
        job.epochs = epochs
        job.total_steps = epochs * math.ceil(examples / batch)
        job.tokens_per_epoch = verdict.tokens

    def _train_to(self, job: JobRecord, target: int) -> None:
        steps_per_epoch = max(1, job.total_steps // max(job.epochs, 1))
        while job.steps_done < target:
            job.steps_done += 1
            step = job.steps_done
            row = self._metrics(job, step)
            job.metrics_rows.append(row)
            data: dict[str, Any] = {"step": step, "total_steps": job.total_steps}
            data.update({k: v for k, v in row.items() if v is not None and k != "step"})
            data["train_mean_token_accuracy"] = data.pop("train_accuracy")
            self.event(
                job,
                f"Step {step}/{job.total_steps}: training loss={row['train_loss']:.4f}",
                data=data,
            )
            epoch = step // steps_per_epoch
            if step % steps_per_epoch == 0 and epoch > job.epochs - 3:
                self._checkpoint(job, step, data)

    def _metrics(self, job: JobRecord, step: int) -> dict[str, float | None]:
        fraction = step / max(job.total_steps, 1)
        loss = 0.15 + 2.0 * math.exp(-3.0 * fraction) + self.rng.uniform(-0.03, 0.03)
        accuracy = min(0.99, 0.45 + 0.5 * fraction + self.rng.uniform(-0.02, 0.02))
        row: dict[str, float | None] = {
            "step": float(step),
            "train_loss": round(loss, 5),
            "train_accuracy": round(accuracy, 5),
            "valid_loss": None,
            "valid_mean_token_accuracy": None,
        }
        if job.validation_content is not None and (step % 5 == 0 or step == job.total_steps):
            row["valid_loss"] = round(loss * 1.08, 5)
            row["valid_mean_token_accuracy"] = round(accuracy * 0.97, 5)
        return row

    def _checkpoint(self, job: JobRecord, step: int, data: dict[str, Any]) -> None:
        metrics = {
            k: float(v)
            for k, v in data.items()
            if k in ("step", "train_loss", "train_mean_token_accuracy", "valid_loss")
        }
        job.checkpoints.append(
            {
                "object": "fine_tuning.job.checkpoint",
                "id": self.new_id("ftckpt"),
                "created_at": int(time.time()),
                "fine_tuned_model_checkpoint": f"{job.fine_tuned_name}:ckpt-step-{step}",
                "fine_tuning_job_id": job.id,
                "step_number": step,
                "metrics": metrics,
            }
        )
        self.event(job, f"Checkpoint created at step {step}.")

    def _succeed(self, job: JobRecord) -> None:
        header = "step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy\n"
        lines = [header]
        for row in job.metrics_rows:
            cells = [
                str(int(row["step"] or 0)),
                *("" if row[k] is None else f"{row[k]}" for k in list(row)[1:]),
            ]
            lines.append(",".join(cells) + "\n")
        job.result_files = [self.add_result_file(job.id, "".join(lines).encode())]
        job.status = "succeeded"
        job.since = None
        job.finished_at = int(time.time())
        job.trained_tokens = job.tokens_per_epoch * job.epochs
        job.fine_tuned_model = job.fine_tuned_name
        self.event(job, f"New fine-tuned model created: {job.fine_tuned_name}")
        self.event(job, "The job has successfully completed.")


def job_object(job: JobRecord) -> dict[str, Any]:
    """The ``FineTuningJob`` JSON of a job."""
    body: dict[str, Any] = {
        "object": "fine_tuning.job",
        "id": job.id,
        "created_at": job.created_at,
        "error": job.error,
        "fine_tuned_model": job.fine_tuned_model,
        "finished_at": job.finished_at,
        "hyperparameters": {
            k: v
            for k, v in (job.hyperparameters or _auto(job)).items()
            if k in ("batch_size", "learning_rate_multiplier", "n_epochs")
        },
        "method": job.method,
        "model": job.model,
        "organization_id": "org-ftbridge-emulator",
        "result_files": list(job.result_files),
        "seed": job.seed,
        "status": job.status,
        "trained_tokens": job.trained_tokens,
        "training_file": job.training_file,
        "validation_file": job.validation_file,
        "integrations": job.integrations,
        "metadata": job.metadata,
        "user_provided_suffix": job.suffix,
        "estimated_finish": None,
    }
    return body


def _auto(job: JobRecord) -> dict[str, Any]:
    hp = {"batch_size": "auto", "learning_rate_multiplier": "auto", "n_epochs": "auto"}
    hp.update(job.hp())
    return hp
