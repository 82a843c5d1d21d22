"""Shared fixtures: every test gets its own empty ``FTBRIDGE_HOME`` and no stray config."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def ftbridge_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("ftbridge-home")
    monkeypatch.setenv("FTBRIDGE_HOME", str(home))
    monkeypatch.delenv("FTBRIDGE_CONFIG", raising=False)
    monkeypatch.delenv("FTBRIDGE_PROVIDER", raising=False)
    monkeypatch.delenv("FTBRIDGE_MODEL", raising=False)
    yield home
