"""One simulated fine-tuning job: its timeline, events, checkpoints, metrics and JSON.

Nothing runs in the background: a job's state is a function of the time since it was created
(scaled by ``pace``), so a job created with ``pace=0.05`` finishes in about 0.35 s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from ._catalog import BaseModel

# Phase boundaries in seconds at pace 1: pending, queued, running, compressing, uploading.
QUEUED_AT, RUNNING_AT, COMPRESSING_AT, UPLOADING_AT, DONE_AT = 1.0, 2.0, 6.0, 6.5, 7.0
CANCEL_TAKES = 0.5
NANO = 1_000_000_000


def iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, timezone.utc).isoformat().replace("+00:00", "Z")


@dataclass
class Job:
    id: str
    body: dict[str, Any]  # the create request as received
    base: BaseModel
    output_name: str
    created: float
    pace: float
    examples: int
    tokens: int  # per epoch
    dataset_format: str | None
    fail_message: str | None = None
    cancel_at: float | None = None  # seconds since creation (pace 1) when cancel arrived
    events_planned: list[tuple[float, dict[str, Any]]] = field(default_factory=list)

    # -- request facts --------------------------------------------------------------------

    @property
    def epochs(self) -> int:
        return int(self.body.get("n_epochs") or 1)

    @property
    def training_type(self) -> dict[str, Any]:
        return self.body.get("training_type") or {
            "type": "Lora",
            "lora_r": self.base.default_rank,
            "lora_alpha": self.base.default_rank * 2,
        }

    @property
    def lora(self) -> bool:
        return self.training_type.get("type") == "Lora"

    @property
    def method(self) -> dict[str, Any]:
        return self.body.get("training_method") or {"method": "sft", "train_on_inputs": "auto"}

    @property
    def batch_size(self) -> int:
        requested = self.body.get("batch_size", "max")
        if isinstance(requested, int):
            return requested
        _low, high, high_dpo = self.base.lora_batch if self.lora else self.base.full_batch
        return high_dpo if self.method.get("method") == "dpo" else high

    @property
    def total_steps(self) -> int:
        return max(1, math.ceil(self.examples / self.batch_size)) * self.epochs

    @property
    def price(self) -> int:
        """The whole job's price in nano-dollars."""
        per_million = self.base.price_per_million["Lora" if self.lora else "Full"]
        return int(self.tokens * self.epochs * per_million * NANO / 1_000_000)

    # -- timeline -------------------------------------------------------------------------

    def elapsed(self, now: float) -> float:
        return max(0.0, (now - self.created) / self.pace)

    @property
    def fail_at(self) -> float | None:
        if self.fail_message is None:
            return None
        return RUNNING_AT + (COMPRESSING_AT - RUNNING_AT) / 2

    def _steps_at(self, t: float) -> int:
        if t < RUNNING_AT:
            return 0
        fraction = min(1.0, (t - RUNNING_AT) / (COMPRESSING_AT - RUNNING_AT))
        return min(self.total_steps, int(fraction * self.total_steps))

    def _frozen_at(self) -> float | None:
        """When training stopped early (a cancel or a failure), if it did."""
        stops = [t for t in (self.cancel_at, self.fail_at) if t is not None]
        return min(stops) if stops else None

    def status_at(self, now: float) -> str:
        t = self.elapsed(now)
        stop = self._frozen_at()
        if stop is not None and t >= stop:
            if stop == self.fail_at and (self.cancel_at is None or self.cancel_at > stop):
                return "error"
            return "cancelled" if t >= stop + CANCEL_TAKES else "cancel_requested"
        for boundary, status in (
            (DONE_AT, "completed"),
            (UPLOADING_AT, "uploading"),
            (COMPRESSING_AT, "compressing"),
            (RUNNING_AT, "running"),
            (QUEUED_AT, "queued"),
        ):
            if t >= boundary:
                return status
        return "pending"

    def steps_done(self, now: float) -> int:
        t = self.elapsed(now)
        stop = self._frozen_at()
        return self._steps_at(min(t, stop) if stop is not None else t)

    def cancel(self, now: float) -> None:
        self.cancel_at = self.elapsed(now)

    # -- events, checkpoints, metrics ---------------------------------------------------

    def plan(self) -> None:
        """The events of an uneventful run, each at its offset (pace 1)."""
        total, steps_per_epoch = self.total_steps, self.total_steps // self.epochs
        run = COMPRESSING_AT - RUNNING_AT
        plan: list[tuple[float, str, str, dict[str, Any]]] = [
            (0.0, "job_pending", "Fine-tune request created", {}),
            (RUNNING_AT, "job_start", "Job started", {}),
            (RUNNING_AT, "model_downloading", f"Downloading model {self.base.name}", {}),
            (RUNNING_AT, "model_download_complete", "Model download complete", {}),
            (RUNNING_AT, "training_data_downloading", "Downloading training data", {}),
            (RUNNING_AT, "training_data_download_complete", "Training data downloaded", {}),
        ]
        if self.body.get("validation_file"):
            plan.append(
                (RUNNING_AT, "validation_data_downloading", "Downloading validation data", {})
            )
            plan.append(
                (RUNNING_AT, "validation_data_download_complete", "Validation data downloaded", {})
            )
        plan.append((RUNNING_AT, "training_start", f"Training started for {self.base.name}", {}))
        for epoch in range(1, self.epochs + 1):
            step = epoch * steps_per_epoch
            plan.append(
                (
                    RUNNING_AT + run * step / total,
                    "epoch_complete",
                    f"Epoch {epoch} completed at step {step}",
                    {"step": step},
                )
            )
        for step, kind in self.checkpoint_steps():
            path = f"s3://emulator/{self.id}/checkpoint-{step}"
            plan.append(
                (
                    RUNNING_AT + run * step / total,
                    "checkpoint_save",
                    f"{kind} checkpoint saved at step {step}",
                    {"step": step, "checkpoint_path": path},
                )
            )
        plan += [
            (COMPRESSING_AT, "training_complete", "Training completed", {"step": total}),
            (COMPRESSING_AT, "model_compressing", "Compressing output model", {}),
            (UPLOADING_AT, "model_compression_complete", "Model compression complete", {}),
            (UPLOADING_AT, "model_uploading", "Uploading output model", {}),
            (
                DONE_AT,
                "model_upload_complete",
                "Model upload complete",
                {"model_path": self.output_name},
            ),
            (
                DONE_AT,
                "job_complete",
                f"Fine-tuning job completed; output model: {self.output_name}",
                {},
            ),
        ]
        self.events_planned = [
            (offset, self._event(offset, kind, message, "info", **extra))
            for offset, kind, message, extra in plan
        ]

    def checkpoint_steps(self) -> list[tuple[int, str]]:
        total = self.total_steps
        n = max(1, int(self.body.get("n_checkpoints") or 1))
        steps = sorted({max(1, round(total * k / n)) for k in range(1, n)} - {total})
        return [(s, "Intermediate") for s in steps] + [(total, "Final")]

    def _event(
        self, offset: float, kind: str, message: str, level: str, **extra: Any
    ) -> dict[str, Any]:
        event = {
            "object": "fine-tune-event",
            "created_at": iso(self.created + offset * self.pace),
            "message": message,
            "type": kind,
            "level": level,
            "param_count": 0,
            "token_count": self.tokens * self.epochs,
            "total_steps": self.total_steps,
            "wandb_url": "",
            "step": 0,
            "checkpoint_path": "",
            "model_path": "",
            "training_offset": 0,
            "hash": "",
        }
        event.update(extra)
        return event

    def events(self, now: float) -> list[dict[str, Any]]:
        t = self.elapsed(now)
        stop = self._frozen_at()
        horizon = min(t, stop) if stop is not None else t
        events = [event for offset, event in self.events_planned if offset <= horizon]
        if stop is not None and t >= stop:
            step = self._steps_at(stop)
            if self.status_at(now) == "error":
                events.append(
                    self._event(stop, "job_error", str(self.fail_message), "error", step=step)
                )
            else:
                events.append(
                    self._event(
                        stop, "cancel_requested", "Cancellation requested", "info", step=step
                    )
                )
                if t >= stop + CANCEL_TAKES:
                    message = f"Job cancelled at step {step}; billed for the completed steps"
                    events.append(
                        self._event(stop + CANCEL_TAKES, "job_stopped", message, "info", step=step)
                    )
        return events

    def checkpoints(self, now: float) -> list[dict[str, Any]]:
        return [
            {
                "step": event["step"],
                "path": event["checkpoint_path"],
                "created_at": event["created_at"],
                "checkpoint_type": "Final" if event["step"] == self.total_steps else "Intermediate",
                "checkpoint": "adapter" if self.lora else "model",
            }
            for event in self.events(now)
            if event["type"] == "checkpoint_save"
        ]

    def metrics(self, now: float) -> list[dict[str, float]]:
        total, done = self.total_steps, self.steps_done(now)
        lr = float(self.body.get("learning_rate") or 1e-5)
        rows: list[dict[str, float]] = []
        n_evals = int(self.body.get("n_evals") or 0) if self.body.get("validation_file") else 0
        eval_steps = (
            {max(1, round(total * k / n_evals)) for k in range(1, n_evals + 1)}
            if n_evals
            else set()
        )
        for step in range(1, done + 1):
            progress = step / total
            rows.append(
                {
                    "train/loss": round(0.4 + 1.6 * math.exp(-3 * progress), 6),
                    "train/learning_rate": lr * 0.5 * (1 + math.cos(math.pi * progress)),
                    "train/global_step": step,
                    "train/epoch": round(progress * self.epochs, 4),
                }
            )
            if step in eval_steps:
                rows.append(
                    {
                        "eval/loss": round(0.5 + 1.5 * math.exp(-2.5 * progress), 6),
                        "eval/global_step": step,
                    }
                )
        return rows

    # -- JSON -----------------------------------------------------------------------------

    def to_json(self, now: float, *, truncated: bool = False) -> dict[str, Any]:
        status = self.status_at(now)
        done = self.steps_done(now)
        t = self.elapsed(now)
        body = self.body
        method = dict(self.method)
        if method.get("method") == "sft" and method.get("train_on_inputs") == "auto":
            # The server resolves "auto": mask the inputs unless the data is plain text.
            method["train_on_inputs"] = self.dataset_format == "GENERAL"
        job: dict[str, Any] = {
            "id": self.id,
            "status": status,
            "created_at": iso(self.created),
            "updated_at": iso(self.created + self._last_change(t) * self.pace),
            "model": self.base.name,
            "model_output_name": self.output_name,
            "training_file": body["training_file"],
            "n_epochs": self.epochs,
            "n_checkpoints": int(body.get("n_checkpoints") or 1),
            "n_evals": int(body.get("n_evals") or 0),
            "batch_size": self.batch_size,
            "learning_rate": float(body.get("learning_rate") or 1e-5),
            "warmup_ratio": float(body.get("warmup_ratio") or 0.0),
            "max_grad_norm": float(body.get("max_grad_norm", 1.0)),
            "weight_decay": float(body.get("weight_decay") or 0.0),
            "training_type": self.training_type,
            "training_method": method,
            "token_count": self.tokens * self.epochs,
            "total_price": self.price * done // self.total_steps,
            "user_id": "user-emulator",
            "owner_address": "emulator@example.com",
            "events": self.events(now),
        }
        for key in (
            "validation_file",
            "lr_scheduler",
            "suffix",
            "from_checkpoint",
            "max_seq_length",
            "packing",
        ):
            if body.get(key) not in (None, ""):
                job[key] = body[key]
        if "random_seed" in body:
            job["random_seed"] = body["random_seed"]
        if t >= RUNNING_AT:
            job["started_at"] = iso(self.created + RUNNING_AT * self.pace)
        if status in ("pending", "queued", "running", "compressing", "uploading"):
            job["progress"] = {
                "estimate_available": True,
                "seconds_remaining": math.ceil((DONE_AT - t) * self.pace),
            }
        if truncated:
            return job
        job.update(
            model_output_path=f"s3://emulator/{self.id}/final",
            param_count=0,
            epochs_completed=done * self.epochs // self.total_steps,
            steps_completed=done,
            total_steps=self.total_steps,
            trainingfile_numlines=self.examples,
            train_on_inputs=method.get("train_on_inputs", False),
        )
        if self.lora:
            job["adapter_output_name"] = f"{self.output_name}-adapter"
        if status == "queued":
            job["queue_depth"] = 1
        return job

    def _last_change(self, t: float) -> float:
        stop = self._frozen_at()
        marks = [0.0, QUEUED_AT, RUNNING_AT, COMPRESSING_AT, UPLOADING_AT, DONE_AT]
        if stop is not None:
            marks = [m for m in marks if m < stop] + [stop, stop + CANCEL_TAKES]
        return max(m for m in marks if m <= t)
