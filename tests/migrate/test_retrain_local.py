"""Retraining an emulated OpenAI fine-tune on the local trainer: same bytes, rules, lineage."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from ftbridge_openai.emulator import OpenAIEmulator

import ftbridge
from ftbridge.cli import main


@pytest.fixture
def tiny_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from ftbridge_local.testing import build_tiny_model

    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
        monkeypatch.setenv(name, "1")
    return build_tiny_model(tmp_path / "tiny")


@pytest.mark.slow
def test_an_openai_job_retrained_locally_on_the_tiny_model(
    openai_emulator: OpenAIEmulator,
    train_file: Path,
    tiny_model: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    old = ftbridge.submit(
        train_file,
        provider="openai",
        model="gpt-4o-mini",
        hyperparameters={"epochs": 2, "learning_rate_multiplier": 2.0, "batch_size": 4},
    )
    old.wait(timeout=60)
    code = main(
        ["retrain", old.id, "--provider", "local", "--model", str(tiny_model), "--wait", "--json"]
    )
    assert code == 0, capsys.readouterr().err
    out = json.loads(capsys.readouterr().out)
    assert out["retrained_from"] == old.id
    assert out["dataset_sha256"] == hashlib.sha256(train_file.read_bytes()).hexdigest()
    # epochs, batch size and the seed OpenAI chose kept; the multiplier scales the local
    # default for QLoRA (2e-4)
    assert out["hyperparameters"] == {
        "epochs": 2,
        "batch_size": 4,
        "seed": old.snapshot.details["seed"],
        "learning_rate": 4e-4,
    }
    new = ftbridge.get_job(out["job"])
    assert new.status is ftbridge.JobStatus.SUCCEEDED
    assert new.retrained_from == old.id
    assert new.spec.training.sha256 == old.spec.training.sha256
    with new.model() as model:
        assert isinstance(model.chat([{"role": "user", "content": "hi"}], max_tokens=4).text, str)
