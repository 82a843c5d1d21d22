"""Fixtures: a Together emulator on loopback, a provider pointed at it, small datasets."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from ftbridge_together import TogetherProvider
from ftbridge_together.emulator import TogetherEmulator
from together_data import API_KEY, chat_records, preference_records, write_jsonl


@pytest.fixture
def emulator() -> Iterator[TogetherEmulator]:
    with TogetherEmulator(pace=0.02) as server:
        yield server  # type: ignore[misc]


@pytest.fixture
def provider(emulator: TogetherEmulator, monkeypatch: pytest.MonkeyPatch) -> TogetherProvider:
    monkeypatch.delenv("TOGETHER_BASE_URL", raising=False)
    # A short file wait keeps a wrongly stuck upload from hanging the suite.
    return TogetherProvider(api_key=API_KEY, base_url=emulator.base_url, file_timeout=20)


@pytest.fixture
def train_file(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "train.jsonl", chat_records())


@pytest.fixture
def dpo_file(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "prefs.jsonl", preference_records())
