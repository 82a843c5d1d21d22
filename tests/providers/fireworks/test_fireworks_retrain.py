"""Moving a fine-tune to Fireworks: ``ftbridge retrain`` targets it, and inventory lists it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fireworks_data import ACCOUNT, API_KEY, BASE
from ftbridge_fireworks.emulator import FireworksEmulator
from ftbridge_openai.emulator import OpenAIEmulator

import ftbridge
from ftbridge.cli import main


@pytest.fixture
def environment(
    emulator: FireworksEmulator, monkeypatch: pytest.MonkeyPatch
) -> Iterator[OpenAIEmulator]:
    with OpenAIEmulator(pace=0.02) as openai_server:
        monkeypatch.setenv("OPENAI_BASE_URL", openai_server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-retrain-to-fireworks-0123456789")
        monkeypatch.setenv("FIREWORKS_BASE_URL", emulator.base_url)
        monkeypatch.setenv("FIREWORKS_API_KEY", API_KEY)
        monkeypatch.setenv("FIREWORKS_ACCOUNT_ID", ACCOUNT)
        monkeypatch.delenv("TOGETHER_API_KEY", raising=False)
        yield openai_server  # type: ignore[misc]


def test_retrain_an_openai_job_on_fireworks(
    environment: OpenAIEmulator,
    emulator: FireworksEmulator,
    train_file: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    old = ftbridge.submit(
        train_file,
        provider="openai",
        model="gpt-4o-mini",
        hyperparameters={"epochs": 2, "learning_rate_multiplier": 2.0, "batch_size": 4},
    )
    old.wait(timeout=60, progress=False)
    code = main(["retrain", old.id, "--provider", "fireworks", "--model", BASE, "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0, out
    assert out["retrained_from"] == old.id and out["job"].startswith("fireworks:sft/ftb-")
    assert out["hyperparameters"]["epochs"] == 2 and out["hyperparameters"]["batch_size"] == 4
    steps = {s["name"]: s for s in out["translated"]}
    assert "default is used" in steps["learning_rate_multiplier"]["why"]
    new = ftbridge.get_job(out["job"])
    new.wait(timeout=60, progress=False)
    assert new.status is ftbridge.JobStatus.SUCCEEDED
    assert new.spec.training.sha256 == old.spec.training.sha256
    assert new.retrained_from == old.id

    # The new fine-tune is in the inventory, tied to its job; its data is stored.
    items = {i.model: i for i in ftbridge.inventory(provider="fireworks")}
    item = items[str(new._snapshot.model)]
    assert item.job == new.id and item.shutdown_date is None and item.training_data == "stored"
    assert item.base_model == "accounts/fireworks/models/llama-v3p1-8b-instruct"
    resolved = type(new._provider).trained_hyperparameters(new._snapshot)  # type: ignore[attr-defined]
    assert resolved.epochs == 2 and resolved.tuning == "lora" and resolved.batch_size == 4
