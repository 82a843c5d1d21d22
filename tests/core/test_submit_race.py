"""Submitting across processes: one remote job per identical submit, per idempotency key."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from core_helpers import FAST

import ftbridge
from ftbridge import ConfigError, JobStatus
from ftbridge.cli import main
from ftbridge.testing import FakeProvider

_CHILD = """
import sys, time
from pathlib import Path
import ftbridge
from ftbridge.testing import FakeProvider
go = Path(sys.argv[2])
while not go.exists():
    time.sleep(0.01)
key = sys.argv[3] or None
job = ftbridge.submit(sys.argv[1], provider=FakeProvider(create_delay=1.5), model="base",
                      idempotency_key=key)
print(job.id)
"""


def _race(train_file: Path, home: Path, tmp_path: Path, key: str = "") -> list[str]:
    go = tmp_path / "go"
    env = {**os.environ, "FTBRIDGE_HOME": str(home)}
    children = [
        subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(train_file), str(go), key],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(2)
    ]
    time.sleep(1.0)  # both are imported and waiting
    go.touch()
    ids = []
    for child in children:
        out, err = child.communicate(timeout=60)
        assert child.returncode == 0, err
        ids.append(out.strip())
    return ids


def test_two_processes_submitting_the_same_job_at_once_create_one(
    train_file: Path, ftbridge_home: Path, tmp_path: Path
) -> None:
    first, second = _race(train_file, ftbridge_home, tmp_path)
    assert first == second
    created = list((ftbridge_home / "fake-provider").glob("*.json"))
    assert len(created) == 1  # exactly one remote create
    assert [j.id for j in ftbridge.list_jobs()] == [first]


def test_two_threads_submitting_the_same_job_at_once_create_one(train_file: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    fake = FakeProvider(create_delay=1.0)
    with ThreadPoolExecutor(2) as pool:
        jobs = list(
            pool.map(lambda _: ftbridge.submit(train_file, provider=fake, model="base"), [0, 1])
        )
    assert jobs[0].id == jobs[1].id
    assert fake.count("submit") == 1


def test_one_job_per_idempotency_key_across_processes(
    train_file: Path, ftbridge_home: Path, tmp_path: Path
) -> None:
    first, second = _race(train_file, ftbridge_home, tmp_path, key="nightly-2026-12-01")
    assert first == second
    assert len(list((ftbridge_home / "fake-provider").glob("*.json"))) == 1
    # later, from this process: the key still names that job, and starts nothing
    fake = FakeProvider()
    again = ftbridge.submit(
        train_file, provider=fake, model="base", idempotency_key="nightly-2026-12-01"
    )
    assert again.id == first and fake.count("submit") == 0


def test_the_same_key_for_a_different_job_is_refused(fake: FakeProvider, train_file: Path) -> None:
    job = ftbridge.submit(train_file, provider=fake, model="base", idempotency_key="run-7")
    with pytest.raises(ConfigError, match="'run-7' was already used for a different job"):
        ftbridge.submit(train_file, provider=fake, model="other-base", idempotency_key="run-7")
    with pytest.raises(ConfigError, match="idempotency_key must be"):
        ftbridge.submit(train_file, provider=fake, model="base", idempotency_key="no spaces")
    assert [j.id for j in ftbridge.list_jobs()] == [job.id]
    assert fake.count("submit") == 1


def test_submit_idempotency_key_on_the_command_line(
    train_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["submit", str(train_file), "--provider", "fake", "--model", "base"]
    assert main([*argv, "--idempotency-key", "cli-key-1"]) == 0
    first = capsys.readouterr().out
    assert main([*argv, "--idempotency-key", "cli-key-1"]) == 0
    assert capsys.readouterr().out == first
    assert len(ftbridge.list_jobs()) == 1


def test_a_pending_job_is_found_and_settled_by_status(fake: FakeProvider, train_file: Path) -> None:
    # The create went through but every answer was lost: the submit gives up.
    from ftbridge import TransientProviderError

    fake.fail("submit", TransientProviderError("connection reset"), after_effect=True)
    fake.fail("reconcile", TransientProviderError("network down"), times=FAST.retry_attempts)
    with pytest.raises(TransientProviderError):
        ftbridge.submit(train_file, provider=fake, model="base", poll=FAST)
    [pending] = ftbridge.list_jobs(status="pending")
    assert not pending.confirmed and pending.id.startswith("fake:ftb-")
    found = ftbridge.get_job(pending.id, provider=fake)
    found.refresh()  # asks the provider by the key, and adopts the job it made
    assert found.confirmed and found.id.startswith("fake:fakejob-")
    assert [j.id for j in ftbridge.list_jobs()] == [found.id]
    assert found.wait(timeout=10, poll=FAST, progress=False).status is JobStatus.SUCCEEDED


def test_a_job_being_created_by_another_process_is_shown_and_left_alone(
    train_file: Path, ftbridge_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    go = tmp_path / "go"
    go.touch()
    env = {**os.environ, "FTBRIDGE_HOME": str(ftbridge_home)}
    code = _CHILD.replace("create_delay=1.5", "create_delay=4")
    child = subprocess.Popen(
        [sys.executable, "-c", code, str(train_file), str(go), ""],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    deadline = time.monotonic() + 30
    while not ftbridge.list_jobs():
        assert time.monotonic() < deadline and child.poll() is None
        time.sleep(0.05)
    [pending] = ftbridge.list_jobs()
    assert pending.status is JobStatus.PENDING and not pending.confirmed
    assert main(["recover"]) == 0
    assert f"job {pending.id} is still being created by process {child.pid}" in (
        capsys.readouterr().out
    )
    assert main(["status", pending.id]) == 0
    shown = capsys.readouterr()
    assert "pending" in shown.out and "still being created" in shown.err
    out, err = child.communicate(timeout=60)
    assert child.returncode == 0, err
    assert main(["status", pending.id]) == 0  # the key still finds it, now confirmed
    assert out.strip() in capsys.readouterr().out
    assert len(list((ftbridge_home / "fake-provider").glob("*.json"))) == 1


def test_a_pending_job_is_found_by_a_prefix_of_its_name(
    fake: FakeProvider, train_file: Path
) -> None:
    from ftbridge import TransientProviderError

    fake.fail("submit", TransientProviderError("connection reset"), after_effect=True)
    fake.fail("reconcile", TransientProviderError("network down"), times=FAST.retry_attempts)
    with pytest.raises(TransientProviderError):
        ftbridge.submit(train_file, provider=fake, model="base", poll=FAST)
    [pending] = ftbridge.list_jobs()
    assert ftbridge.get_job(pending.id[:14]).id == pending.id
