"""What a new user hits in settings and arguments: each gets a sentence and its exit code.

Where each key came from, FTBRIDGE_HOME that is a file, numbers past every range, arguments that
are not UTF-8, provider settings no SDK can use, wrong fake and Fireworks settings.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import ftbridge
from ftbridge.cli import main

SCRIPT = '[["running", 0.05], ["succeeded", 0]]'


def _succeeded_job(capsys: pytest.CaptureFixture[str], train_file: Path) -> str:
    args = ["submit", str(train_file), "--provider", "fake", "--model", "base", "--wait"]
    code = main([*args, "--json", "-o", f"script={SCRIPT}"])
    out = capsys.readouterr().out
    assert code == 0, out
    return str(json.loads(out)["id"])


def _prompts(tmp_path: Path) -> Path:
    data = tmp_path / "heldout.jsonl"
    rows = [
        {"messages": [{"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": "a"}]}
        for i in range(3)
    ]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return data


def _no_traceback(err: str) -> None:
    assert "Traceback" not in err and "Error:" not in err.replace("error:", ""), err


def test_config_show_says_where_each_key_came_from_in_words(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # a description under a secret-looking name ("auth") was masked into "API..._KEY"
    monkeypatch.setenv("TOGETHER_API_KEY", "tg-a-key-that-is-long-enough")
    monkeypatch.setenv("FIREWORKS_API_KEY", "fw-a-key-that-is-long-enough")
    monkeypatch.setenv("FIREWORKS_ACCOUNT_ID", "me")
    assert main(["config", "show", "--json"]) == 0
    providers = json.loads(capsys.readouterr().out)["providers"]
    assert providers["together"]["authentication"] == "API key from TOGETHER_API_KEY"
    assert providers["fireworks"]["authentication"] == "API key from FIREWORKS_API_KEY"
    shown = json.dumps(providers)
    assert "a-key-that-is-long-enough" not in shown and "..._KEY" not in shown


def test_an_ftbridge_home_that_is_a_file_is_named_and_validate_still_works(
    capsys: pytest.CaptureFixture[str],
    train_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    not_a_dir = tmp_path / "home-file"
    not_a_dir.write_text("")
    monkeypatch.setenv("FTBRIDGE_HOME", str(not_a_dir))
    for command in (
        ["submit", str(train_file), "--provider", "fake", "--model", "base"],
        ["jobs"],
        ["eval", str(_prompts(tmp_path)), "--model", "a=fake:base"],
    ):
        assert main(command) == 2, command
        err = capsys.readouterr().err
        assert f"FTBRIDGE_HOME {not_a_dir} is a file, not a directory" in err, err
        assert "File exists" not in err
        _no_traceback(err)
    assert main(["validate", str(train_file)]) == 0  # validate never needs a usable home


@pytest.mark.parametrize(
    "command",
    [
        ["submit", "{train}", "--provider", "fake", "--model", "base", "--seed", "{huge}"],
        ["submit", "{train}", "--provider", "fake", "--model", "base", "--batch-size", "{huge}"],
        ["eval", "{data}", "--model", "a=fake:base", "--seed", "{huge}"],
        ["chat", "{job}", "hi", "--seed", "{huge}"],
        ["chat", "{job}", "hi", "--max-tokens", "{huge}"],
    ],
)
def test_a_huge_whole_number_is_out_of_range_not_a_traceback(
    capsys: pytest.CaptureFixture[str], train_file: Path, tmp_path: Path, command: list[str]
) -> None:
    job = _succeeded_job(capsys, train_file) if "{job}" in command else ""
    values = {"train": str(train_file), "data": str(_prompts(tmp_path)), "job": job}
    values["huge"] = "9" * 30  # past 64 bits: it cannot even be written into JSON
    assert main([part.format(**values) for part in command]) == 2
    err = capsys.readouterr().err
    assert "2147483647" in err, err
    _no_traceback(err)


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        (["--model", "ba\udcffse"], "model is not valid text"),
        (["--model", "base", "--suffix", "s\udcff"], "suffix is not valid text"),
        (["--model", "base", "-o", "total_steps=3", "-o", "k\udcff=1"], "options is not valid"),
    ],
)
def test_submit_arguments_that_are_not_utf8_are_named_not_a_traceback(
    capsys: pytest.CaptureFixture[str], train_file: Path, extra: list[str], named: str
) -> None:
    assert main(["submit", str(train_file), "--provider", "fake", *extra]) == 2
    err = capsys.readouterr().err
    assert named in err and "\\xff" in err, err
    _no_traceback(err)
    with pytest.raises(ftbridge.ConfigError, match="the job id is not valid text"):
        ftbridge.get_job("fake:\udcff")


def test_eval_names_a_line_that_is_not_utf8_as_such(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data = _prompts(tmp_path)
    data.write_bytes(data.read_bytes() + b'{"messages": "\xff\xfe"}\n{broken\n')
    assert main(["eval", str(data), "--model", "a=fake:base"]) == 2
    err = capsys.readouterr().err
    assert f"{data}:4: not UTF-8 text (bad byte at column 15); re-save the file as UTF-8" in err
    assert f"{data}:5: not JSON (" in err
    assert "surrogates" not in err


def test_plot_of_a_failed_job_does_not_promise_metrics_later(
    capsys: pytest.CaptureFixture[str], train_file: Path
) -> None:
    args = ["submit", str(train_file), "--provider", "fake", "--model", "base", "--wait"]
    assert main([*args, "--json", "-o", 'script=[["failed", 0]]']) == 1
    job = json.loads(capsys.readouterr().out)["id"]
    assert main(["plot", job]) == 1
    err = capsys.readouterr().err
    assert f"ftbridge: error: job {job} has no loss metrics (failed): nothing to plot" in err
    assert "yet" not in err


@pytest.mark.parametrize("provider", ["openai", "together", "fireworks"])
@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ("timeout = -5", "timeout in [providers.{p}] must be a number of seconds above 0"),
        ("timeout = 1e999", "must be a number of seconds above 0 and at most 86400, not inf"),
        ('base_url = "api.example.com/v1"', "must be an http:// or https:// URL with a host"),
        ("base_url = 5", "base_url in [providers.{p}] must be a URL such as"),
        ('base_url = "http://[::1"', "is not a valid URL"),
        ('base_url = "http://me:pass-word-9@h:port/v1"', "'http://me:****@h:port/v1'"),
    ],
)
def test_a_provider_setting_no_sdk_can_use_is_named_before_anything_is_sent(
    capsys: pytest.CaptureFixture[str],
    train_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    provider: str,
    setting: str,
    expected: str,
) -> None:
    # these crashed in the SDK (a negative or endless timeout, a number), or, for a URL
    # without its scheme, retried a request that can never be sent for minutes
    config = tmp_path / "ftbridge.toml"
    config.write_text(f"[providers.{provider}]\n{setting}\n")
    monkeypatch.setenv("FTBRIDGE_CONFIG", str(config))
    for name in ("OPENAI_API_KEY", "TOGETHER_API_KEY", "FIREWORKS_API_KEY"):
        monkeypatch.setenv(name, "a-key-long-enough-1234")
    monkeypatch.setenv("FIREWORKS_ACCOUNT_ID", "me")
    args = ["submit", str(train_file), "--provider", provider, "--model", "m"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert expected.format(p=provider) in err, err
    assert "pass-word-9" not in err
    _no_traceback(err)


def test_a_base_url_from_the_environment_is_named_as_such(
    capsys: pytest.CaptureFixture[str], train_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "a-key-long-enough-1234")
    monkeypatch.setenv("OPENAI_BASE_URL", "127.0.0.1:8000/v1")
    assert main(["submit", str(train_file), "--provider", "openai", "--model", "m"]) == 2
    err = capsys.readouterr().err
    assert "OPENAI_BASE_URL must be an http:// or https:// URL with a host" in err


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        (
            "[providers.fake]\nscript = 5\n",
            "[providers.fake]: script: Input should be a valid list",
        ),
        ("[providers.fake]\nstate_dir = 5\n", "state_dir: Input should be a valid string"),
        ("[providers.fake]\ncreate_delay = -1\n", "create_delay: Input should be greater than"),
    ],
)
def test_a_wrong_fake_setting_is_a_config_error_and_config_show_still_works(
    capsys: pytest.CaptureFixture[str],
    train_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    table: str,
    expected: str,
) -> None:
    config = tmp_path / "ftbridge.toml"
    config.write_text(table)
    monkeypatch.setenv("FTBRIDGE_CONFIG", str(config))
    assert main(["submit", str(train_file), "--provider", "fake", "--model", "base"]) == 2
    err = capsys.readouterr().err
    assert expected in err, err
    _no_traceback(err)
    assert main(["config", "show"]) == 0  # every provider is described, this one with a note
    out = capsys.readouterr().out
    assert expected in out


def test_a_fireworks_upload_limit_that_is_not_a_number_is_named(
    capsys: pytest.CaptureFixture[str],
    train_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = tmp_path / "ftbridge.toml"
    config.write_text('[providers.fireworks]\ndirect_upload_limit = "abc"\n')
    monkeypatch.setenv("FTBRIDGE_CONFIG", str(config))
    monkeypatch.setenv("FIREWORKS_API_KEY", "a-key-long-enough-1234")
    monkeypatch.setenv("FIREWORKS_ACCOUNT_ID", "me")
    assert main(["submit", str(train_file), "--provider", "fireworks", "--model", "m"]) == 2
    err = capsys.readouterr().err
    assert "direct_upload_limit in [providers.fireworks] must be a whole number of 1 or more" in err
    _no_traceback(err)
