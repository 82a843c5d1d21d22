"""The learning-rate schedule of a real local run: warmup rises over the planned steps.

``warmup_ratio`` becomes a whole number of warmup steps (the ratio of the planned steps, rounded
up), which every transformers version in the declared range reads the same way.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import ftbridge

pytestmark = pytest.mark.slow

PEAK = 1e-3


def test_warmup_rises_linearly_over_the_ratio_of_the_planned_steps(
    tiny_model: Path, session_data: Path
) -> None:
    job = ftbridge.submit(
        session_data,
        provider="local",
        model=str(tiny_model),
        hyperparameters={
            "epochs": 5,
            "batch_size": 8,
            "learning_rate": PEAK,
            "warmup_ratio": 0.5,
            "tuning": "lora",
            "seed": 3,
        },
        options={"max_length": 64, "max_steps": 8, "lr_scheduler": "linear"},
    )
    final = job.wait(timeout=600, progress=False)
    assert final.status is ftbridge.JobStatus.SUCCEEDED, final.error
    lrs = [round(v / PEAK, 6) for _, v in job.metrics().series("learning_rate")]
    # 4 warmup steps (0.5 x 8) rising to the peak, then linear decay to 0 at the planned end.
    schedule = [0.0, 0.25, 0.5, 0.75, 1.0, 0.75, 0.5, 0.25, 0.0]
    # transformers 4.x logs the rate a step trained with, 5.x the rate after its scheduler step.
    assert lrs in (schedule[:8], schedule[1:]), lrs
    assert any("warmup: 4 of 8 steps" in e.message for e in job.events())
