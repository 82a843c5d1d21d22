"""Configuration: file, then environment, then arguments."""

from __future__ import annotations

from pathlib import Path

import pytest

import ftbridge
from ftbridge._config import load_config, mask


def test_file_env_and_nearest_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "ftbridge.toml").write_text(
        '[defaults]\nprovider = "openai"\nmodel = "gpt-4o-mini"\n'
        '[providers.local]\nmodel = "./tiny"\n'
    )
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    monkeypatch.chdir(nested)
    config = load_config()
    assert config.default_provider == "openai" and config.path == tmp_path / "ftbridge.toml"
    assert config.model_for("openai") == "gpt-4o-mini"
    assert config.model_for("local") == "./tiny"
    monkeypatch.setenv("FTBRIDGE_PROVIDER", "together")
    assert load_config().default_provider == "together"
    assert load_config().sources["provider"] == "FTBRIDGE_PROVIDER"


def test_explicit_config_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "elsewhere.toml"
    path.write_text('[defaults]\nprovider = "local"\n')
    monkeypatch.setenv("FTBRIDGE_CONFIG", str(path))
    assert load_config().default_provider == "local"
    monkeypatch.setenv("FTBRIDGE_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(ftbridge.ConfigError, match="not a file"):
        load_config()


def test_bad_files_say_what_is_wrong(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ftbridge.toml").write_text("[defaults\nprovider=")
    with pytest.raises(ftbridge.ConfigError, match="not valid TOML"):
        load_config()
    (tmp_path / "ftbridge.toml").write_text("[default]\nprovider = 'x'\n")
    with pytest.raises(ftbridge.ConfigError, match=r"unknown section.*\[defaults\]"):
        load_config()


def test_no_provider_anywhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ftbridge.ConfigError, match="FTBRIDGE_PROVIDER"):
        ftbridge.get_provider()


def test_unknown_provider_suggests_the_nearest(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ftbridge.UnknownProviderError, match="Did you mean 'openai'"):
        ftbridge.get_provider("openia")


def test_missing_known_provider_prints_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    from ftbridge import _registry

    monkeypatch.setitem(_registry.KNOWN_PROVIDERS, "vertex", "pip install 'ftbridge-vertex'")
    with pytest.raises(ftbridge.ProviderNotInstalledError) as info:
        ftbridge.get_provider("vertex")
    assert info.value.hint == "pip install 'ftbridge-vertex'"
    rows = {r.name: r for r in ftbridge.list_providers()}
    assert rows["vertex"].installed is False


def test_mask_never_shows_a_usable_secret() -> None:
    key = "sk-proj-0123456789abcdefghij"
    assert mask(key) == "sk-...ghij" and key not in mask(key)
    assert mask("short") == "****"
