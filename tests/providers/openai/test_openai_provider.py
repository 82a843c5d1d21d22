"""The OpenAI provider against the emulator, method by method (one attempt per call)."""

from __future__ import annotations

from pathlib import Path

import pytest
from ftbridge_openai import OpenAIProvider
from ftbridge_openai.emulator import OpenAIEmulator
from openai_data import API_KEY, dataset, poll_until, spec_for, write_jsonl

from ftbridge import (
    AuthenticationError,
    ConfigError,
    InferenceError,
    JobSnapshot,
    JobStatus,
    MissingCredentialsError,
    ProviderNotFoundError,
    RateLimitError,
    RequestRejectedError,
    TransientProviderError,
)


def finished(provider: OpenAIProvider, native_id: str) -> JobSnapshot:
    return poll_until(lambda: provider.refresh(native_id), lambda s: s.status.is_terminal)


# -- configuration ------------------------------------------------------------------------------


def test_missing_key_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(MissingCredentialsError, match="OPENAI_API_KEY"):
        OpenAIProvider.from_config({})


def test_settings_override_the_environment_and_never_show_the_key(
    openai_env: OpenAIEmulator,
) -> None:
    provider = OpenAIProvider.from_config(
        {"api_key": "sk-other-secret-1234", "base_url": "http://127.0.0.1:9/v1", "model": "x"}
    )
    described = provider.describe_config()
    assert described["base_url"] == "http://127.0.0.1:9/v1"
    shown = repr(provider) + repr(described)
    assert "sk-other-secret-1234" not in shown and "1234" not in shown
    with pytest.raises(ConfigError, match="timeout"):
        OpenAIProvider.from_config({"timeout": "soon"})
    with pytest.raises(ConfigError, match=r"unknown setting.*base_ur1"):
        OpenAIProvider.from_config({"base_ur1": "http://127.0.0.1:9/v1"})


# -- the lifecycle ------------------------------------------------------------------------------


def test_submit_follows_to_success_with_checkpoints_events_and_metrics(
    provider: OpenAIProvider, emulator: OpenAIEmulator, train_file: Path
) -> None:
    ds = dataset(train_file)
    first = provider.submit(ds, spec_for(ds, epochs=2, batch_size=3, seed=7))
    assert first.status is JobStatus.VALIDATING and first.raw_status == "validating_files"
    done = finished(provider, first.native_id)
    assert done.status is JobStatus.SUCCEEDED
    assert done.model and done.model.startswith("ft:gpt-4o-mini-2024-07-18:")
    assert done.trained_tokens and done.finished_at is not None
    assert done.details["hyperparameters"] == {
        "n_epochs": 2,
        "batch_size": 3,
        "learning_rate_multiplier": 1.8,  # "auto", resolved by the server
    }
    steps = [c["step"] for c in done.details["checkpoints"]]
    assert steps == [4, 8]  # 12 examples / batch 3 = 4 steps per epoch, one per epoch
    assert done.details["checkpoints"][-1]["model"] == f"{done.model}:ckpt-step-8"

    events = provider.events(done.native_id)
    times = [e.time for e in events]
    assert times == sorted(times)
    assert events[0].message.startswith("Created fine-tuning job")
    assert "successfully completed" in events[-1].message
    step_events = [e for e in events if e.metrics]
    assert [e.step for e in step_events] == list(range(1, 9))
    assert provider.events(done.native_id, after=events[-1].id) == []
    assert provider.events(done.native_id, after=events[-3].id) == events[-2:]

    points = provider.metrics(done.native_id)
    assert [p.step for p in points] == list(range(1, 9))
    assert {"train_loss", "train_accuracy"} <= set(points[0].values)
    assert points[-1].values["train_loss"] < points[0].values["train_loss"]


