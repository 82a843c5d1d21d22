"""The job around the training: cancel, a killed worker, resume, several processes."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
import pytest
from local_helpers import TRAIN_HP, TRAIN_OPTIONS, TrainedRun

import ftbridge
from ftbridge import JobCancelledError, JobFailedError, JobSnapshot, JobStatus

pytestmark = pytest.mark.slow

# Long enough to be interrupted (the tiny model runs tens of steps a second), checkpointing often.
LONG_HP = {**TRAIN_HP, "epochs": 200}
LONG_OPTIONS = {**TRAIN_OPTIONS, "save_steps": 4}


def _until(
    job: ftbridge.Job, cond: Callable[[JobSnapshot], bool], timeout: float = 180
) -> JobSnapshot:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        snap = job.refresh()
        if cond(snap):
            return snap
        assert not snap.status.is_terminal, snap
        time.sleep(0.2)
    raise AssertionError(f"timed out; last snapshot {snap}")


def _submit(tiny_model: Path, data: Path, **kw: Any) -> ftbridge.Job:
    return ftbridge.submit(
        data,
        provider="local",
        model=str(tiny_model),
        hyperparameters=kw.pop("hyperparameters", LONG_HP),
        options=kw.pop("options", LONG_OPTIONS),
    )


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_cancel_stops_at_the_next_step_and_saves(tiny_model: Path, session_data: Path) -> None:
    job = _submit(tiny_model, session_data)
    snap = _until(job, lambda s: (s.step or 0) >= 2)
    pid = snap.details["pid"]
    assert str(job.native_id) in " ".join(psutil.Process(pid).cmdline())  # `ps` finds it
    job.cancel()
    with pytest.raises(JobCancelledError):
        job.wait(timeout=120, progress=False)
    final = job.snapshot
    assert final.status is JobStatus.CANCELLED
    assert final.step is not None and final.step < final.total_steps
    assert final.details["last_checkpoint"] == final.step  # it saved where it stopped
    assert any(e.message.startswith(f"cancelled at step {final.step}") for e in job.events())
    # the worker exits once it has saved (the interpreter's own teardown may take a moment)
    deadline = time.monotonic() + 60
    while not _gone(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _gone(pid)
    assert job.refresh().step == final.step  # nothing trains after a cancel


def test_a_killed_worker_is_reported_and_resumes_to_the_end(
    tiny_model: Path, session_data: Path
) -> None:
    job = _submit(tiny_model, session_data, hyperparameters={**TRAIN_HP, "epochs": 30})
    snap = _until(job, lambda s: (s.details.get("last_checkpoint") or 0) >= 8)
    os.kill(snap.details["pid"], signal.SIGKILL)
    with pytest.raises(
        JobFailedError, match=r"worker exited unexpectedly; resumable from checkpoint \d+"
    ):
        job.wait(timeout=60, progress=False)
    failed = job.snapshot
    assert failed.status is JobStatus.FAILED  # never left "running"
    resumed_from = failed.details["last_checkpoint"]

    job.resume()
    job.wait(timeout=300, progress=False)
    done = job.snapshot
    assert done.status is JobStatus.SUCCEEDED
    assert done.step == done.total_steps  # the planned total, not a fresh run
    messages = [e.message for e in job.events()]
    assert f"resuming from checkpoint-{resumed_from}" in messages
    assert any(m.startswith(f"training started from step {resumed_from}") for m in messages)
    series = job.metrics()
    assert [s for s, _ in series.series("train_loss")] == list(range(1, done.total_steps + 1))
    # The scheduler state came back with the checkpoint: the linear decay goes on in even
    # steps across the resume instead of starting again from its peak.
    lr = dict(series.series("learning_rate"))
    step = resumed_from + 1
    assert lr[step] < lr[1]
    assert lr[step - 1] - lr[step] == pytest.approx(lr[step] - lr[step + 1], rel=1e-3)
    with job.model() as model:
        assert model.chat([{"role": "user", "content": "What is two plus two?"}], max_tokens=8).text


def test_two_processes_train_with_the_same_examples_per_step(
    tiny_model: Path, session_data: Path, trained: TrainedRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = _submit(
        tiny_model,
        session_data,
        hyperparameters=TRAIN_HP,
        options={**TRAIN_OPTIONS, "num_processes": 2, "max_steps": 3},
    )
    job.wait(timeout=300, progress=False)
    assert job.status is JobStatus.SUCCEEDED
    messages = [e.message for e in job.events()]
    assert any("4 examples x 1 accumulation x 2 processes" in m for m in messages)
    ddp_first = job.metrics().series("train_loss")[0][1]
    # The same first batch of 8 examples as the single-process run, split over two ranks.
    monkeypatch.setenv("FTBRIDGE_HOME", str(trained.home))
    single_first = ftbridge.get_job(trained.job_id).metrics().series("train_loss")[0][1]
    assert ddp_first == pytest.approx(single_first, rel=1e-3)


def test_eval_split_and_early_stopping_keep_the_best_model(
    tiny_model: Path, session_data: Path
) -> None:
    job = _submit(
        tiny_model,
        session_data,
        hyperparameters={**TRAIN_HP, "epochs": 60, "learning_rate": 1e-2},
        options={
            **TRAIN_OPTIONS,
            "eval_split": 0.25,
            "eval_steps": 3,
            "early_stopping_patience": 1,
        },
    )
    job.wait(timeout=300, progress=False)
    snap = job.snapshot
    assert snap.status is JobStatus.SUCCEEDED
    assert snap.step is not None and snap.total_steps is not None and snap.step < snap.total_steps
    evals = job.metrics().series("eval_loss")
    assert len(evals) >= 2 and all(step % 3 == 0 for step, _ in evals)
    assert any(e.message.startswith("stopped early") for e in job.events())
