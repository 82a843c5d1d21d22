"""A submit interrupted during a slow create is not lost: it is listed as pending, and
``recover`` (or ``status``) adopts the job OpenAI made."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from ftbridge_openai.emulator import OpenAIEmulator
from openai_data import API_KEY

import ftbridge
from ftbridge import JobStatus
from ftbridge.cli import main

CREATE = r"/v1/fine_tuning/jobs"


def _submit_in_a_child(
    train_file: Path, emulator: OpenAIEmulator, home: Path
) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "FTBRIDGE_HOME": str(home),
        "OPENAI_BASE_URL": emulator.base_url,
        "OPENAI_API_KEY": API_KEY,
    }
    argv = [sys.executable, "-m", "ftbridge", "submit", str(train_file)]
    argv += ["--provider", "openai", "--model", "gpt-4o-mini"]
    return subprocess.Popen(
        argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _until(condition: object, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.mark.parametrize("how", ["killed", "interrupted"])
def test_a_submit_stopped_during_a_slow_create_is_pending_then_recovered(
    how: str,
    openai_env: OpenAIEmulator,
    train_file: Path,
    ftbridge_home: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    emulator = openai_env
    slow = emulator.faults.inject("POST", CREATE, delay=3.0, times=1)  # a slow create
    child = _submit_in_a_child(train_file, emulator, ftbridge_home)
    _until(lambda: slow.times == 0)  # the create has reached OpenAI, which is still on it
    child.send_signal(signal.SIGKILL if how == "killed" else signal.SIGINT)
    _, err = child.communicate(timeout=30)
    if how == "interrupted":
        assert child.returncode == 130, err
        assert "kept as pending" in err and "ftbridge recover" in err
    _until(lambda: len(emulator.jobs) == 1)  # OpenAI made the job all the same

    [pending] = ftbridge.list_jobs()
    assert pending.status is JobStatus.PENDING and not pending.confirmed
    assert main(["jobs"]) == 0
    assert pending.id in capsys.readouterr().out  # `ftbridge jobs` shows it, pending

    if how == "killed":
        assert main(["recover", "--json"]) == 0
        [result] = json.loads(capsys.readouterr().out)
        assert result["outcome"] == "adopted" and result["job"] == pending.id
    else:
        assert main(["status", pending.id]) == 0
        assert "job       openai:ftjob-" in capsys.readouterr().out
    [job] = ftbridge.list_jobs()
    assert job.confirmed and job.native_id in emulator.jobs
    assert emulator.count("POST", CREATE) == 1  # recovering created nothing


def test_recover_drops_an_intent_that_never_reached_openai(
    openai_env: OpenAIEmulator,
    train_file: Path,
    ftbridge_home: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    emulator = openai_env
    stuck = emulator.faults.inject("POST", r"/v1/files", delay=3.0, times=1)  # a slow upload
    child = _submit_in_a_child(train_file, emulator, ftbridge_home)
    _until(lambda: stuck.times == 0)  # still uploading: no create was sent
    child.kill()
    child.communicate(timeout=30)
    [pending] = ftbridge.list_jobs()
    assert pending.status is JobStatus.PENDING
    assert main(["recover"]) == 0
    out = capsys.readouterr().out
    assert f"job {pending.id} never reached openai" in out and "nothing is billed" in out
    assert ftbridge.list_jobs() == []
    time.sleep(3.5)  # the upload ends on the server side; no create follows it
    assert emulator.jobs == {} and emulator.count("POST", CREATE) == 0
