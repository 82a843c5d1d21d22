"""Fixtures: a Fireworks emulator on loopback, a provider pointed at it, small datasets."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fireworks_data import ACCOUNT, API_KEY, chat_records, preference_records, write_jsonl
from ftbridge_fireworks import FireworksProvider
from ftbridge_fireworks.emulator import FireworksEmulator


@pytest.fixture
def emulator() -> Iterator[FireworksEmulator]:
    with FireworksEmulator(pace=0.02) as server:
        yield server  # type: ignore[misc]


@pytest.fixture
def provider(emulator: FireworksEmulator, monkeypatch: pytest.MonkeyPatch) -> FireworksProvider:
    for name in ("FIREWORKS_BASE_URL", "FIREWORKS_ACCOUNT_ID", "FIREWORKS_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    # A short dataset wait keeps a wrongly stuck upload from hanging the suite.
    return FireworksProvider(
        api_key=API_KEY, account_id=ACCOUNT, base_url=emulator.base_url, dataset_timeout=20
    )


@pytest.fixture
def train_file(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "train.jsonl", chat_records())


@pytest.fixture
def dpo_file(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "prefs.jsonl", preference_records())
