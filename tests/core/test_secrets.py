"""Secrets are masked by value: whatever their name, wherever they are echoed, they never reach
the terminal, an exception, a log record or the job store's file."""

from __future__ import annotations

import json
import logging
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest

import ftbridge
from ftbridge import _secrets
from ftbridge.cli import main
from ftbridge.testing import FakeProvider


def fresh(prefix: str) -> str:
    """A secret no other test has registered (registrations last for the process)."""
    return f"{prefix}{uuid.uuid4().hex}"


def write_config(directory: Path, text: str) -> Path:
    path = directory / "ftbridge.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("api_key", True),
        ("OPENAI_API_KEY", True),
        ("FTBRIDGE_SERVE_API_KEY", True),
        ("apiKey", True),
        ("access-token", True),
        ("authorization", True),
        ("basic_auth", True),
        ("db_password", True),
        ("max_tokens", False),
        ("tokenizer", False),
        ("monkey", False),
        ("authentication", False),
        ("base_url", False),
    ],
)
def test_secret_looking_names(name: str, secret: bool) -> None:
    assert _secrets.is_secret_name(name) is secret


def test_a_registered_value_is_scrubbed_in_every_form() -> None:
    key = fresh("sk-unit-")
    _secrets.register(f"Bearer {key}")
    assert key not in _secrets.scrub(f"header Authorization: Bearer {key}, again {key}")
    assert _secrets.scrub(key) == _secrets.mask(key)
    quoted = fresh('pa"ss/wo rd')
    middle = quoted[3:-4]  # what a mask never shows
    _secrets.register(quoted)
    assert middle[-20:] not in _secrets.scrub(json.dumps({"p": quoted}))  # inside stored JSON
    password = fresh("p@ss w/rd-")
    url = f"https://u:{quote(password, safe='')}@h/v1"
    _secrets.register_url(url)
    assert password[-20:-4] not in _secrets.scrub(f"{url} then {password}")
    assert _secrets.scrub(url).startswith("https://u:") and _secrets.scrub(url).endswith("@h/v1")
    _secrets.register("k")  # too short to be worth hiding: scrubbing it would wreck every text
    for setting in ("disabled", "/home/me/.config/key.json", "https://example.com/token"):
        _secrets.register(setting)  # a flag, a path, a URL: settings under a secret's name
    text = "keep every k; disabled; /home/me/.config/key.json; https://example.com/token"
    assert _secrets.scrub(text) == text


def test_config_show_hides_secrets_under_any_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bearer, password, token = fresh("tok-"), fresh("pw-"), fresh("sk-")
    write_config(
        tmp_path,
        "[providers.custom]\n"
        f'header = "Bearer {bearer}"\n'
        f'base_url = "https://alice:{password}@llm.example.com/v1"\n'
        f'[providers.other]\nsettings = {{ nested_token = "{token}" }}\n',
    )
    monkeypatch.chdir(tmp_path)
    assert main(["config", "show"]) == 0
    assert main(["config", "show", "--json"]) == 0
    out, err = capsys.readouterr()
    assert "llm.example.com" in out and "alice" in out  # the rest stays readable
    for secret in (bearer, password, token):
        assert secret not in out + err


def test_a_key_from_the_environment_is_scrubbed_from_exceptions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key = fresh("serve-")
    monkeypatch.setenv("FTBRIDGE_SERVE_API_KEY", key)
    error = ftbridge.RequestRejectedError(f"server said: key {key} is not valid", provider="x")
    assert key not in str(error) and key not in repr(error) and key not in str(error.args)
    failed = ftbridge.JobFailedError("failed", provider_message=f"bad key {key}", code="auth")
    assert key not in str(failed.provider_message)


def test_a_key_registered_after_the_error_was_made_is_not_shown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key = fresh("late-")
    error = ftbridge.ProviderError(f"echo {key}")
    monkeypatch.setenv("LATE_API_KEY", key)
    assert key not in str(error) and key not in repr(error)


def test_log_records_of_ftbridge_loggers_are_scrubbed(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    key = fresh("log-")
    monkeypatch.setenv("SOME_PROVIDER_TOKEN", key)
    caplog.set_level(logging.INFO)
    logging.getLogger("ftbridge").warning("using %s", key)
    logging.getLogger("ftbridge.someprovider.upload").info("retrying with key=%s", key)
    try:
        try:
            raise RuntimeError(f"SDK error text with {key}")
        except RuntimeError as exc:
            raise ftbridge.ProviderError("wrapped") from exc
    except ftbridge.ProviderError:
        logging.getLogger("ftbridge.someprovider").exception("request failed")
    assert len(caplog.records) == 3
    assert key not in caplog.text
    assert "using" in caplog.text and "SDK error text with" in caplog.text


def test_job_store_and_cli_never_hold_a_key_echoed_in_a_job_error(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    train_file: Path,
    ftbridge_home: Path,
) -> None:
    key = fresh("sk-store-")
    write_config(tmp_path, f'[providers.fake]\ncredential = "{key}"\n')
    monkeypatch.chdir(tmp_path)
    provider = FakeProvider(script=[("running", 0.05), ("failed", 0)])
    error = {"code": "invalid_key", "message": f"the key {key} was refused"}
    job = ftbridge.submit(train_file, provider=provider, model="base", options={"error": error})
    with pytest.raises(ftbridge.JobFailedError) as info:
        job.wait()
    assert key not in str(info.value) and key not in repr(info.value.provider_message)
    main(["status", job.id])  # its exit code is the CLI's business; its output is ours
    assert main(["jobs", "--json"]) == 0
    assert main(["events", job.id]) == 0
    out, err = capsys.readouterr()
    assert job.id in out and key not in out + err
    stored = b"".join(p.read_bytes() for p in ftbridge_home.glob("jobs.db*"))
    assert b"was refused" in stored and key.encode() not in stored


def test_settings_passed_in_code_are_registered(tmp_path: Path) -> None:
    key = fresh("code-")
    ftbridge.get_provider("fake", state_dir=str(tmp_path), api_key=key)
    assert key not in str(ftbridge.ProviderError(f"x {key}"))


def test_only_a_bearer_credential_is_a_secret_whatever_its_name() -> None:
    token = fresh("tk-")
    _secrets.register_settings({"header": f"Bearer {token}", "note": "Token counting"})
    assert token not in _secrets.scrub(f"sent {token}")
    assert _secrets.scrub("counting tokens") == "counting tokens"
