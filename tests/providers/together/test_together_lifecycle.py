"""A job's life on Together: progress, events, metrics, cancel (and its cost), failure, chat."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from ftbridge_together import TogetherModelHandle, TogetherProvider
from ftbridge_together.emulator import TogetherEmulator
from together_data import DEDICATED_ONLY, spec_for

from ftbridge import Hyperparameters, InferenceError, JobSnapshot, JobSpec, JobStatus


def run(provider: TogetherProvider, spec: JobSpec, until: float = 10.0) -> JobSnapshot:
    snapshot = provider.submit(None, spec)  # type: ignore[arg-type]
    deadline = time.monotonic() + until
    while not snapshot.status.is_terminal and time.monotonic() < deadline:
        time.sleep(0.02)
        snapshot = provider.refresh(snapshot.native_id)
    return snapshot


def test_a_job_runs_to_completion_with_events_and_metrics(
    provider: TogetherProvider, train_file: Path
) -> None:
    spec = spec_for(train_file, hyperparameters=Hyperparameters(epochs=2, batch_size=8))
    done = run(provider, spec)
    assert done.status is JobStatus.SUCCEEDED and done.raw_status == "completed"
    assert done.step == done.total_steps == 4 and done.epoch == 2.0
    assert done.model and done.details["suffix"] in done.model
    assert done.details["price_usd"] > 0
    assert done.details["checkpoints"] == [
        {
            "step": 4,
            "type": "Final",
            "path": f"s3://emulator/{done.native_id}/checkpoint-4",
            "created_at": done.details["checkpoints"][0]["created_at"],
            "from_checkpoint": f"{done.native_id}:4",
        }
    ]
    events = provider.events(done.native_id)
    assert events[0].message == "Fine-tune request created"
    assert "completed" in events[-1].message
    assert [e.step for e in events if "Epoch" in e.message] == [2, 4]
    later = provider.events(done.native_id, after=events[-3].id)
    assert [e.id for e in later] == [e.id for e in events[-2:]]
    metrics = provider.metrics(done.native_id)
    assert [p.step for p in metrics] == [1, 2, 3, 4]
    losses = [p.values["train_loss"] for p in metrics]
    assert losses == sorted(losses, reverse=True)
    assert metrics[-1].epoch == 2.0 and "learning_rate" in metrics[0].values


def test_cancel_stops_the_job_and_shows_what_it_cost(
    emulator: TogetherEmulator, provider: TogetherProvider, train_file: Path
) -> None:
    emulator.pace = 0.2  # slow enough to catch it mid-training
    spec = spec_for(train_file, hyperparameters=Hyperparameters(epochs=4, batch_size=8))
    snapshot = provider.submit(None, spec)  # type: ignore[arg-type]
    while not (snapshot.raw_status == "running" and (snapshot.step or 0) >= 1):
        time.sleep(0.02)
        snapshot = provider.refresh(snapshot.native_id)
    cancelled = provider.cancel(snapshot.native_id)
    assert cancelled.raw_status == "cancel_requested"
    assert not cancelled.status.is_terminal
    while not cancelled.status.is_terminal:
        time.sleep(0.02)
        cancelled = provider.refresh(snapshot.native_id)
    assert cancelled.status is JobStatus.CANCELLED
    steps = cancelled.step or 0
    assert 1 <= steps < (cancelled.total_steps or 0)
    # Together bills the steps completed before the cancel; the snapshot says how much.
    job = emulator.jobs[snapshot.native_id]
    assert cancelled.details["cost_so_far_usd"] == pytest.approx(
        job.price * steps // job.total_steps / 1e9
    )
    assert 0 < cancelled.details["cost_so_far_usd"] < job.price / 1e9
    # Cancelling again (a finished job) is not an error and sends no second cancel.
    assert provider.cancel(snapshot.native_id).status is JobStatus.CANCELLED
    assert emulator.count("POST", r"/v1/fine-tunes/.*/cancel", handled=True) == 2
    assert any("cancel" in e.message.lower() for e in provider.events(snapshot.native_id))


def test_a_failed_job_says_why(
    emulator: TogetherEmulator, provider: TogetherProvider, train_file: Path
) -> None:
    emulator.fail_next_job("CUDA out of memory at step 1")
    failed = run(provider, spec_for(train_file))
    assert failed.status is JobStatus.FAILED and failed.raw_status == "error"
    assert failed.error is not None and "CUDA out of memory" in failed.error.message
    assert provider.events(failed.native_id)[-1].level == "error"


def test_chat_and_stream_on_the_output_model(
    emulator: TogetherEmulator, provider: TogetherProvider, train_file: Path
) -> None:
    spec = spec_for(train_file)
    done = run(provider, spec)
    with provider.open_model(done, spec) as model:
        assert isinstance(model, TogetherModelHandle) and model.name == done.model
        reply = model.chat([{"role": "user", "content": "Where is order 3?"}], temperature=0)
        assert "Where is order 3?" in reply.text
        assert reply.usage is not None and reply.usage.completion_tokens
        assert reply.finish_reason == "stop"
        pieces = list(model.stream([{"role": "user", "content": "Where is order 3?"}]))
        assert len(pieces) > 1 and "".join(pieces) == reply.text
        short = model.chat([{"role": "user", "content": "hi"}], max_tokens=2, stop="never")
        assert short.finish_reason == "length" and len(short.text.split()) == 2
    body = emulator.bodies("POST", "/v1/chat/completions")[-1]
    assert body["model"] == done.model and body["stop"] == ["never"] and body["max_tokens"] == 2


def test_a_model_that_needs_a_dedicated_endpoint(
    emulator: TogetherEmulator, provider: TogetherProvider, train_file: Path
) -> None:
    spec = spec_for(train_file, model=DEDICATED_ONLY)
    done = run(provider, spec)
    assert done.status is JobStatus.SUCCEEDED and done.model
    model = provider.open_model(done, spec)
    with pytest.raises(InferenceError) as caught:
        model.chat([{"role": "user", "content": "hi"}])
    message = str(caught.value)
    assert "dedicated endpoint" in message and "on_endpoint" in message
    assert done.model in message
    with pytest.raises(InferenceError, match="dedicated endpoint"):
        list(model.stream([{"role": "user", "content": "hi"}]))

    emulator.add_endpoint("acme/support-endpoint", done.model)
    on_endpoint = model.on_endpoint("acme/support-endpoint")
    assert "support-endpoint" in on_endpoint.chat([{"role": "user", "content": "hi"}]).text
    configured = provider.open_model(
        done, spec.model_copy(update={"options": {"endpoint": "acme/support-endpoint"}})
    )
    assert configured.name == "acme/support-endpoint"
    assert emulator.bodies("POST", "/v1/chat/completions")[-1]["model"] == "acme/support-endpoint"
