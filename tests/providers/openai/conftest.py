"""Fixtures: an OpenAI emulator on loopback, a provider pointed at it, small datasets."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from ftbridge_openai import OpenAIProvider
from ftbridge_openai.emulator import OpenAIEmulator
from openai_data import API_KEY, chat_records, preference_records, write_jsonl


@pytest.fixture
def emulator() -> Iterator[OpenAIEmulator]:
    with OpenAIEmulator(pace=0.05) as server:
        yield server  # type: ignore[misc]


@pytest.fixture
def openai_env(emulator: OpenAIEmulator, monkeypatch: pytest.MonkeyPatch) -> OpenAIEmulator:
    """The environment a user sets: only the base URL and the key."""
    monkeypatch.setenv("OPENAI_BASE_URL", emulator.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    for name in ("OPENAI_ORG_ID", "OPENAI_PROJECT_ID"):
        monkeypatch.delenv(name, raising=False)
    return emulator


@pytest.fixture
def provider(openai_env: OpenAIEmulator) -> OpenAIProvider:
    return OpenAIProvider.from_config({"timeout": 10})


@pytest.fixture
def train_file(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "train.jsonl", chat_records())


@pytest.fixture
def dpo_file(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "prefs.jsonl", preference_records())
