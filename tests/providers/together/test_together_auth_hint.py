"""A refused Together key: the hint names where that key came from."""

from __future__ import annotations

from pathlib import Path

import pytest
from ftbridge_together.emulator import TogetherEmulator
from together_data import API_KEY

import ftbridge
from ftbridge import AuthenticationError


def _refused(emulator: TogetherEmulator) -> str:
    emulator.faults.inject("GET", r"/v1/fine-tunes/ft-x", status=401, times=1)
    with pytest.raises(AuthenticationError) as refused:
        ftbridge.get_provider("together").refresh("ft-x")
    assert API_KEY not in str(refused.value)
    return str(refused.value)


def test_the_hint_names_the_file_or_the_variable(
    emulator: TogetherEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOGETHER_BASE_URL", emulator.base_url)
    monkeypatch.setenv("TOGETHER_API_KEY", API_KEY)
    assert "the TOGETHER_API_KEY environment variable" in _refused(emulator)
    config = tmp_path / "ftbridge.toml"
    config.write_text('[providers.together]\napi_key = "tg-key-written-in-the-file"\n')
    monkeypatch.setenv("FTBRIDGE_CONFIG", str(config))
    text = _refused(emulator)
    assert f"api_key in [providers.together] of {config}" in text
    assert "TOGETHER_API_KEY" not in text
