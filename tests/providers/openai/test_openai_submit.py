"""OpenAI through the public API: retries under faults never double a job, a crashed submit is
reconciled, a server-rejected file raises JobFailedError, the key never reaches disk or logs."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest
from ftbridge_openai import OpenAIProvider
from ftbridge_openai.emulator import OpenAIEmulator
from openai_data import API_KEY

import ftbridge
from ftbridge import (
    AuthenticationError,
    JobCancelledError,
    JobFailedError,
    JobStatus,
    PollPolicy,
    TransientProviderError,
    UnsupportedHyperparameterError,
)

FAST = PollPolicy(
    initial=0.02, maximum=0.1, retry_attempts=8, retry_initial=0.01, retry_max_wait=0.2
)
CREATE = r"/v1/fine_tuning/jobs"


def test_submit_and_wait_through_a_storm_of_429_and_5xx_create_one_job(
    provider: OpenAIProvider, emulator: OpenAIEmulator, train_file: Path
) -> None:
    emulator.faults.inject("POST", CREATE, status=429, retry_after=0.05, times=2)
    emulator.faults.inject("POST", CREATE, status=503, times=1)
    emulator.faults.inject("POST", CREATE, status=502, after_handling=True, times=1)
    emulator.faults.inject("POST", r"/v1/files", status=500, times=1)
    emulator.faults.inject("GET", r"/v1/fine_tuning/jobs/.*", status=429, rate=0.3)
    emulator.faults.inject("GET", r"/v1/fine_tuning/jobs/.*", status=503, rate=0.2)
    job = ftbridge.submit(train_file, provider=provider, model="gpt-4o-mini", poll=FAST)
    job.wait(timeout=60, progress=False)
    assert job.status is JobStatus.SUCCEEDED
    # Four creates reached the server; the fourth made the job but answered 502, so the core
    # found it by its key instead of sending a fifth.
    assert emulator.count("POST", CREATE) == 4
    assert emulator.count("POST", CREATE, handled=True) == 1
    assert len(emulator.jobs) == 1
    assert job.native_id in emulator.jobs


def test_a_dropped_create_response_is_adopted_not_repeated(
    provider: OpenAIProvider, emulator: OpenAIEmulator, train_file: Path
) -> None:
    emulator.faults.inject("POST", CREATE, drop=True, after_handling=True, times=1)
    job = ftbridge.submit(train_file, provider=provider, model="gpt-4o-mini", poll=FAST)
    assert list(emulator.jobs) == [job.native_id]
    assert emulator.count("POST", CREATE, handled=True) == 1


def test_a_crash_between_create_and_record_is_reconciled_by_the_next_submit(
    provider: OpenAIProvider, emulator: OpenAIEmulator, train_file: Path
) -> None:
    # The job is created but its response never arrives and retries run out: what a process
    # killed right after the create leaves behind is the same: an intent without a job id.
    emulator.faults.inject("POST", CREATE, drop=True, after_handling=True, times=1)
    emulator.faults.inject("GET", CREATE, status=503, times=1)
    give_up = PollPolicy(initial=0.02, maximum=0.1, retry_attempts=1)
    with pytest.raises(TransientProviderError):
        ftbridge.submit(train_file, provider=provider, model="gpt-4o-mini", poll=give_up)
    assert len(emulator.jobs) == 1
    [pending] = ftbridge.list_jobs(provider="openai")  # shown as pending, not hidden
    assert pending.status is JobStatus.PENDING and not pending.confirmed
    # A fresh submit of the same thing (a new process, say) finds the job instead of paying twice.
    fresh = OpenAIProvider(api_key=API_KEY, base_url=emulator.base_url)
    job = ftbridge.submit(train_file, provider=fresh, model="gpt-4o-mini", poll=FAST)
    assert list(emulator.jobs) == [job.native_id]
    assert emulator.count("POST", CREATE, handled=True) == 1
    assert [j.id for j in ftbridge.list_jobs(provider="openai")] == [job.id]
    job.wait(timeout=30, progress=False)


def test_a_file_the_server_rejects_raises_job_failed_with_openais_message(
    provider: OpenAIProvider, emulator: OpenAIEmulator, train_file: Path
) -> None:
    emulator.reject_training = (
        "The job failed due to a file format error in the training file. Invalid file format. "
        "Example 7 message contains an invalid token: <|fim_suffix|>."
    )
    job = ftbridge.submit(train_file, provider=provider, model="gpt-4o-mini", poll=FAST)
    with pytest.raises(JobFailedError) as failed:
        job.wait(timeout=30, progress=False)
    assert failed.value.code == "invalid_training_file"
    assert failed.value.param == "training_file"
    assert "Example 7" in (failed.value.provider_message or "")
    assert "Example 7" in str(failed.value)
    assert job.status is JobStatus.FAILED


def test_an_absolute_learning_rate_is_refused_with_the_openai_equivalent(
    provider: OpenAIProvider, emulator: OpenAIEmulator, train_file: Path
) -> None:
    with pytest.raises(UnsupportedHyperparameterError, match="learning_rate_multiplier"):
        ftbridge.submit(
            train_file,
            provider=provider,
            model="gpt-4o-mini",
            hyperparameters={"learning_rate": 2e-4},
        )
    with pytest.raises(UnsupportedHyperparameterError, match="warmup"):
        ftbridge.submit(
            train_file,
            provider=provider,
            model="gpt-4o-mini",
            hyperparameters={"warmup_ratio": 0.1},
        )
    assert emulator.request_log == []


def test_the_api_key_never_reaches_the_store_or_the_logs(
    openai_env: OpenAIEmulator,
    train_file: Path,
    ftbridge_home: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    job = ftbridge.submit(train_file, provider="openai", model="gpt-4o-mini", poll=FAST)
    job.wait(timeout=30, progress=False)
    job.events()
    job.metrics()
    with job.model() as model:
        model.chat([{"role": "user", "content": "hi"}])
    text = repr(job) + repr(job.spec) + repr(job.snapshot)
    with OpenAIEmulator(api_key="sk-the-right-one") as strict:
        wrong = OpenAIProvider(api_key=API_KEY, base_url=strict.base_url)
        with pytest.raises(AuthenticationError) as refused:
            ftbridge.submit(train_file, provider=wrong, model="gpt-4o-mini", poll=FAST)
        text += str(refused.value) + repr(refused.value.__cause__)
    files = [p for p in ftbridge_home.rglob("*") if p.is_file()]
    assert any(p.name.startswith("jobs.db") for p in files)
    for path in files:
        assert API_KEY.encode() not in path.read_bytes(), path
    assert API_KEY not in caplog.text
    assert API_KEY not in text


def test_pause_and_cancel_through_the_job(train_file: Path) -> None:
    with OpenAIEmulator(pace=0.4) as server:
        provider = OpenAIProvider(api_key=API_KEY, base_url=server.base_url)
        job = ftbridge.submit(train_file, provider=provider, model="gpt-4o-mini", poll=FAST)
        deadline = time.monotonic() + 10
        while job.refresh().status is not JobStatus.RUNNING:
            assert time.monotonic() < deadline, job.raw_status
            time.sleep(0.02)
        assert job.pause().status is JobStatus.PAUSED
        assert ftbridge.get_job(job.id).status is JobStatus.PAUSED  # recorded in the store
        assert provider.resume(job.native_id).status is JobStatus.RUNNING
        assert job.cancel().status is JobStatus.CANCELLED
        with pytest.raises(JobCancelledError):
            job.wait(timeout=10, progress=False)
