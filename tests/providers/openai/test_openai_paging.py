"""Paginated reads end against a server that always answers ``has_more: true`` with one page."""

from __future__ import annotations

import time
from pathlib import Path

from ftbridge_openai import OpenAIProvider
from ftbridge_openai.emulator import OpenAIEmulator

import ftbridge
from ftbridge import PollPolicy

FAST = PollPolicy(initial=0.02, maximum=0.1, retry_initial=0.01, retry_max_wait=0.2)


def _event(n: int) -> dict[str, object]:
    return {
        "object": "fine_tuning.job.event",
        "id": f"ftevent-{n}",
        "created_at": 1_700_000_000 + n,
        "level": "info",
        "message": f"event {n}",
        "type": "message",
        "data": {},
    }


def test_events_end_when_every_page_repeats_with_has_more(
    provider: OpenAIProvider, emulator: OpenAIEmulator, train_file: Path
) -> None:
    job = ftbridge.submit(train_file, provider=provider, model="gpt-4o-mini", poll=FAST)
    events_path = rf"/v1/fine_tuning/jobs/{job.native_id}/events"
    stuck = {"object": "list", "data": [_event(2), _event(1)], "has_more": True}
    emulator.faults.inject("GET", events_path, status=200, body=stuck)
    start = time.monotonic()
    events = job.events()
    assert [e.message for e in events] == ["event 1", "event 2"]
    assert emulator.count("GET", events_path) <= 3  # the repeated page ends it
    assert time.monotonic() - start < 10


def test_checkpoints_and_reconcile_end_on_a_repeating_page(
    provider: OpenAIProvider, emulator: OpenAIEmulator, train_file: Path
) -> None:
    job = ftbridge.submit(train_file, provider=provider, model="gpt-4o-mini", poll=FAST)
    ckpt_path = rf"/v1/fine_tuning/jobs/{job.native_id}/checkpoints"
    checkpoint = {
        "object": "fine_tuning.job.checkpoint",
        "id": "ftckpt-1",
        "created_at": 1_700_000_000,
        "fine_tuned_job_id": job.native_id,
        "fine_tuned_model_checkpoint": "ft:gpt-4o-mini:ckpt-1",
        "step_number": 5,
        "metrics": {"train_loss": 1.0},
    }
    body = {"object": "list", "data": [checkpoint], "has_more": True}
    emulator.faults.inject("GET", ckpt_path, status=200, body=body)
    assert [c["step"] for c in provider._checkpoints(job.native_id)] == [5]
    assert emulator.count("GET", ckpt_path) <= 2

    # a listing that keeps offering the same job that is not ours: reconcile finds nothing
    listing = emulator.count("GET", r"/v1/fine_tuning/jobs")
    other = provider._client.fine_tuning.jobs.retrieve(job.native_id).model_dump(mode="json")
    other["metadata"] = {"ftbridge_idempotency_key": "someone-else"}
    emulator.faults.inject(
        "GET",
        r"/v1/fine_tuning/jobs",
        status=200,
        body={"object": "list", "data": [other], "has_more": True},
    )
    assert provider.reconcile(job.spec.model_copy(update={"idempotency_key": "mine"})) is None
    assert emulator.count("GET", r"/v1/fine_tuning/jobs") - listing <= 2
