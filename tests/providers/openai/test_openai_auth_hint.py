"""A refused key: the hint names where that key came from (variable, file or argument)."""

from __future__ import annotations

from pathlib import Path

import pytest
from ftbridge_openai.emulator import OpenAIEmulator
from openai_data import API_KEY

import ftbridge
from ftbridge import AuthenticationError


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> OpenAIEmulator:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with OpenAIEmulator(pace=0.05, api_key="sk-the-right-one") as running:
        monkeypatch.setenv("OPENAI_BASE_URL", running.base_url)
        yield running  # type: ignore[misc]


def _refused() -> str:
    provider = ftbridge.get_provider("openai")
    with pytest.raises(AuthenticationError) as refused:
        provider.refresh("ftjob-x")
    text = str(refused.value)
    assert API_KEY not in text
    return text


def test_a_key_from_the_file_is_named_as_from_the_file(
    server: OpenAIEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "ftbridge.toml"
    config.write_text(f'[providers.openai]\napi_key = "{API_KEY}"\n')
    monkeypatch.setenv("FTBRIDGE_CONFIG", str(config))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-another-key-in-the-environment")
    text = _refused()
    assert f"api_key in [providers.openai] of {config}" in text
    assert "OPENAI_API_KEY" not in text


def test_a_key_from_the_environment_is_named_as_such(
    server: OpenAIEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    assert "the OPENAI_API_KEY environment variable" in _refused()


def test_a_key_passed_as_an_argument_is_named_as_such(server: OpenAIEmulator) -> None:
    provider = ftbridge.get_provider("openai", api_key=API_KEY)
    with pytest.raises(AuthenticationError, match="the api_key argument"):
        provider.refresh("ftjob-x")
