"""Through ``ftbridge.submit``: refusals before anything is sent, storms, a lost create."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fireworks_data import ACCOUNT, BASE, FAST, NOT_TUNABLE, chat_records, write_jsonl
from ftbridge_fireworks import FireworksProvider
from ftbridge_fireworks.emulator import FireworksEmulator

import ftbridge
from ftbridge import (
    DatasetValidationError,
    JobStatus,
    PreflightError,
    TransientProviderError,
    UnsupportedHyperparameterError,
)

CREATE = rf"/v1/accounts/{ACCOUNT}/supervisedFineTuningJobs"
JOB = rf"/v1/accounts/{ACCOUNT}/supervisedFineTuningJobs/[^/:]+"


def test_a_file_invalid_for_fireworks_is_refused_before_anything_is_sent(
    emulator: FireworksEmulator, provider: FireworksProvider, tmp_path: Path
) -> None:
    records = [
        {
            "messages": [
                {"role": "user", "content": f"first {i}"},
                {"role": "system", "content": "late system prompt"},
                {"role": "assistant", "content": "answer"},
            ]
        }
        for i in range(12)
    ]
    path = write_jsonl(tmp_path / "late_system.jsonl", records)
    dataset = ftbridge.validate(path)
    verdict = dataset.verdicts["fireworks"]
    assert verdict.valid is False
    assert {f.code for f in verdict.errors} == {"fireworks.system_position"}
    with pytest.raises(DatasetValidationError, match="fireworks"):
        ftbridge.submit(path, provider=provider, model=BASE, poll=FAST)
    two = write_jsonl(tmp_path / "two.jsonl", chat_records(2))
    assert ftbridge.validation.check(two).verdicts["fireworks"].errors[0].code == (
        "fireworks.too_few_examples"
    )
    assert emulator.request_log == []
    assert ftbridge.list_jobs() == []


@pytest.mark.parametrize(
    ("hyperparameters", "match"),
    [
        ({"lora_alpha": 32}, "only lora_rank can be set"),
        ({"warmup_ratio": 0.1}, "learning_rate_warmup_steps"),
        ({"learning_rate_multiplier": 2.0}, "absolute learning rate"),
        ({"tuning": "full"}, "does not train tuning 'full'"),
    ],
)
def test_what_fireworks_cannot_honour_is_refused_with_the_alternative(
    emulator: FireworksEmulator,
    provider: FireworksProvider,
    train_file: Path,
    hyperparameters: dict[str, object],
    match: str,
) -> None:
    with pytest.raises(UnsupportedHyperparameterError, match=match):
        ftbridge.submit(
            train_file, provider=provider, model=BASE, hyperparameters=hyperparameters, poll=FAST
        )
    assert emulator.request_log == []


def test_preflight_refuses_what_fireworks_would_refuse(
    emulator: FireworksEmulator, provider: FireworksProvider, train_file: Path
) -> None:
    with pytest.raises(PreflightError, match="power of 2 up to 64"):
        ftbridge.submit(
            train_file, provider=provider, model=BASE, hyperparameters={"lora_rank": 12}, poll=FAST
        )
    with pytest.raises(PreflightError, match=r"cannot fine-tune .*deepseek-v3"):
        ftbridge.submit(train_file, provider=provider, model=NOT_TUNABLE, poll=FAST)
    with pytest.raises(PreflightError, match="has no model"):
        ftbridge.submit(train_file, provider=provider, model="no-such-model", poll=FAST)
    with pytest.raises(PreflightError, match="over the 16384-token limit"):
        ftbridge.submit(
            train_file,
            provider=provider,
            model="llama-v3p1-70b-instruct",
            options={"max_context_length": 65536},
            poll=FAST,
        )
    with pytest.raises(PreflightError, match="only apply to preference"):
        ftbridge.submit(
            train_file, provider=provider, model=BASE, options={"dpo_beta": 0.1}, poll=FAST
        )
    assert emulator.count("POST", r".*") == 0
    assert ftbridge.list_jobs() == []


def test_preflight_shows_limits_and_a_cost_said_to_be_an_estimate(
    provider: FireworksProvider, train_file: Path
) -> None:
    job = ftbridge.submit(
        train_file, provider=provider, model=BASE, hyperparameters={"epochs": 3}, poll=FAST
    )
    estimates = job.preflight.estimates  # type: ignore[attr-defined]
    assert estimates["epochs"] == 3
    assert estimates["train_tokens"] == 3 * estimates["train_tokens_per_epoch"] > 0
    assert estimates["price_usd"] == pytest.approx(estimates["train_tokens"] * 0.5 / 1e6, abs=1e-4)
    assert (
        "an estimate" in estimates["price_note"]
        and "fireworks.ai/pricing" in (estimates["price_note"])
    )
    assert estimates["limits"]["training_context_length"] == 32768
    job.wait(timeout=30, progress=False)


def test_rate_limits_and_outages_are_survived_with_exactly_one_job(
    emulator: FireworksEmulator, provider: FireworksProvider, train_file: Path
) -> None:
    faults = emulator.faults
    faults.inject("GET", r"/v1/accounts/fireworks/models/.*", status=503, times=2)
    # The upload and the create are one retried step: 6 failures within its 8 attempts.
    faults.inject(
        "POST", rf"/v1/accounts/{ACCOUNT}/datasets", status=429, retry_after=0.05, times=1
    )
    faults.inject("POST", r".*:upload", status=500, times=1)
    faults.inject("POST", CREATE, status=429, retry_after=0.05, times=2)
    faults.inject("POST", CREATE, status=502, times=1)
    faults.inject("POST", CREATE, status=503, times=1)
    faults.inject("GET", JOB, status=429, retry_after=0.01, rate=0.4)
    job = ftbridge.submit(train_file, provider=provider, model=BASE, poll=FAST)
    job.wait(timeout=60, progress=False)
    assert job.status is JobStatus.SUCCEEDED
    assert len(emulator.jobs) == 1
    assert emulator.count("POST", CREATE, handled=True) == 1
    assert emulator.count("POST", CREATE) == 5
    assert len(emulator.datasets) == 1


def test_a_lost_create_response_is_reconciled_not_repeated(
    emulator: FireworksEmulator, provider: FireworksProvider, train_file: Path
) -> None:
    # The server creates the job, then the connection drops before the answer arrives.
    emulator.faults.inject("POST", CREATE, drop=True, after_handling=True, times=1)
    job = ftbridge.submit(train_file, provider=provider, model=BASE, poll=FAST)
    assert [key[2] for key in emulator.jobs] == [job.native_id.split("/")[1]]
    assert emulator.count("POST", CREATE, handled=True) == 1
    assert emulator.count("GET", JOB) >= 1  # the reconcile that found it by its id
    job.wait(timeout=60, progress=False)
    assert job.status is JobStatus.SUCCEEDED


def test_a_retried_create_is_refused_by_its_id_and_adopted(
    emulator: FireworksEmulator, provider: FireworksProvider, train_file: Path
) -> None:
    # The answer is lost, and the read that would find the job is stale (404): the core
    # creates again, Fireworks refuses the taken id (409), and that job is returned.
    emulator.faults.inject("POST", CREATE, drop=True, after_handling=True, times=1)
    emulator.faults.inject("GET", JOB, status=404, times=1)
    job = ftbridge.submit(train_file, provider=provider, model=BASE, poll=FAST)
    assert len(emulator.jobs) == 1
    assert [r.status for r in emulator.request_log if r.method == "POST" and r.path == CREATE] == [
        0,
        409,
    ]
    assert job.status is not JobStatus.FAILED


def test_a_crashed_submit_is_adopted_by_the_next_one(
    emulator: FireworksEmulator, provider: FireworksProvider, train_file: Path
) -> None:
    emulator.faults.inject("POST", CREATE, drop=True, after_handling=True, times=1)
    emulator.faults.inject("GET", JOB, status=503)
    emulator.faults.inject("POST", CREATE, status=503)
    with pytest.raises(TransientProviderError):
        ftbridge.submit(train_file, provider=provider, model=BASE, poll=FAST)
    emulator.faults.clear()
    job = ftbridge.submit(train_file, provider=provider, model=BASE, poll=FAST)
    assert [key[2] for key in emulator.jobs] == [job.native_id.split("/")[1]]
    assert emulator.count("POST", CREATE, handled=True) == 1


def test_a_slow_reply_times_out_and_is_retried(
    emulator: FireworksEmulator, train_file: Path
) -> None:
    provider = FireworksProvider(
        api_key="fw-test-key-0123456789",
        account_id=ACCOUNT,
        base_url=emulator.base_url,
        timeout=0.3,
    )
    emulator.faults.inject("GET", r"/v1/accounts/fireworks/models/.*", delay=1.0, times=1)
    job = ftbridge.submit(train_file, provider=provider, model=BASE, poll=FAST)
    emulator.faults.inject("GET", JOB, delay=1.0, times=1)
    with pytest.raises(TransientProviderError, match="timed out"):
        provider.refresh(job.native_id)
    job.wait(timeout=30, progress=False)
    assert job.status is JobStatus.SUCCEEDED
    # The slow answer is logged once it is written (late); the read was asked for again.
    deadline = time.monotonic() + 5
    while emulator.count("GET", r"/v1/accounts/fireworks/models/.*") < 2:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert len(emulator.jobs) == 1


def test_a_validation_file_is_the_evaluation_dataset(
    emulator: FireworksEmulator, provider: FireworksProvider, train_file: Path, tmp_path: Path
) -> None:
    valid = write_jsonl(tmp_path / "valid.jsonl", chat_records(4, tag="v"))
    job = ftbridge.submit(train_file, provider=provider, model=BASE, validation=valid, poll=FAST)
    body = emulator.bodies("POST", CREATE)[-1]
    assert body["evaluationDataset"].startswith(f"accounts/{ACCOUNT}/datasets/ftb-")
    assert body["evaluationDataset"] != body["dataset"] and len(emulator.datasets) == 2
    job.wait(timeout=30, progress=False)
    with pytest.raises(PreflightError, match="eval_auto_carveout and a validation file"):
        ftbridge.submit(
            train_file,
            provider=provider,
            model=BASE,
            validation=valid,
            options={"eval_auto_carveout": True},
            poll=FAST,
        )


def test_a_dpo_job_takes_no_evaluation_dataset(
    emulator: FireworksEmulator, provider: FireworksProvider, dpo_file: Path
) -> None:
    with pytest.raises(PreflightError, match="DPO jobs take no evaluation dataset"):
        ftbridge.submit(dpo_file, provider=provider, model=BASE, validation=dpo_file, poll=FAST)
    assert emulator.count("POST", r".*") == 0