def test_events_are_read_page_by_page(
    provider: OpenAIProvider, emulator: OpenAIEmulator, train_file: Path
) -> None:
    ds = dataset(train_file)
    native = provider.submit(ds, spec_for(ds, batch_size=1)).native_id
    finished(provider, native)
    provider.events_page_size = 7
    emulator.clear_log()
    events = provider.events(native)
    assert len(events) > 36  # 36 steps with a metrics event each, plus messages
    assert len({e.id for e in events}) == len(events)
    pages = emulator.count("GET", r"/v1/fine_tuning/jobs/[^/]+/events")
    assert pages == -(-len(events) // 7)
    # Reading only what is new stops at the known event instead of paging to the start.
    emulator.clear_log()
    assert provider.events(native, after=events[-2].id) == events[-1:]
    assert emulator.count("GET", r"/v1/fine_tuning/jobs/[^/]+/events") == 1


def test_dpo_sends_beta_and_hyperparameters(
    provider: OpenAIProvider, emulator: OpenAIEmulator, dpo_file: Path
) -> None:
    ds = dataset(dpo_file, "preference")
    spec = spec_for(ds, method="dpo", options={"beta": 0.3}, epochs=1, learning_rate_multiplier=0.5)
    done = finished(provider, provider.submit(ds, spec).native_id)
    assert done.status is JobStatus.SUCCEEDED
    job = emulator.jobs[done.native_id]
    assert job.method == {
        "type": "dpo",
        "dpo": {
            "hyperparameters": {
                "batch_size": 2,
                "learning_rate_multiplier": 0.5,
                "n_epochs": 1,
                "beta": 0.3,
            }
        },
    }


def test_a_file_the_server_rejects_fails_the_job_with_its_message(
    provider: OpenAIProvider, tmp_path: Path
) -> None:
    records = [
        {"messages": [{"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": "a"}]}
        for i in range(12)
    ]
    records[2]["messages"][1]["content"] = "done <|endoftext|>"
    ds = dataset(write_jsonl(tmp_path / "bad.jsonl", records))
    done = finished(provider, provider.submit(ds, spec_for(ds)).native_id)
    assert done.status is JobStatus.FAILED
    assert done.error is not None
    assert done.error.param == "training_file"
    assert "Example 3" in done.error.message and "<|endoftext|>" in done.error.message


# -- uploads ------------------------------------------------------------------------------------


def test_the_same_file_is_uploaded_once_while_it_exists(
    provider: OpenAIProvider, emulator: OpenAIEmulator, train_file: Path
) -> None:
    ds = dataset(train_file)
    first = provider.submit(ds, spec_for(ds, key="ftb-a"))
    second = provider.submit(ds, spec_for(ds, key="ftb-b"))
    assert emulator.count("POST", r"/v1/files") == 1
    assert first.details["training_file"] == second.details["training_file"]
    # Deleted on the server: uploaded again rather than pointing at a missing file.
    del emulator.files[first.details["training_file"]]
    third = provider.submit(ds, spec_for(ds, key="ftb-c"))
    assert emulator.count("POST", r"/v1/files") == 2
    assert third.details["training_file"] != first.details["training_file"]
    # Another account on the same server does not reuse this account's files.
    other = OpenAIProvider(api_key="sk-another-account", base_url=emulator.base_url)
    other.submit(ds, spec_for(ds, key="ftb-d"))
    assert emulator.count("POST", r"/v1/files") == 3


def test_large_files_go_through_the_uploads_api_in_parts(
    provider: OpenAIProvider, emulator: OpenAIEmulator, train_file: Path
) -> None:
    ds = dataset(train_file)
    size = train_file.stat().st_size
    options = {"upload_threshold": 100, "upload_part_size": 300}
    done = finished(provider, provider.submit(ds, spec_for(ds, options=options)).native_id)
    assert done.status is JobStatus.SUCCEEDED
    assert emulator.count("POST", r"/v1/files") == 0
    assert emulator.count("POST", r"/v1/uploads") == 1
    assert emulator.count("POST", r"/v1/uploads/[^/]+/parts") == -(-size // 300)
    assert emulator.count("POST", r"/v1/uploads/[^/]+/complete") == 1
    assert emulator.files[done.details["training_file"]].content == train_file.read_bytes()


# -- finding a job again ------------------------------------------------------------------------


def test_reconcile_finds_the_job_by_its_key_only(
    provider: OpenAIProvider, emulator: OpenAIEmulator, train_file: Path
) -> None:
    ds = dataset(train_file)
    spec = spec_for(ds, key="ftb-mine")
    created = provider.submit(ds, spec)
    for i in range(21):  # more jobs than one page, created after it
        provider.submit(ds, spec_for(ds, key=f"ftb-other-{i}"))
    found = provider.reconcile(spec)
    assert found is not None and found.native_id == created.native_id
    assert provider.reconcile(spec_for(ds, key="ftb-never-created")) is None


def test_a_lost_create_response_is_reconciled_to_exactly_one_job(
    provider: OpenAIProvider, emulator: OpenAIEmulator, train_file: Path
) -> None:
    ds = dataset(train_file)
    spec = spec_for(ds, key="ftb-lost-response")
    # The server creates the job, then the connection drops before the reply.
    emulator.faults.inject("POST", r"/v1/fine_tuning/jobs", drop=True, after_handling=True, times=1)
    with pytest.raises(TransientProviderError):
        provider.submit(ds, spec)
    found = provider.reconcile(spec)  # what the core does before retrying a create
    assert found is not None
    assert emulator.count("POST", r"/v1/fine_tuning/jobs", handled=True) == 1
    assert list(emulator.jobs) == [found.native_id]


# -- errors -------------------------------------------------------------------------------------


def test_sdk_errors_map_by_type(
    provider: OpenAIProvider, emulator: OpenAIEmulator, train_file: Path
) -> None:
    ds = dataset(train_file)
    native = provider.submit(ds, spec_for(ds)).native_id
    jobs = r"/v1/fine_tuning/jobs/[^/]+"
    emulator.faults.inject("GET", jobs, status=429, retry_after=3, times=1)
    with pytest.raises(RateLimitError) as limited:
        provider.refresh(native)
    assert limited.value.retry_after == 3.0 and limited.value.status_code == 429
    emulator.faults.inject("GET", jobs, status=503, times=1)
    with pytest.raises(TransientProviderError) as unavailable:
        provider.refresh(native)
    assert unavailable.value.status_code == 503
    emulator.faults.inject("GET", jobs, drop=True, times=1)
    with pytest.raises(TransientProviderError):
        provider.refresh(native)
    with pytest.raises(ProviderNotFoundError):
        provider.refresh("ftjob-does-not-exist")
    with pytest.raises(RequestRejectedError, match="suffix"):
        provider.submit(ds, spec_for(ds).model_copy(update={"suffix": "x" * 65}))
    with pytest.raises(RequestRejectedError, match="not available for fine-tuning"):
        provider.submit(ds, spec_for(ds, model="gpt-nonexistent"))
    slow = OpenAIProvider(api_key=API_KEY, base_url=emulator.base_url, timeout=0.2)
    emulator.faults.inject("GET", jobs, delay=1.0, times=1)
    with pytest.raises(TransientProviderError, match="timed out"):
        slow.refresh(native)


def test_a_refused_key_is_an_authentication_error_without_the_key(train_file: Path) -> None:
    with OpenAIEmulator(pace=0.05, api_key="sk-the-right-one") as server:
        provider = OpenAIProvider(api_key=API_KEY, base_url=server.base_url)
        ds = dataset(train_file)
        with pytest.raises(AuthenticationError) as refused:
            provider.submit(ds, spec_for(ds))
    assert refused.value.status_code == 401
    assert API_KEY not in str(refused.value)
    assert "the api_key argument" in str(refused.value)  # where this key came from


# -- control ------------------------------------------------------------------------------------


def test_pause_resume_and_cancel(train_file: Path) -> None:
    with OpenAIEmulator(pace=0.4) as server:
        provider = OpenAIProvider(api_key=API_KEY, base_url=server.base_url)
        ds = dataset(train_file)
        native = provider.submit(ds, spec_for(ds, batch_size=1)).native_id
        with pytest.raises(RequestRejectedError, match="only a running job can be paused"):
            provider.pause(native)
        poll_until(lambda: provider.refresh(native), lambda s: s.status is JobStatus.RUNNING)
        paused = provider.pause(native)
        assert paused.status is JobStatus.PAUSED and paused.raw_status == "paused"
        steps = len(server.jobs[native].metrics_rows)
        assert provider.refresh(native).status is JobStatus.PAUSED
        assert len(server.jobs[native].metrics_rows) == steps  # no progress while paused
        assert provider.resume(native).status is JobStatus.RUNNING
        cancelled = provider.cancel(native)
        assert cancelled.status is JobStatus.CANCELLED
        # Cancelling a finished job is not an error: it reports the job as it is.
        assert provider.cancel(native).status is JobStatus.CANCELLED
        assert provider.refresh(native).status is JobStatus.CANCELLED


# -- the model ----------------------------------------------------------------------------------


def test_the_model_answers_plainly_and_streamed(
    provider: OpenAIProvider, emulator: OpenAIEmulator, train_file: Path
) -> None:
    ds = dataset(train_file)
    spec = spec_for(ds)
    done = finished(provider, provider.submit(ds, spec).native_id)
    messages = [{"role": "user", "content": "Where is my order?"}]
    with provider.open_model(done, spec) as model:
        assert model.name == done.model
        reply = model.chat(messages, seed=1)
        assert reply.text.endswith("to: Where is my order?")
        assert reply.finish_reason == "stop"
        assert reply.usage is not None and reply.usage.completion_tokens
        assert "".join(model.stream(messages, seed=1)) == reply.text
        short = model.chat(messages, max_tokens=2, seed=1)
        assert short.finish_reason == "length" and len(short.text.split()) == 2
        assert model.chat(messages, seed=1, stop=" from").text == reply.text.split(" from")[0]
    with provider.open_model(done, spec_for(ds, options={"checkpoint_step": 12})) as ckpt:
        assert ckpt.name == f"{done.model}:ckpt-step-12"
        assert ckpt.chat(messages).text
    with pytest.raises(ConfigError, match="checkpoints at steps: 6, 12, 18"):
        provider.open_model(done, spec_for(ds, options={"checkpoint_step": 5}))
    gone = done.model_copy(update={"model": "ft:gpt-4o-mini:someone-else::nope"})
    with pytest.raises(InferenceError, match="does not exist"):
        provider.open_model(gone, spec).chat(messages)
