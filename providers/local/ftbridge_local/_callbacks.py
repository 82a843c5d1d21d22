"""Trainer callbacks: progress into the run directory, and stopping on request.

Only the main process writes events and state; every process takes part in the stop decision
so that all ranks of a DDP run leave the loop at the same step (a rank that stopped alone would
leave the others waiting in an all-reduce).
"""

from __future__ import annotations

import signal
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import torch
from transformers import TrainerCallback, TrainerControl, TrainerState, TrainingArguments

from ._runs import COMPLETE_MARKER, STOP_SIGNALS, EventWriter, RunDir


class StopFlag:
    """Set by SIGTERM/SIGINT; the training loop stops at the next step boundary."""

    def __init__(self) -> None:
        self.requested = False

    def install(self) -> None:
        for sig in STOP_SIGNALS:
            signal.signal(sig, self._handle)

    def _handle(self, signum: int, frame: Any) -> None:
        self.requested = True


def _agree(flag: bool) -> bool:
    """True on every rank when any rank wants to stop."""
    if not (torch.distributed.is_available() and torch.distributed.is_initialized()):
        return flag
    device = "cpu"
    if torch.distributed.get_backend() == "nccl":
        device = f"cuda:{torch.cuda.current_device()}"
    value = torch.tensor([1 if flag else 0], device=device)
    torch.distributed.all_reduce(value, op=torch.distributed.ReduceOp.MAX)
    return bool(value.item())


class StopOnRequest(TrainerCallback):
    """Stop (after saving a checkpoint) when a signal arrived or the ``cancel`` file exists."""

    def __init__(self, run: RunDir, flag: StopFlag) -> None:
        self.run = run
        self.flag = flag
        self.stopped_at: int | None = None

    def on_step_end(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kw: Any
    ) -> TrainerControl:
        wanted = self.flag.requested or self.run.cancel_requested()
        if _agree(wanted) and not control.should_training_stop:
            control.should_save = True
            control.should_training_stop = True
            self.stopped_at = state.global_step
        return control


class Progress(TrainerCallback):
    """Turns the trainer's logs into events and ``state.json`` updates (main process only)."""

    def __init__(self, run: RunDir, events: EventWriter, is_main: bool) -> None:
        self.run = run
        self.events = events
        self.is_main = is_main
        self._t_last: float | None = None
        self._tokens_last: float | None = None
        self._t_start = time.monotonic()
        self._step_start = 0
        self.trained_tokens = 0

    def on_train_begin(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kw: Any
    ) -> None:
        self._t_start = self._t_last = time.monotonic()
        self._step_start = state.global_step
        if not self.is_main:
            return
        start = f" from step {state.global_step}" if state.global_step else ""
        self.events.emit(
            f"training started{start}: {state.max_steps} steps", step=state.global_step
        )
        self.run.update_state(
            status="running",
            raw_status="training",
            total_steps=state.max_steps,
            step=state.global_step,
        )

    def on_log(
        self,
        args: TrainingArguments,
        state: TrainerState,
        control: TrainerControl,
        logs: dict[str, float] | None = None,
        **kw: Any,
    ) -> None:
        if not self.is_main or not logs:
            return
        now = time.monotonic()
        metrics: dict[str, float] = {}
        names = {
            "loss": "train_loss",
            "learning_rate": "learning_rate",
            "grad_norm": "grad_norm",
            "eval_loss": "eval_loss",
            "mean_token_accuracy": "train_token_accuracy",
            # DPO: how much more the model prefers the chosen reply than the reference does
            "rewards/margins": "train_reward_margin",
            "rewards/accuracies": "train_reward_accuracy",
            "eval_rewards/margins": "eval_reward_margin",
            "eval_rewards/accuracies": "eval_reward_accuracy",
        }
        for key, name in names.items():
            if isinstance(logs.get(key), int | float):
                metrics[name] = float(logs[key])
        tokens = logs.get("num_tokens")
        if isinstance(tokens, int | float):
            self.trained_tokens = int(tokens)
            if self._tokens_last is not None and self._t_last is not None and now > self._t_last:
                metrics["tokens_per_second"] = (tokens - self._tokens_last) / (now - self._t_last)
            self._tokens_last, self._t_last = float(tokens), now
        if not metrics:
            return
        if state.epoch is not None:
            metrics["epoch"] = float(state.epoch)
        kind = "eval" if "eval_loss" in metrics else "step"
        text = ", ".join(f"{k}={v:.4g}" for k, v in metrics.items() if k != "epoch")
        self.events.emit(
            f"{kind} {state.global_step}/{state.max_steps}: {text}",
            step=state.global_step,
            metrics=metrics,
        )
        changes: dict[str, Any] = {
            "step": state.global_step,
            "epoch": state.epoch,
            "trained_tokens": self.trained_tokens,
        }
        if "train_loss" in metrics:
            changes["loss"] = metrics["train_loss"]
        done = state.global_step - self._step_start
        if done > 0 and state.max_steps > state.global_step:
            per_step = (now - self._t_start) / done
            eta = datetime.now(timezone.utc) + timedelta(
                seconds=per_step * (state.max_steps - state.global_step)
            )
            changes["estimated_finish"] = eta.isoformat()
        self.run.update_state(**changes)

    def on_save(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kw: Any
    ) -> None:
        # The marker makes the checkpoint eligible for resume, so it is written only once every
        # rank has written its part (its RNG state, say).
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            torch.distributed.barrier()
        if not self.is_main:
            return
        folder = self.run.checkpoints / f"checkpoint-{state.global_step}"
        if folder.is_dir():
            (folder / COMPLETE_MARKER).write_text(str(state.global_step) + "\n")
            self.events.emit(
                f"checkpoint saved: checkpoint-{state.global_step}", step=state.global_step
            )
            self.run.update_state(last_checkpoint=state.global_step)
