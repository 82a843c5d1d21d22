"""Through ``ftbridge.submit``: refusals before anything is sent, storms, a lost create."""

from __future__ import annotations

from pathlib import Path

import pytest
from ftbridge_together import FileRejectedError, TogetherProvider
from ftbridge_together.emulator import TogetherEmulator
from together_data import BASE, FAST, write_jsonl

import ftbridge
from ftbridge import DatasetValidationError, JobStatus, UnsupportedHyperparameterError

CREATE = r"/v1/fine-tunes"


def test_a_file_invalid_for_together_is_refused_before_upload(
    emulator: TogetherEmulator, provider: TogetherProvider, tmp_path: Path
) -> None:
    records = [
        {
            "messages": [
                {"role": "user", "content": f"first {i}"},
                {"role": "user", "content": f"second {i}"},
                {"role": "assistant", "content": "answer"},
            ]
        }
        for i in range(12)
    ]
    path = write_jsonl(tmp_path / "turns.jsonl", records)
    dataset = ftbridge.validate(path)
    assert dataset.verdicts["together"].valid is False
    with pytest.raises(DatasetValidationError):
        ftbridge.submit(dataset, provider=provider, model=BASE, poll=FAST)
    with pytest.raises(DatasetValidationError):
        ftbridge.submit(path, provider=provider, model=BASE, poll=FAST)
    assert emulator.request_log == []
    assert ftbridge.list_jobs() == []


def test_a_file_the_server_refuses_is_reported_with_its_report(
    emulator: TogetherEmulator, provider: TogetherProvider, train_file: Path
) -> None:
    emulator.reject_next_file("Invalid format on line 3: the server found a problem.")
    with pytest.raises(FileRejectedError) as caught:
        ftbridge.submit(train_file, provider=provider, model=BASE, poll=FAST)
    assert "Invalid format on line 3" in str(caught.value)
    assert "INVALID_FORMAT" in str(caught.value)
    assert emulator.count("POST", CREATE) == 0
    assert ftbridge.list_jobs() == []


def test_a_learning_rate_multiplier_is_refused_with_the_alternative(
    emulator: TogetherEmulator, provider: TogetherProvider, train_file: Path
) -> None:
    with pytest.raises(UnsupportedHyperparameterError, match="absolute learning rate"):
        ftbridge.submit(
            train_file,
            provider=provider,
            model=BASE,
            hyperparameters={"learning_rate_multiplier": 2.0},
            poll=FAST,
        )
    assert emulator.request_log == []


def test_rate_limits_and_outages_are_survived_with_exactly_one_job(
    emulator: TogetherEmulator, provider: TogetherProvider, train_file: Path
) -> None:
    faults = emulator.faults
    faults.inject("GET", r"/v1/fine-tunes/models/limits", status=503, times=2)
    faults.inject("POST", r"/v1/files", status=429, retry_after=0.05, times=2)
    faults.inject("GET", r"/v1/files/[^/]+", status=500, times=2)
    faults.inject("POST", r"/v1/fine-tunes/estimate-price", status=502, times=1)
    faults.inject("POST", CREATE, status=429, retry_after=0.05, times=3)
    faults.inject("POST", CREATE, status=503, times=1)
    faults.inject("GET", r"/v1/fine-tunes/ft-[^/]+", status=429, retry_after=0.05, rate=0.5)
    job = ftbridge.submit(train_file, provider=provider, model=BASE, poll=FAST)
    job.wait(timeout=60, progress=False)
    assert job.status is JobStatus.SUCCEEDED
    assert len(emulator.jobs) == 1
    assert emulator.count("POST", CREATE, handled=True) == 1
    assert emulator.count("POST", CREATE) == 5
    assert emulator.count("PUT", r"/_upload/.*") == 1


def test_a_lost_create_response_is_reconciled_not_repeated(
    emulator: TogetherEmulator, provider: TogetherProvider, train_file: Path
) -> None:
    # The server creates the job, then the connection drops before the answer arrives.
    emulator.faults.inject("POST", CREATE, drop=True, after_handling=True, times=1)
    job = ftbridge.submit(train_file, provider=provider, model=BASE, poll=FAST)
    assert list(emulator.jobs) == [job.native_id]
    assert emulator.count("POST", CREATE, handled=True) == 1
    assert emulator.count("GET", r"/v1/fine-tunes") >= 1  # the reconcile that found it
    job.wait(timeout=60, progress=False)
    assert job.status is JobStatus.SUCCEEDED


def test_a_crashed_submit_is_adopted_by_the_next_one(
    emulator: TogetherEmulator, provider: TogetherProvider, train_file: Path
) -> None:
    # Every create answer is lost: the submit gives up, but the intent stays recorded...
    emulator.faults.inject("POST", CREATE, drop=True, after_handling=True, times=1)
    emulator.faults.inject("GET", r"/v1/fine-tunes", status=503)
    with pytest.raises(ftbridge.TransientProviderError):
        ftbridge.submit(train_file, provider=provider, model=BASE, poll=FAST)
    emulator.faults.clear()
    # ...so submitting the same job again adopts the one Together already has.
    job = ftbridge.submit(train_file, provider=provider, model=BASE, poll=FAST)
    assert list(emulator.jobs) == [job.native_id]
    assert emulator.count("POST", CREATE, handled=True) == 1
