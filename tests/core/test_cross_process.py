"""A job submitted in one process is listed, followed, cancelled and chatted with from another."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from core_helpers import FAST

import ftbridge
from ftbridge import JobStatus
from ftbridge.cli import main


def _run(*argv: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FTBRIDGE_HOME": str(home)}
    return subprocess.run(
        [sys.executable, *argv], capture_output=True, text=True, env=env, timeout=120
    )


def test_submitted_by_cli_in_one_process_followed_in_another(
    train_file: Path, ftbridge_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _run(
        "-m",
        "ftbridge",
        "submit",
        str(train_file),
        "--provider",
        "fake",
        "--model",
        "base",
        "--json",
        "-o",
        'script=[["queued", 0.1], ["running", 0.4], ["succeeded", 0]]',
        home=ftbridge_home,
    )
    assert out.returncode == 0, out.stderr
    job_id = json.loads(out.stdout)["id"]

    assert [j.id for j in ftbridge.list_jobs()] == [job_id]
    job = ftbridge.get_job(job_id, poll=FAST)
    assert job.wait(timeout=20, progress=False).status is JobStatus.SUCCEEDED
    with job.model() as model:
        assert "ping" in model.chat([{"role": "user", "content": "ping"}]).text

    # and the other way round: this process's result is what a third process sees
    shown = _run("-m", "ftbridge", "status", job_id, "--cached", "--json", home=ftbridge_home)
    assert json.loads(shown.stdout)["status"] == "succeeded"
    chat = _run("-m", "ftbridge", "chat", job_id, "hello from afar", home=ftbridge_home)
    assert chat.returncode == 0 and "hello from afar" in chat.stdout


def test_submitted_by_api_in_one_process_cancelled_by_cli_in_another(
    train_file: Path, ftbridge_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = (
        "import ftbridge, sys\n"
        f"job = ftbridge.submit({str(train_file)!r}, provider='fake', model='base',"
        " options={'script': [['running', 60], ['succeeded', 0]]})\n"
        "print(job.id)\n"
    )
    out = _run("-c", code, home=ftbridge_home)
    assert out.returncode == 0, out.stderr
    job_id = out.stdout.strip()

    assert main(["jobs", "--status", "running"]) == 0
    assert job_id in capsys.readouterr().out
    assert main(["cancel", job_id]) == 0
    capsys.readouterr()
    waited = _run("-m", "ftbridge", "wait", job_id, home=ftbridge_home)
    assert waited.returncode == 1 and "cancelled" in waited.stderr
