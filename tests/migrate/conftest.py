"""Fixtures for moving fine-tunes: the OpenAI and Together emulators, the user's environment."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from ftbridge_openai.emulator import OpenAIEmulator
from ftbridge_together.emulator import TogetherEmulator
from migrate_data import OPENAI_KEY, TOGETHER_KEY, chat_records, write_jsonl


@pytest.fixture
def openai_emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[OpenAIEmulator]:
    with OpenAIEmulator(pace=0.02) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
        yield server  # type: ignore[misc]


@pytest.fixture
def together_emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[TogetherEmulator]:
    with TogetherEmulator(pace=0.02) as server:
        monkeypatch.setenv("TOGETHER_BASE_URL", server.base_url)
        monkeypatch.setenv("TOGETHER_API_KEY", TOGETHER_KEY)
        yield server  # type: ignore[misc]


@pytest.fixture
def no_remote_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "TOGETHER_API_KEY", "FIREWORKS_API_KEY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def train_file(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "train.jsonl", chat_records())
