"""A job's life on Fireworks: states, events, metrics, cancel, failure, resume, DPO, chat."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fireworks_data import ACCOUNT, DEPLOY_ONLY, FAST, spec_for
from ftbridge_fireworks import FireworksModelHandle, FireworksProvider
from ftbridge_fireworks.emulator import FireworksEmulator

import ftbridge
from ftbridge import (
    Hyperparameters,
    InferenceError,
    JobFailedError,
    JobSnapshot,
    JobSpec,
    JobStatus,
)


def run(provider: FireworksProvider, spec: JobSpec, until: float = 10.0) -> JobSnapshot:
    snapshot = provider.submit(None, spec)  # type: ignore[arg-type]
    return follow(provider, snapshot, until)


def follow(provider: FireworksProvider, snapshot: JobSnapshot, until: float = 10.0) -> JobSnapshot:
    deadline = time.monotonic() + until
    while not snapshot.status.is_terminal and time.monotonic() < deadline:
        time.sleep(0.01)
        snapshot = provider.refresh(snapshot.native_id)
    return snapshot


def test_a_job_passes_through_the_documented_states_to_completion(
    emulator: FireworksEmulator, provider: FireworksProvider, train_file: Path
) -> None:
    emulator.pace = 0.3  # slow enough to see each state (a 2 s job)
    spec = spec_for(
        train_file,
        hyperparameters=Hyperparameters(epochs=2, batch_size=4, learning_rate=2e-4, lora_rank=16),
    )
    snapshot = provider.submit(None, spec)  # type: ignore[arg-type]
    assert snapshot.native_id.startswith("sft/ftb-")
    seen = {(snapshot.raw_status, snapshot.status)}
    done = snapshot
    while not done.status.is_terminal:
        time.sleep(0.005)
        done = provider.refresh(snapshot.native_id)
        seen.add((done.raw_status, done.status))
    for state, status in [
        ("JOB_STATE_VALIDATING", JobStatus.VALIDATING),
        ("JOB_STATE_PENDING", JobStatus.QUEUED),
        ("JOB_STATE_RUNNING", JobStatus.RUNNING),
        ("JOB_STATE_WRITING_RESULTS", JobStatus.RUNNING),
    ]:
        assert (state, status) in seen
    assert done.status is JobStatus.SUCCEEDED and done.raw_status == "JOB_STATE_COMPLETED"
    assert done.model == f"accounts/{ACCOUNT}/models/{snapshot.native_id.split('/')[1]}"
    assert done.finished_at is not None and done.created_at is not None
    # The unified names reached Fireworks' fields.
    body = emulator.bodies("POST", f"/v1/accounts/{ACCOUNT}/supervisedFineTuningJobs")[-1]
    assert body["epochs"] == 2 and body["learningRate"] == 2e-4
    assert body["loraRank"] == 16 and body["batchSizeSamples"] == 4
    assert body["baseModel"] == "accounts/fireworks/models/llama-v3p1-8b-instruct"
    assert done.details["loraRank"] == 16

    events = provider.events(done.native_id)
    assert [e.id for e in events] == ["created", "state:JOB_STATE_COMPLETED"]
    assert provider.events(done.native_id, after="created") == events[1:]
    assert provider.events(done.native_id, after="state:JOB_STATE_RUNNING") == events[1:]
    metrics = provider.metrics(done.native_id)
    assert [p.step for p in metrics] == [1, 2, 3, 4, 5, 6]  # 12 examples / 4 x 2 epochs
    losses = [p.values["train_loss"] for p in metrics]
    assert losses == sorted(losses, reverse=True)
    assert metrics[-1].epoch == 2.0 and metrics[0].values["learning_rate"] == 2e-4


def test_submit_wait_chat_through_the_public_api(
    emulator: FireworksEmulator, provider: FireworksProvider, train_file: Path
) -> None:
    job = ftbridge.submit(
        train_file,
        provider=provider,
        model="llama-v3p1-8b-instruct",
        suffix="Support Bot",
        poll=FAST,
    )
    assert job.id == f"fireworks:{job.native_id}"
    job.wait(timeout=30, progress=False)
    assert job.status is JobStatus.SUCCEEDED
    with job.model() as model:
        assert isinstance(model, FireworksModelHandle)
        job_id = job.native_id.split("/")[1]
        assert model.model == f"accounts/{ACCOUNT}/models/support-bot-{job_id}"
        assert model.name == f"fireworks:{model.model}"
        reply = model.chat([{"role": "user", "content": "Where is order 3?"}], temperature=0)
        assert "Where is order 3?" in reply.text and reply.finish_reason == "stop"
        assert reply.usage is not None and reply.usage.completion_tokens
        pieces = list(model.stream([{"role": "user", "content": "Where is order 3?"}]))
        assert len(pieces) > 1 and "".join(pieces) == reply.text
        short = model.chat([{"role": "user", "content": "hi"}], max_tokens=2, stop="never")
        assert short.finish_reason == "length" and len(short.text.split()) == 2
    body = emulator.bodies("POST", "/v1/chat/completions")[-1]
    assert body["model"] == model.model and body["stop"] == ["never"] and body["max_tokens"] == 2
    assert job.metrics().last("train_loss") is not None


def test_cancel_stops_a_running_job(
    emulator: FireworksEmulator, provider: FireworksProvider, train_file: Path
) -> None:
    emulator.pace = 0.2
    snapshot = provider.submit(None, spec_for(train_file))  # type: ignore[arg-type]
    while snapshot.raw_status != "JOB_STATE_RUNNING":
        time.sleep(0.02)
        snapshot = provider.refresh(snapshot.native_id)
    cancelling = provider.cancel(snapshot.native_id)
    assert cancelling.raw_status == "JOB_STATE_CANCELLING" and not cancelling.status.is_terminal
    cancelled = follow(provider, cancelling)
    assert cancelled.status is JobStatus.CANCELLED and cancelled.model is None
    # Cancelling a finished job is not an error, and sends no second cancel.
    assert provider.cancel(snapshot.native_id).status is JobStatus.CANCELLED
    assert emulator.count("POST", r".*/supervisedFineTuningJobs/[^/]+:cancel") == 1


def test_a_failed_job_says_why_and_resumes(
    emulator: FireworksEmulator, provider: FireworksProvider, train_file: Path
) -> None:
    emulator.fail_next_job("Training failed: CUDA out of memory at step 2")
    job = ftbridge.submit(train_file, provider=provider, model="llama-v3p1-8b-instruct", poll=FAST)
    with pytest.raises(JobFailedError, match="CUDA out of memory"):
        job.wait(timeout=30, progress=False)
    assert job.status is JobStatus.FAILED and job.raw_status == "JOB_STATE_FAILED"
    assert job.events()[-1].level == "error"
    trained = job.metrics().points[-1].step
    # Fireworks continues a failed job (``:resume``); it trains what was left.
    resumed = job.resume()
    assert resumed.raw_status == "JOB_STATE_RE_QUEUEING" and not resumed.status.is_terminal
    job.wait(timeout=30, progress=False)
    assert job.status is JobStatus.SUCCEEDED
    assert job.metrics().points[-1].step > trained


def test_dpo_on_preference_pairs(
    emulator: FireworksEmulator, provider: FireworksProvider, dpo_file: Path
) -> None:
    job = ftbridge.submit(
        dpo_file,
        provider=provider,
        model="llama-v3p1-8b-instruct",
        hyperparameters={"epochs": 1, "lora_rank": 8},
        options={"dpo_beta": 0.1},
        poll=FAST,
    )
    assert job.spec.method == "dpo" and job.native_id.startswith("dpo/ftb-")
    job.wait(timeout=30, progress=False)
    assert job.status is JobStatus.SUCCEEDED
    body = emulator.bodies("POST", f"/v1/accounts/{ACCOUNT}/dpoJobs")[-1]
    assert body["trainingConfig"]["baseModel"].endswith("/llama-v3p1-8b-instruct")
    assert body["trainingConfig"]["loraRank"] == 8
    assert body["lossConfig"] == {"method": "DPO", "dpo": {"beta": 0.1}}
    assert [p.step for p in job.metrics().points] == [1, 2, 3]
    assert emulator.count("GET", r".*/dpoJobs/[^/]+:getMetricsFileEndpoint") >= 1
    with job.model() as model:
        assert "hi" in model.chat([{"role": "user", "content": "hi"}]).text
    assert job.cancel().status is JobStatus.SUCCEEDED  # a finished DPO job: nothing to cancel


def test_a_model_that_needs_a_deployment(
    emulator: FireworksEmulator, provider: FireworksProvider, train_file: Path
) -> None:
    spec = spec_for(train_file, model=DEPLOY_ONLY)
    check = provider.preflight(None, spec)  # type: ignore[arg-type]
    assert any("needs a deployment" in w for w in check.warnings)
    done = run(provider, spec)
    assert done.status is JobStatus.SUCCEEDED and done.model
    model = provider.open_model(done, spec)
    with pytest.raises(InferenceError) as caught:
        model.chat([{"role": "user", "content": "hi"}])
    message = str(caught.value)
    assert "firectl create deployment" in message and "on_deployment" in message
    assert done.model in message
    with pytest.raises(InferenceError, match="create deployment"):
        list(model.stream([{"role": "user", "content": "hi"}]))

    name = emulator.add_deployment("support-dep", done.model, account=ACCOUNT)
    on_deployment = model.on_deployment("support-dep")
    assert on_deployment.target == f"{done.model}#{name}"
    assert "hi" in on_deployment.chat([{"role": "user", "content": "hi"}]).text
    configured = provider.open_model(
        done, spec.model_copy(update={"options": {"deployment": "support-dep"}})
    )
    assert configured.name == f"fireworks:{done.model}#{name}"
    assert emulator.bodies("POST", "/v1/chat/completions")[-1]["model"] == configured.target


def test_open_named_model_talks_to_any_served_model(
    emulator: FireworksEmulator, provider: FireworksProvider
) -> None:
    base = provider.open_named_model("llama-v3p1-8b-instruct")
    assert base.name == "fireworks:accounts/fireworks/models/llama-v3p1-8b-instruct"
    assert "hello" in base.chat([{"role": "user", "content": "hello"}]).text
    same = provider.open_named_model("accounts/fireworks/models/llama-v3p1-8b-instruct")
    assert same.name == base.name
    missing = provider.open_named_model(f"accounts/{ACCOUNT}/models/no-such-model")
    with pytest.raises(InferenceError, match="does not serve"):
        missing.chat([{"role": "user", "content": "hi"}])


def test_fine_tuned_models_are_listed_page_by_page_and_a_repeated_page_ends_it(
    emulator: FireworksEmulator, provider: FireworksProvider, train_file: Path
) -> None:
    done = [run(provider, spec_for(train_file, key=f"key-{i}")) for i in range(3)]
    listed = provider.list_fine_tuned_models()
    assert sorted(m.model for m in listed) == sorted(str(d.model) for d in done)
    assert {m.job for m in listed} == {d.native_id for d in done}
    assert all(m.base_model == "accounts/fireworks/models/llama-v3p1-8b-instruct" for m in listed)
    # A server that answers every page with the same models and a next token: bounded.
    page = {"models": [emulator._model_json(j) for j in emulator.jobs.values()][:1]}
    page["nextPageToken"] = "again"
    emulator.faults.inject("GET", rf"/v1/accounts/{ACCOUNT}/models", status=200, body=page)
    assert [m.model for m in provider.list_fine_tuned_models()] == [page["models"][0]["name"]]
    assert emulator.count("GET", rf"/v1/accounts/{ACCOUNT}/models") == 1 + 2


def test_a_deployment_created_through_the_sdk_serves_the_fine_tune(
    emulator: FireworksEmulator, provider: FireworksProvider, train_file: Path
) -> None:
    import fireworks

    spec = spec_for(train_file, model=DEPLOY_ONLY)
    done = run(provider, spec)
    sdk = fireworks.Fireworks(
        api_key="fw-test-key-0123456789",
        account_id=ACCOUNT,
        base_url=emulator.base_url,
        max_retries=0,
    )
    base = "accounts/fireworks/models/qwen2p5-7b-instruct"
    emulator.pace = 0.3  # the deployment takes 0.3 s to be READY
    created = sdk.deployments.create(
        base_model=base, deployment_id="multi-lora", enable_addons=True
    )
    assert created.state == "CREATING"
    with pytest.raises(fireworks.BadRequestError, match="not ready"):
        sdk.lora.load(model=str(done.model), deployment=str(created.name))
    while sdk.deployments.get("multi-lora").state != "READY":
        time.sleep(0.005)
    loaded = sdk.lora.load(model=str(done.model), deployment=str(created.name))
    assert loaded.state == "DEPLOYED"
    model = provider.open_model(done, spec, deployment="multi-lora")
    assert model.target == f"{done.model}#{created.name}"
    assert "hi" in model.chat([{"role": "user", "content": "hi"}]).text
