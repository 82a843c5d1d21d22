"""Switching ``[defaults] provider`` to "together" is the only change to run the same flow."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ftbridge_together.emulator import TogetherEmulator
from together_data import API_KEY, BASE

from ftbridge.cli import main

CONFIG = """
[defaults]
provider = "{provider}"

[providers.openai]
model = "gpt-4o-mini-2024-07-18"
base_url = "http://127.0.0.1:9/v1"

[providers.together]
model = "{model}"
base_url = "{base_url}"
"""


def test_submit_wait_chat_with_together_as_the_default(
    emulator: TogetherEmulator,
    train_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = tmp_path / "ftbridge.toml"
    config.write_text(CONFIG.format(provider="together", model=BASE, base_url=emulator.base_url))
    monkeypatch.setenv("FTBRIDGE_CONFIG", str(config))
    monkeypatch.setenv("TOGETHER_API_KEY", API_KEY)
    monkeypatch.delenv("TOGETHER_BASE_URL", raising=False)

    assert main(["submit", str(train_file), "--wait", "--json"]) == 0
    job = json.loads(capsys.readouterr().out)
    assert job["id"].startswith("together:ft-") and job["status"] == "succeeded"
    assert main(["chat", job["id"], "Where is order 5?"]) == 0
    assert "Where is order 5?" in capsys.readouterr().out
    assert main(["events", job["id"]]) == 0
    assert "completed" in capsys.readouterr().out
    assert len(emulator.jobs) == 1
    assert API_KEY not in json.dumps(job)
