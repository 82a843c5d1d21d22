"""Configuration: file, then environment, then arguments."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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


# -- the order of sources and values that used to crash (issue 10 items 8 and 11) -------------


def test_environment_model_beats_the_file_for_every_provider(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "ftbridge.toml").write_text(
        '[defaults]\nmodel = "from-defaults"\n[providers.fake]\nmodel = "from-provider-table"\n'
    )
    monkeypatch.chdir(tmp_path)
    assert load_config().model_for("fake") == "from-provider-table"
    monkeypatch.setenv("FTBRIDGE_MODEL", "from-env")
    config = load_config()
    assert config.model_for("fake") == "from-env"
    assert config.model_for("openai") == "from-env"
    assert config.sources["model"] == "FTBRIDGE_MODEL"


def test_environment_model_is_what_submit_uses_and_arguments_beat_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, train_file: Path
) -> None:
    (tmp_path / "ftbridge.toml").write_text('[providers.fake]\nmodel = "from-file"\n')
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FTBRIDGE_MODEL", "from-env")
    job = ftbridge.submit(train_file, provider="fake")
    assert job.spec.model == "from-env"
    job = ftbridge.submit(train_file, provider="fake", model="from-argument")
    assert job.spec.model == "from-argument"


def test_a_file_that_is_not_utf8_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "ftbridge.toml"
    path.write_bytes('[defaults]\nmodel = "modèle"\n'.encode("latin-1"))
    with pytest.raises(ftbridge.ConfigError) as info:
        load_config()
    message = str(info.value)
    assert str(path) in message and "UTF-8" in message and "line 2" in message


@pytest.mark.parametrize(
    ("toml", "wanted"),
    [
        ("[providers.openai]\napi_key = 12345\n", r"api_key in \[providers.openai\].*string"),
        ("[providers.x]\nauth = { token = 7 }\n", r"token in \[providers.x.auth\].*string"),
        (
            '[defaults]\nprovider = "openai"\nmodle = "m"\n',
            r"unknown key 'modle' in \[defaults\] \(did you mean 'model'\?\)",
        ),
        (
            "[defaults]\ncolour = 1\n",
            r"unknown key 'colour' in \[defaults\]; the keys are model, provider",
        ),
        ("[defaults]\nprovider = 3\n", r"provider in \[defaults\] must be a string"),
        ('[defaults]\nmodel = ["a"]\n', r"model in \[defaults\] must be a string"),
        ("[providers.openai]\nmodel = 4\n", r"model in \[providers.openai\] must be a string"),
        ('defaults = "x"\n', r"\[defaults\].*must be"),
    ],
)
def test_bad_values_get_one_clear_message_naming_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, toml: str, wanted: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ftbridge.toml").write_text(toml)
    with pytest.raises(ftbridge.ConfigError, match=wanted) as info:
        load_config()
    assert str(tmp_path / "ftbridge.toml") in str(info.value)


def test_bad_values_reach_the_cli_as_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from ftbridge.cli import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "ftbridge.toml").write_text("[providers.openai]\napi_key = 12345\n")
    assert main(["config", "show"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ftbridge: error: ") and "Traceback" not in err
    (tmp_path / "ftbridge.toml").write_bytes(b"[defaults]\nmodel = '\xff'\n")
    assert main(["config", "show"]) == 2
    assert "UTF-8" in capsys.readouterr().err


_TOML_PIECES = st.sampled_from(
    [
        "[defaults]\n", "[providers.openai]\n", "[providers.x.auth]\n", "[other]\n", "model",
        "provider", "api_key", "modle", "token", " = ", '"m"', "12345", "true", "[1, 2]",
        "{ a = 1 }", "\n", "\xff", "é", '"', "[", "]", "#",
    ]
)  # fmt: skip


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(pieces=st.lists(_TOML_PIECES, max_size=30), raw=st.binary(max_size=40))
def test_any_file_gives_a_config_or_one_config_error(
    tmp_path: Path, pieces: list[str], raw: bytes
) -> None:
    path = tmp_path / "ftbridge.toml"
    for content in ("".join(pieces).encode("utf-8", "surrogateescape"), raw):
        path.write_bytes(content)
        try:
            load_config(path)
        except ftbridge.ConfigError as exc:
            assert str(path) in str(exc)
