"""One simulated SFT or DPO job: its timeline, progress, metrics rows and JSON.

Nothing runs in the background: the state is a function of the time since the job (or its last
resume) started, scaled by ``pace``. At pace 1: CREATING, VALIDATING (0.3 s), PENDING (1 s),
RUNNING (2 s to 6 s), WRITING_RESULTS, COMPLETED at 6.5 s. A cancel passes through CANCELLING;
a failing job fails halfway through training; a resumed job re-queues and trains what was
left.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ._catalog import BaseModel
from ._wire import iso

VALIDATING_AT, PENDING_AT, RUNNING_AT, WRITING_AT, DONE_AT = 0.3, 1.0, 2.0, 6.0, 6.5
CANCEL_TAKES = 0.5
DEFAULT_BATCH = 4
DEFAULT_LR = 1e-4

TERMINAL = {"JOB_STATE_COMPLETED", "JOB_STATE_FAILED", "JOB_STATE_CANCELLED"}
RESUMABLE = {"JOB_STATE_FAILED", "JOB_STATE_CANCELLED", "JOB_STATE_PAUSED"}


@dataclass
class Job:
    kind: str  # "sft" or "dpo"
    account: str
    id: str
    body: dict[str, Any]  # the create request as received (camelCase)
    base: BaseModel | None
    examples: int
    created: float
    pace: float
    fail_message: str | None = None
    origin: float = 0.0  # when the current run started (creation or the last resume)
    done_before: float = 0.0  # fraction trained before ``origin``
    cancel_at: float | None = None  # seconds (pace 1) after ``origin``
    resumed: bool = False

    def __post_init__(self) -> None:
        self.origin = self.origin or self.created

    # -- request facts --------------------------------------------------------------------

    @property
    def config(self) -> dict[str, Any]:
        return self.body.get("trainingConfig") or {} if self.kind == "dpo" else self.body

    @property
    def collection(self) -> str:
        return "dpoJobs" if self.kind == "dpo" else "supervisedFineTuningJobs"

    @property
    def name(self) -> str:
        return f"accounts/{self.account}/{self.collection}/{self.id}"

    @property
    def output_model(self) -> str:
        return f"accounts/{self.account}/models/{self.config.get('outputModel') or self.id}"

    @property
    def epochs(self) -> int:
        return int(self.config.get("epochs") or 1)

    @property
    def steps_per_epoch(self) -> int:
        batch = int(self.config.get("batchSizeSamples") or DEFAULT_BATCH)
        return max(1, math.ceil(self.examples / batch))

    @property
    def total_steps(self) -> int:
        return self.steps_per_epoch * self.epochs

    # -- timeline -------------------------------------------------------------------------

    def elapsed(self, now: float) -> float:
        return max(0.0, (now - self.origin) / self.pace)

    @property
    def fail_at(self) -> float | None:
        return None if self.fail_message is None else (RUNNING_AT + WRITING_AT) / 2

    def fraction(self, now: float) -> float:
        t = self.elapsed(now)
        stops = [s for s in (self.cancel_at, self.fail_at) if s is not None]
        if stops:
            t = min(t, min(stops))
        run = min(1.0, max(0.0, (t - RUNNING_AT) / (WRITING_AT - RUNNING_AT)))
        return self.done_before + (1 - self.done_before) * run

    def step(self, now: float) -> int:
        return min(self.total_steps, int(self.fraction(now) * self.total_steps + 1e-9))

    def state(self, now: float) -> str:
        t = self.elapsed(now)
        stops = [s for s in (self.cancel_at, self.fail_at) if s is not None]
        if stops and t >= min(stops):
            stop = min(stops)
            if stop == self.fail_at and (self.cancel_at is None or self.cancel_at > stop):
                return "JOB_STATE_FAILED"
            return "JOB_STATE_CANCELLED" if t >= stop + CANCEL_TAKES else "JOB_STATE_CANCELLING"
        if t >= DONE_AT:
            return "JOB_STATE_COMPLETED"
        if t >= WRITING_AT:
            return "JOB_STATE_WRITING_RESULTS"
        if t >= RUNNING_AT:
            return "JOB_STATE_RUNNING"
        if self.resumed:
            return "JOB_STATE_RE_QUEUEING"
        if t >= PENDING_AT:
            return "JOB_STATE_PENDING"
        return "JOB_STATE_VALIDATING" if t >= VALIDATING_AT else "JOB_STATE_CREATING"

    def cancel(self, now: float) -> None:
        self.cancel_at = self.elapsed(now)

    def resume(self, now: float) -> None:
        self.done_before = self.fraction(now)
        self.origin = now
        self.cancel_at = None
        self.fail_message = None
        self.resumed = True

    def _ended_at(self, now: float) -> float:
        t = min(s for s in (self.cancel_at, self.fail_at, DONE_AT) if s is not None)
        return self.origin + t * self.pace

    # -- what the API shows ---------------------------------------------------------------

    def metrics_rows(self, now: float) -> list[dict[str, Any]]:
        lr = float(self.config.get("learningRate") or DEFAULT_LR)
        rows = []
        for step in range(1, self.step(now) + 1):
            rows.append(
                {
                    "step": step,
                    "epoch": round(step / self.steps_per_epoch, 4),
                    "loss": round(2.0 * 0.85**step, 6),
                    "learning_rate": lr,
                }
            )
        return rows

    def to_json(self, now: float, metrics_url: str | None = None) -> dict[str, Any]:
        state = self.state(now)
        status = {"code": "OK", "message": ""}
        if state == "JOB_STATE_FAILED":
            status = {"code": "INTERNAL", "message": str(self.fail_message)}
        elif state in ("JOB_STATE_CANCELLED", "JOB_STATE_CANCELLING"):
            status = {"code": "CANCELLED", "message": "Job was cancelled by the user."}
        out: dict[str, Any] = {
            "name": self.name,
            "displayName": self.body.get("displayName") or self.id,
            "createTime": iso(self.created),
            "updateTime": iso(min(now, self._ended_at(now)) if state in TERMINAL else now),
            "dataset": self.body["dataset"],
            "state": state,
            "status": status,
            "createdBy": "emulator@example.com",
        }
        if state in TERMINAL:
            out["completedTime"] = iso(self._ended_at(now))
        config = dict(self.config)
        config.setdefault("outputModel", self.output_model.rsplit("/", 1)[-1])
        config.setdefault("epochs", self.epochs)
        config.setdefault("learningRate", DEFAULT_LR)
        config.setdefault("loraRank", 8)
        if self.base is not None:
            config.setdefault("maxContextLength", self.base.training_context_length)
        if self.kind == "dpo":
            del out["updateTime"]  # a DPO job has none (get-dpo-job, the SDK's DpoJob)
            out["trainingConfig"] = config
            for key in ("lossConfig", "wandbConfig"):
                if key in self.body:
                    out[key] = self.body[key]
        else:
            out.update({k: v for k, v in config.items() if k not in out})
            out["jobProgress"] = self.progress(now)  # the SDK's field (not in the pages)
            if metrics_url and self.step(now):
                out["metricsFileSignedUrl"] = metrics_url
        return out

    def progress(self, now: float) -> dict[str, Any]:
        """``jobProgress`` as the SDK's job type has it (not in the reference pages)."""
        return {
            "percent": int(self.fraction(now) * 100),
            "epoch": min(self.epochs - 1, self.step(now) // self.steps_per_epoch),
        }
