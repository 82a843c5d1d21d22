"""The arithmetic of a run, shared by preflight and the worker (no torch needed).

``batch_size`` (examples per optimizer step) = ``micro_batch_size`` (per forward, per
process) × gradient accumulation × processes, the meaning it has on OpenAI and Together.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ftbridge._models import Hyperparameters
from ftbridge._tuning import move_renamed_options

from ._options import (
    DEFAULT_ADAPTER_LR,
    DEFAULT_BATCH_SIZE,
    DEFAULT_EPOCHS,
    DEFAULT_FULL_LR,
    DEFAULT_LORA_ALPHA,
    DEFAULT_LORA_DROPOUT,
    DEFAULT_LORA_RANK,
    DEFAULT_SEED,
    DEFAULT_TUNING,
    DEFAULT_WARMUP_RATIO,
    RENAMED_OPTIONS,
    LocalOptions,
)

DEFAULT_MICRO_BATCH_CAP = 8


@dataclass(frozen=True)
class Resolved:
    """Unified hyperparameters with the local defaults filled in."""

    epochs: int
    batch_size: int
    learning_rate: float
    warmup_ratio: float
    seed: int
    tuning: str
    lora_rank: int
    lora_alpha: float
    lora_dropout: float


def resolve(hp: Hyperparameters, opts: LocalOptions) -> Resolved:
    """The run's settings; a spec stored before the tuning names were unified (``options``
    ``method``/``lora_r``...) reads the same as one with ``hyperparameters`` ``tuning``/
    ``lora_rank``."""
    hp, _ = move_renamed_options(
        "local", RENAMED_OPTIONS, hp, opts.model_dump(exclude_unset=True), warn=False
    )
    tuning = hp.tuning or DEFAULT_TUNING
    default_lr = DEFAULT_FULL_LR if tuning == "full" else DEFAULT_ADAPTER_LR
    return Resolved(
        epochs=hp.epochs or DEFAULT_EPOCHS,
        batch_size=hp.batch_size or DEFAULT_BATCH_SIZE,
        learning_rate=hp.learning_rate or default_lr,
        warmup_ratio=DEFAULT_WARMUP_RATIO if hp.warmup_ratio is None else hp.warmup_ratio,
        seed=DEFAULT_SEED if hp.seed is None else hp.seed,
        tuning=tuning,
        lora_rank=hp.lora_rank or DEFAULT_LORA_RANK,
        lora_alpha=hp.lora_alpha or DEFAULT_LORA_ALPHA,
        lora_dropout=DEFAULT_LORA_DROPOUT if hp.lora_dropout is None else hp.lora_dropout,
    )


@dataclass(frozen=True)
class BatchPlan:
    micro_batch_size: int
    accumulation: int
    processes: int

    @property
    def examples_per_step(self) -> int:
        return self.micro_batch_size * self.accumulation * self.processes


def plan_batches(batch_size: int, processes: int, micro: int | None) -> BatchPlan:
    """Split ``batch_size`` across processes and accumulation; ValueError says what to change."""
    if batch_size % processes:
        raise ValueError(
            f"batch_size {batch_size} is not divisible by num_processes {processes}; "
            f"use a multiple of {processes}"
        )
    per_process = batch_size // processes
    if micro is None:
        # The largest divisor of the per-process share up to the cap: no accumulation when the
        # batch is small, bounded activation memory when it is large.
        micro = max(
            d
            for d in range(1, min(per_process, DEFAULT_MICRO_BATCH_CAP) + 1)
            if per_process % d == 0
        )
    elif per_process % micro:
        raise ValueError(
            f"micro_batch_size {micro} does not divide the {per_process} examples per step and "
            f"process (batch_size {batch_size} / num_processes {processes})"
        )
    return BatchPlan(micro, per_process // micro, processes)


def total_steps(examples: int, epochs: int, plan: BatchPlan, max_steps: int | None) -> int:
    """Optimizer steps of the run, counted the way the Hugging Face trainer counts them."""
    batches = math.ceil(examples / (plan.micro_batch_size * plan.processes))
    per_epoch = max(math.ceil(batches / plan.accumulation), 1)
    steps = per_epoch * epochs
    return min(steps, max_steps) if max_steps else steps


def warmup_steps(ratio: float, steps: int) -> int:
    """Warmup as a whole number of optimizer steps: the ratio of the planned steps, rounded up
    (as the trainer rounds a ratio). An integer means the same to every transformers version in
    the declared range; a float ``warmup_steps`` is read as a ratio only from transformers 5."""
    return min(steps, math.ceil(ratio * steps))


def default_save_steps(steps: int) -> int:
    return max(1, math.ceil(steps / 10))
