"""Fixtures: a tiny offline chat model, small datasets, and one trained QLoRA run for the session.

Everything is offline: the model and its tokenizer are built locally, nothing touches a hub.
The session's trained run lives in its own ``FTBRIDGE_HOME`` (``trained.home``); tests that
follow it through ftbridge point ``FTBRIDGE_HOME`` there.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
from local_data import format_records, write_jsonl
from local_helpers import TRAIN_HP, TRAIN_OPTIONS, TrainedRun

OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}


@pytest.fixture(scope="session", autouse=True)
def _offline() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as mp:
        for name, value in OFFLINE.items():
            mp.setenv(name, value)
        mp.setenv("TOKENIZERS_PARALLELISM", "false")
        yield


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from ftbridge_local.testing import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("models") / "tiny")


@pytest.fixture(scope="session")
def session_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_jsonl(tmp_path_factory.mktemp("data") / "format.jsonl", format_records())


@pytest.fixture(scope="session")
def trained(
    tiny_model: Path, session_data: Path, tmp_path_factory: pytest.TempPathFactory
) -> TrainedRun:
    """One QLoRA job through ``ftbridge.submit``, followed by a second process as it runs."""
    import ftbridge

    home = tmp_path_factory.mktemp("trained-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FTBRIDGE_HOME", str(home))
        job = ftbridge.submit(
            session_data,
            provider="local",
            model=str(tiny_model),
            hyperparameters=TRAIN_HP,
            options=TRAIN_OPTIONS,
        )
        follow = (
            "import ftbridge, json, sys\n"
            "job = ftbridge.get_job(sys.argv[1])\n"
            "job.wait(timeout=600, progress=False)\n"
            "print(json.dumps({'status': job.status.value, 'step': job.snapshot.step,\n"
            "  'total': job.snapshot.total_steps, 'events': len(job.events()),\n"
            "  'torch': 'torch' in sys.modules}))\n"
        )
        follower = subprocess.run(
            [sys.executable, "-c", follow, job.id],
            capture_output=True,
            text=True,
            timeout=600,
            env={**os.environ, "FTBRIDGE_HOME": str(home)},
        )
        job.wait(timeout=600, progress=False)
    assert follower.returncode == 0, follower.stderr
    return TrainedRun(
        home=home,
        job_id=job.id,
        run_dir=Path(job.snapshot.details["run_dir"]),
        follower=json.loads(follower.stdout.strip().splitlines()[-1]),
    )


@pytest.fixture(scope="session")
def trained_model(trained: TrainedRun) -> Iterator[Any]:
    from ftbridge_local import load_model

    with load_model(trained.run_dir) as model:
        yield model


@pytest.fixture(scope="session", autouse=True)
def _stop_leftover_workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """After the session, stop any worker a test started and left running (by recorded pid)."""
    yield
    root = tmp_path_factory.getbasetemp()
    for info in root.glob("**/runs/*/process.json"):
        data = json.loads(info.read_text())
        try:
            proc = psutil.Process(int(data["pid"]))
            if abs(proc.create_time() - float(data["create_time"])) < 1.0:
                for child in proc.children(recursive=True):
                    child.send_signal(signal.SIGKILL)
                proc.send_signal(signal.SIGKILL)
        except (psutil.NoSuchProcess, KeyError, TypeError, ValueError):
            continue
