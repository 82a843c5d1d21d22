"""Submitting and following jobs, driven by the FakeProvider."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from core_helpers import FAST

import ftbridge
from ftbridge import (
    JobCancelledError,
    JobFailedError,
    JobNotSucceededError,
    JobStatus,
    JobTimeoutError,
    NotSupportedError,
    OptionsError,
    PreflightError,
    RateLimitError,
    RequestRejectedError,
    TransientProviderError,
    UnsupportedHyperparameterError,
)
from ftbridge._recover import open_intents
from ftbridge._store import JobStore
from ftbridge.testing import FakeProvider


def test_submit_wait_chat(fake: FakeProvider, train_file: Path) -> None:
    job = ftbridge.submit(train_file, provider=fake, model="base", poll=FAST)
    assert job.id.startswith("fake:fakejob-")
    final = job.wait(timeout=10, progress=False)
    assert final.status is JobStatus.SUCCEEDED
    assert final.step == final.total_steps
    with job.model() as model:
        assert model.chat([{"role": "user", "content": "hello there"}]).text.endswith("hello there")
    assert fake.count("submit") == 1


def test_wait_honours_retry_after_and_retries_transient_errors(
    fake: FakeProvider, train_file: Path
) -> None:
    job = ftbridge.submit(train_file, provider=fake, model="base", poll=FAST)
    fake.fail("refresh", RateLimitError("slow down", retry_after=0.3), times=2)
    fake.fail("refresh", TransientProviderError("503 from upstream"), times=1)
    start = time.monotonic()
    job.wait(timeout=20, progress=False)
    assert time.monotonic() - start >= 0.6  # two Retry-After waits of 0.3 s were honoured
    assert job.status is JobStatus.SUCCEEDED


def test_wait_gives_up_after_retry_attempts(fake: FakeProvider, train_file: Path) -> None:
    job = ftbridge.submit(train_file, provider=fake, model="base", poll=FAST)
    fake.fail("refresh", TransientProviderError("down"), times=FAST.retry_attempts)
    with pytest.raises(TransientProviderError):
        job.refresh()


def test_timeout_leaves_the_job_running(train_file: Path) -> None:
    slow = FakeProvider(script=[("running", 30), ("succeeded", 0)])
    job = ftbridge.submit(train_file, provider=slow, model="base", poll=FAST)
    with pytest.raises(JobTimeoutError, match="goes on"):
        job.wait(timeout=0.2, progress=False)
    assert slow.count("cancel") == 0
    assert job.refresh().status is JobStatus.RUNNING


def test_timeout_can_cancel_when_asked(train_file: Path) -> None:
    slow = FakeProvider(script=[("running", 30), ("succeeded", 0)])
    job = ftbridge.submit(train_file, provider=slow, model="base", poll=FAST)
    with pytest.raises(JobTimeoutError, match="cancelled"):
        job.wait(timeout=0.2, progress=False, cancel_on_timeout=True)
    assert job.refresh().status is JobStatus.CANCELLED


def test_failure_carries_the_providers_code_and_message(
    fake: FakeProvider, train_file: Path
) -> None:
    job = ftbridge.submit(
        train_file,
        provider=fake,
        model="base",
        poll=FAST,
        options={
            "script": [("running", 0.05), ("failed", 0)],
            "error": {"code": "invalid_training_file", "message": "line 3: no assistant"},
        },
    )
    with pytest.raises(JobFailedError) as info:
        job.wait(timeout=10, progress=False)
    assert info.value.code == "invalid_training_file"
    assert info.value.provider_message == "line 3: no assistant"
    assert "line 3: no assistant" in str(info.value)
    with pytest.raises(JobNotSucceededError):
        job.model()


def test_cancel_is_idempotent_and_wait_reports_it(train_file: Path) -> None:
    slow = FakeProvider(script=[("running", 30), ("succeeded", 0)])
    job = ftbridge.submit(train_file, provider=slow, model="base", poll=FAST)
    assert job.cancel().status is JobStatus.CANCELLED
    assert job.cancel().status is JobStatus.CANCELLED
    assert slow.count("cancel") == 1  # the second cancel knew the job had ended
    with pytest.raises(JobCancelledError):
        job.wait(timeout=5, progress=False)


def test_pause_and_resume(train_file: Path) -> None:
    slow = FakeProvider(script=[("running", 0.3), ("succeeded", 0)])
    job = ftbridge.submit(train_file, provider=slow, model="base", poll=FAST)
    assert job.pause().status is JobStatus.PAUSED
    time.sleep(0.4)
    assert job.refresh().status is JobStatus.PAUSED
    assert job.resume().status is JobStatus.RUNNING
    job.wait(timeout=10, progress=False)


def test_events_are_incremental_deduplicated_and_persisted(
    fake: FakeProvider, train_file: Path
) -> None:
    job = ftbridge.submit(train_file, provider=fake, model="base", poll=FAST)
    job.wait(timeout=10, progress=False)
    events = job.events()
    ids = [e.id for e in events]
    assert len(ids) == len(set(ids)) and "status-0" in ids and "step-10" in ids
    assert [e.id for e in job.events()] == ids
    # a fresh handle (another process) sees them from the store without asking again for old ones
    other = ftbridge.get_job(job.id, provider=fake)
    assert [e.id for e in other.events()] == ids
    series = job.metrics()
    losses = [v for _, v in series.series("train_loss")]
    assert len(losses) == 10 and losses == sorted(losses, reverse=True)


def test_lost_create_response_is_reconciled_to_one_job(
    fake: FakeProvider, train_file: Path
) -> None:
    fake.fail("submit", TransientProviderError("connection reset"), after_effect=True)
    job = ftbridge.submit(train_file, provider=fake, model="base", poll=FAST)
    assert fake.count("submit") == 1  # the retry found the job instead of creating another
    assert fake.count("reconcile") >= 1
    assert len(list(fake.state_dir.glob("*.json"))) == 1
    assert job.wait(timeout=10, progress=False).status is JobStatus.SUCCEEDED


def test_crash_between_create_and_record_is_reconciled(
    fake: FakeProvider, train_file: Path
) -> None:
    # The first process records its intent, the create goes through, and it dies before
    # recording the answer: the create keeps failing from its side until it gives up.
    fake.fail("submit", TransientProviderError("connection reset"), after_effect=True)
    fake.fail("reconcile", TransientProviderError("network down"), times=FAST.retry_attempts)
    with pytest.raises(TransientProviderError):
        ftbridge.submit(train_file, provider=fake, model="base", poll=FAST)
    # The job it may have made is not hidden: it is listed as pending, not yet confirmed.
    [pending] = ftbridge.list_jobs()
    assert pending.status is JobStatus.PENDING and not pending.confirmed
    assert len(open_intents(JobStore())) == 1
    # Submitting the same job again adopts the remote job instead of paying for a second one.
    job = ftbridge.submit(train_file, provider=fake, model="base", poll=FAST)
    assert fake.count("submit") == 1
    assert [j.id for j in ftbridge.list_jobs()] == [job.id]
    assert open_intents(JobStore()) == []


def test_a_refused_create_leaves_nothing_behind(fake: FakeProvider, train_file: Path) -> None:
    fake.fail("submit", RequestRejectedError("model not available", status_code=400))
    with pytest.raises(RequestRejectedError, match="model not available"):
        ftbridge.submit(train_file, provider=fake, model="base", poll=FAST)
    assert open_intents(JobStore()) == []


def test_unsupported_hyperparameter_names_the_equivalent(
    fake: FakeProvider, train_file: Path
) -> None:
    with pytest.raises(UnsupportedHyperparameterError, match="absolute learning_rate"):
        ftbridge.submit(
            train_file, provider=fake, model="base", hyperparameters={"learning_rate_multiplier": 2}
        )
    assert fake.count("submit") == 0


def test_bad_hyperparameter_values_and_names(fake: FakeProvider, train_file: Path) -> None:
    with pytest.raises(ftbridge.ConfigError, match="epochs"):
        ftbridge.submit(train_file, provider=fake, model="base", hyperparameters={"epochs": 0})
    with pytest.raises(ftbridge.ConfigError, match="known names"):
        ftbridge.submit(train_file, provider=fake, model="base", hyperparameters={"epoch": 3})


def test_options_are_checked_by_the_providers_model(fake: FakeProvider, train_file: Path) -> None:
    with pytest.raises(OptionsError, match="total_steps"):
        ftbridge.submit(train_file, provider=fake, model="base", options={"total_steps": 0})
    assert fake.count("submit") == 0


def test_preflight_problems_stop_before_anything_starts(train_file: Path) -> None:
    class Picky(FakeProvider):
        def preflight(self, dataset, spec):  # type: ignore[no-untyped-def]
            return ftbridge.Preflight(problems=("model too large for this GPU",))

    picky = Picky()
    with pytest.raises(PreflightError, match="too large"):
        ftbridge.submit(train_file, provider=picky, model="base")
    assert picky.count("submit") == 0
    assert open_intents(JobStore()) == []


def test_invalid_dataset_is_refused_with_its_report(fake: FakeProvider, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"messages": [{"role": "wizard", "content": "hi"}]}\n{not json\n')
    with pytest.raises(ftbridge.DatasetValidationError) as info:
        ftbridge.submit(bad, provider=fake, model="base")
    assert info.value.report.error_count >= 2
    assert fake.calls == []


def test_no_model_is_a_config_error(fake: FakeProvider, train_file: Path) -> None:
    with pytest.raises(ftbridge.ConfigError, match="no model"):
        ftbridge.submit(train_file, provider=fake)


def test_unsupported_operation_says_so(train_file: Path) -> None:
    class NoPause(FakeProvider):
        capabilities = FakeProvider.capabilities.model_copy(update={"pause": False})

    job = ftbridge.submit(train_file, provider=NoPause(), model="base", poll=FAST)
    with pytest.raises(NotSupportedError, match="pause"):
        job.pause()


def test_progress_line_on_a_terminal(fake: FakeProvider, train_file: Path) -> None:
    job = ftbridge.submit(train_file, provider=fake, model="base", poll=FAST)
    out = io.StringIO()
    job.wait(timeout=10, progress=True, stream=out)
    text = out.getvalue()
    assert "\r" in text and "succeeded" in text and "10/10" in text and "loss" in text


def test_get_job_unknown_id(train_file: Path) -> None:
    with pytest.raises(ftbridge.JobNotFoundError, match="ftbridge jobs"):
        ftbridge.get_job("fake:nope")


def test_list_jobs_filters(fake: FakeProvider, train_file: Path) -> None:
    a = ftbridge.submit(train_file, provider=fake, model="base", poll=FAST)
    a.wait(timeout=10, progress=False)
    slow = FakeProvider(script=[("running", 30), ("succeeded", 0)])
    b = ftbridge.submit(train_file, provider=slow, model="other", poll=FAST)
    assert {j.id for j in ftbridge.list_jobs()} == {a.id, b.id}
    assert [j.id for j in ftbridge.list_jobs(status="succeeded")] == [a.id]
    assert [j.id for j in ftbridge.list_jobs(status=JobStatus.RUNNING)] == [b.id]
    assert ftbridge.list_jobs(provider="openai") == []
    with pytest.raises(ftbridge.ConfigError, match="unknown status"):
        ftbridge.list_jobs(status="done")


def test_wait_all_follows_many_jobs_with_few_threads(train_file: Path) -> None:
    fake = FakeProvider(script=[("running", 0.2), ("succeeded", 0)])
    jobs = [ftbridge.submit(train_file, provider=fake, model="base", poll=FAST) for _ in range(20)]
    failing = ftbridge.submit(
        train_file,
        provider=fake,
        model="base",
        poll=FAST,
        options={"script": [("running", 0.1), ("failed", 0)]},
    )
    seen: set[str] = set()
    finals = ftbridge.wait_all(
        [*jobs, failing], poll=FAST, max_workers=3, on_update=lambda job, snap: seen.add(job.id)
    )
    assert [s.status for s in finals[:-1]] == [JobStatus.SUCCEEDED] * 20
    assert finals[-1].status is JobStatus.FAILED  # reported, not raised
    assert len(seen) == 21
    assert ftbridge.list_jobs(status="succeeded") and len(ftbridge.list_jobs(status="failed")) == 1


def test_wait_all_timeout(train_file: Path) -> None:
    slow = FakeProvider(script=[("running", 30), ("succeeded", 0)])
    jobs = [ftbridge.submit(train_file, provider=slow, model="base") for _ in range(3)]
    with pytest.raises(JobTimeoutError, match="3 of 3"):
        ftbridge.wait_all(jobs, timeout=0.3, poll=FAST)


def test_a_pausable_provider_resumes_what_it_paused(train_file: Path) -> None:
    class PauseOnly(FakeProvider):
        capabilities = FakeProvider.capabilities.model_copy(update={"resume": False})

    job = ftbridge.submit(
        train_file,
        provider=PauseOnly(script=[("running", 5), ("succeeded", 0)]),
        model="base",
        poll=FAST,
    )
    assert job.pause().status is JobStatus.PAUSED
    assert job.resume().status is JobStatus.RUNNING


def test_minimum_example_counts_apply_to_training_files_only(
    fake: FakeProvider, train_file: Path, tmp_path: Path
) -> None:
    from ftbridge.validation import ProviderProfile, register_profile, unregister_profile

    register_profile(ProviderProfile(name="fake", min_examples=10))
    try:
        small = tmp_path / "valid.jsonl"
        small.write_text("".join(train_file.read_text().splitlines(keepends=True)[:3]))
        job = ftbridge.submit(train_file, provider=fake, model="base", validation=small, poll=FAST)
        assert job.spec.validation is not None and job.spec.validation.example_count == 3
        with pytest.raises(ftbridge.DatasetValidationError, match="at least 10"):
            ftbridge.submit(small, provider=fake, model="base")
    finally:
        unregister_profile("fake")


def test_wait_is_paced_by_the_providers_poll_interval_unless_the_user_sets_one(
    train_file: Path,
) -> None:
    class Quick(FakeProvider):
        capabilities = FakeProvider.capabilities.model_copy(update={"poll_interval": 0.05})

    script = [("running", 0.6), ("succeeded", 0)]
    quick = Quick(script=script)
    job = ftbridge.submit(train_file, provider=quick, model="base")  # no PollPolicy given
    job.wait(timeout=20, progress=False)
    # checked every 0.05 s or so (not the default 2 s): the wait ended when the job did
    assert quick.count("refresh") >= 6

    paced = Quick(script=script)
    job = ftbridge.submit(
        train_file, provider=paced, model="base", poll=ftbridge.PollPolicy(initial=0.4)
    )
    job.wait(timeout=20, progress=False)
    assert paced.count("refresh") <= 4  # the user's policy wins

    many = Quick(script=script)
    jobs = [ftbridge.submit(train_file, provider=many, model="base") for _ in range(2)]
    ftbridge.wait_all(jobs)
    assert many.count("refresh") >= 12
