"""Switching ``[defaults] provider`` to "fireworks" is the only change to run the same flow."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fireworks_data import ACCOUNT, API_KEY, BASE
from ftbridge_fireworks.emulator import FireworksEmulator

from ftbridge.cli import main

CONFIG = """
[defaults]
provider = "{provider}"

[providers.together]
model = "meta-llama/Meta-Llama-3.1-8B-Instruct-Reference"
base_url = "http://127.0.0.1:9"

[providers.fireworks]
model = "{model}"
base_url = "{base_url}"
"""


@pytest.fixture
def configured(
    emulator: FireworksEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    config = tmp_path / "ftbridge.toml"
    config.write_text(CONFIG.format(provider="fireworks", model=BASE, base_url=emulator.base_url))
    monkeypatch.setenv("FTBRIDGE_CONFIG", str(config))
    monkeypatch.setenv("FIREWORKS_API_KEY", API_KEY)
    monkeypatch.setenv("FIREWORKS_ACCOUNT_ID", ACCOUNT)
    monkeypatch.delenv("FIREWORKS_BASE_URL", raising=False)
    return config


def test_validate_gives_a_fireworks_verdict_in_the_same_pass(
    configured: Path, train_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", str(train_file), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {"openai", "together", "local", "fireworks"} <= set(doc["providers"])
    assert doc["providers"]["fireworks"]["valid"] is True


def test_submit_wait_chat_with_fireworks_as_the_default(
    configured: Path,
    emulator: FireworksEmulator,
    train_file: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["submit", str(train_file), "--wait", "--json"]) == 0
    job = json.loads(capsys.readouterr().out)
    assert job["id"].startswith("fireworks:sft/ftb-") and job["status"] == "succeeded"
    assert main(["chat", job["id"], "Where is order 5?"]) == 0
    assert "Where is order 5?" in capsys.readouterr().out
    assert main(["events", job["id"]]) == 0
    assert "COMPLETED" in capsys.readouterr().out
    assert len(emulator.jobs) == 1
    assert API_KEY not in json.dumps(job)


def test_submit_with_the_provider_flag_and_unified_tuning_names(
    configured: Path,
    emulator: FireworksEmulator,
    train_file: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["submit", str(train_file), "--provider", "fireworks", "--model", BASE, "--wait"]
    argv += ["--epochs", "2", "--tuning", "lora", "--lora-rank", "32", "--json"]
    assert main(argv) == 0
    job = json.loads(capsys.readouterr().out)
    assert job["status"] == "succeeded"
    body = emulator.bodies("POST", f"/v1/accounts/{ACCOUNT}/supervisedFineTuningJobs")[-1]
    assert body["epochs"] == 2 and body["loraRank"] == 32
    assert main(["submit", str(train_file), "--provider", "fireworks", "--lora-alpha", "16"]) != 0
    assert "only lora_rank can be set" in capsys.readouterr().err
