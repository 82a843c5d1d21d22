"""The CLI, through ``main(argv)``, against the FakeProvider (registered as ``fake``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import ftbridge
from ftbridge.cli import main

FAST_SCRIPT = '[["queued", 0.05], ["running", 0.2], ["succeeded", 0]]'


def _submit(capsys: pytest.CaptureFixture[str], train_file: Path, *extra: str) -> dict:
    code = main(
        [
            "submit",
            str(train_file),
            "--provider",
            "fake",
            "--model",
            "base",
            "--json",
            "-o",
            f"script={FAST_SCRIPT}",
            *extra,
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    return json.loads(out)


def test_submit_wait_status_events_chat(
    capsys: pytest.CaptureFixture[str], train_file: Path
) -> None:
    job = _submit(capsys, train_file, "--epochs", "2")
    assert job["status"] in {"pending", "queued", "running"}
    assert main(["wait", job["id"], "--json"]) == 0
    waited = json.loads(capsys.readouterr().out)
    assert waited["status"] == "succeeded" and waited["fine_tuned_model"]
    assert main(["status", job["id"]]) == 0
    assert "succeeded" in capsys.readouterr().out
    assert main(["events", job["id"]]) == 0
    assert "step 10/10" in capsys.readouterr().out
    assert main(["chat", job["id"], "where is my order?"]) == 0
    assert "where is my order?" in capsys.readouterr().out
    assert main(["jobs", "--status", "succeeded"]) == 0
    assert job["id"] in capsys.readouterr().out


def test_submit_with_wait(capsys: pytest.CaptureFixture[str], train_file: Path) -> None:
    code = main(
        [
            "submit",
            str(train_file),
            "--provider",
            "fake",
            "--model",
            "base",
            "--wait",
            "-o",
            f"script={FAST_SCRIPT}",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0 and "submitted fake:" in out and "succeeded" in out


def test_failed_job_exits_1_with_the_providers_message(
    capsys: pytest.CaptureFixture[str], train_file: Path
) -> None:
    code = main(
        [
            "submit",
            str(train_file),
            "--provider",
            "fake",
            "--model",
            "base",
            "--wait",
            "-o",
            'script=[["running", 0.05], ["failed", 0]]',
            "-o",
            'error={"code": "quota", "message": "out of credits"}',
        ]
    )
    captured = capsys.readouterr()
    assert code == 1
    assert "out of credits" in captured.err


def test_cancel_and_timeout_exit_codes(
    capsys: pytest.CaptureFixture[str], train_file: Path
) -> None:
    job = json.loads(_submit_slow(capsys, train_file))
    assert main(["wait", job["id"], "--timeout", "0.1"]) == 4
    assert "goes on" in capsys.readouterr().err
    assert main(["cancel", job["id"], "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "cancelled"
    assert main(["cancel", job["id"]]) == 0  # idempotent
    assert main(["wait", job["id"]]) == 1


def _submit_slow(capsys: pytest.CaptureFixture[str], train_file: Path) -> str:
    assert (
        main(
            [
                "submit",
                str(train_file),
                "--provider",
                "fake",
                "--model",
                "base",
                "--json",
                "-o",
                'script=[["running", 60], ["succeeded", 0]]',
            ]
        )
        == 0
    )
    return capsys.readouterr().out


def test_usage_and_lookup_errors_exit_2(
    capsys: pytest.CaptureFixture[str], train_file: Path
) -> None:
    assert main(["status", "fake:nope"]) == 2
    assert "ftbridge jobs" in capsys.readouterr().err
    assert main(["submit", str(train_file), "--provider", "nosuch", "--model", "m"]) == 2
    assert "unknown provider" in capsys.readouterr().err
    assert (
        main(
            [
                "submit",
                str(train_file),
                "--provider",
                "fake",
                "--model",
                "m",
                "--learning-rate-multiplier",
                "2",
            ]
        )
        == 2
    )
    assert "learning_rate" in capsys.readouterr().err
    assert main(["frobnicate"]) == 2
    assert main(["submit"]) == 2


def test_providers_lists_installed_and_missing(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["providers", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["fake"]["installed"] is True
    assert {"openai", "together", "local"} <= set(rows)


def test_config_show_masks_secrets(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "sk-test-abcdefghijklmnopqrstuvwxyz123456"
    (tmp_path / "ftbridge.toml").write_text(
        f'[defaults]\nprovider = "fake"\nmodel = "base"\n\n[providers.fake]\napi_key = "{secret}"\n'
    )
    monkeypatch.chdir(tmp_path)
    assert main(["config", "show"]) == 0
    out = capsys.readouterr().out
    assert "defaults.provider = 'fake'" in out and secret not in out
    assert main(["config", "show", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["defaults"] == {"provider": "fake", "model": "base"}
    assert secret not in json.dumps(shown)


def test_provider_comes_from_config(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    train_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (tmp_path / "ftbridge.toml").write_text('[defaults]\nprovider = "fake"\nmodel = "base"\n')
    monkeypatch.chdir(tmp_path)
    assert main(["submit", str(train_file), "--json", "-o", f"script={FAST_SCRIPT}"]) == 0
    job = json.loads(capsys.readouterr().out)
    assert job["provider"] == "fake" and job["model"] == "base"
    assert ftbridge.get_job(job["id"]).spec.model == "base"
