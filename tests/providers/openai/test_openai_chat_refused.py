"""A chat the provider refuses (a wrong key) exits 3, as every other refused request."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ftbridge_openai.emulator import OpenAIEmulator

from ftbridge.cli import main


def test_a_refused_chat_exits_3_and_names_the_key_source(
    train_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with OpenAIEmulator(pace=0.05, api_key="sk-the-right-one") as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-the-right-one")
        args = ["submit", str(train_file), "--provider", "openai", "--model", "gpt-4o-mini"]
        assert main([*args, "--wait", "--json"]) == 0
        job = json.loads(capsys.readouterr().out)["id"]
        monkeypatch.setenv("OPENAI_API_KEY", "sk-a-wrong-key-typed-in")
        assert main(["chat", job, "hi", "--no-stream"]) == 3
        err = capsys.readouterr().err
        assert "did not accept the API key" in err and "OPENAI_API_KEY" in err
        assert "sk-a-wrong-key-typed-in" not in err
        assert main(["chat", job, "hi"]) == 3  # streamed the same way
        assert "did not accept the API key" in capsys.readouterr().err
