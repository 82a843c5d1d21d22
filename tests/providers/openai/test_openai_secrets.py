"""A server that echoes the API key in its error text: the key reaches neither the terminal, nor
an exception, nor a log record, nor the job store's file."""

from __future__ import annotations

import json
import logging
import uuid
from pathlib import Path

import pytest
from ftbridge_openai import OpenAIProvider
from ftbridge_openai.emulator import OpenAIEmulator

import ftbridge
from ftbridge.cli import main


@pytest.fixture
def key(openai_env: OpenAIEmulator, monkeypatch: pytest.MonkeyPatch) -> str:
    fresh = f"sk-echoed-{uuid.uuid4().hex}"  # one no earlier test registered
    monkeypatch.setenv("OPENAI_API_KEY", fresh)
    return fresh


def stored_bytes(home: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(home.glob("jobs.db*")))


def test_a_refused_create_that_echoes_the_key(
    key: str,
    openai_env: OpenAIEmulator,
    train_file: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    ftbridge_home: Path,
) -> None:
    caplog.set_level(logging.DEBUG, logger="ftbridge")
    body = {"error": {"message": f"Incorrect API key provided: {key}.", "type": "x", "code": "k"}}
    openai_env.faults.inject("POST", r"/v1/fine_tuning/jobs", status=400, body=body, times=1)
    argv = ["submit", str(train_file), "--provider", "openai", "--model", "gpt-4o-mini"]
    assert main(argv) == 3
    out, err = capsys.readouterr()
    assert "Incorrect API key provided" in err and key not in out + err
    assert key not in caplog.text
    assert key.encode() not in stored_bytes(ftbridge_home)


def test_a_failed_job_whose_error_echoes_the_key(
    key: str,
    openai_env: OpenAIEmulator,
    train_file: Path,
    capsys: pytest.CaptureFixture[str],
    ftbridge_home: Path,
) -> None:
    openai_env.reject_training = f"training file refused for account {key}"
    provider = OpenAIProvider(api_key=key, base_url=openai_env.base_url)
    job = ftbridge.submit(train_file, provider=provider, model="gpt-4o-mini")
    with pytest.raises(ftbridge.JobFailedError) as info:
        job.wait(timeout=60)
    assert "training file refused" in str(info.value)
    assert key not in str(info.value) and key not in repr(info.value)
    assert key not in str(info.value.provider_message)
    main(["status", job.id, "--json"])
    main(["events", job.id])
    out, err = capsys.readouterr()
    assert "training file refused" in out and key not in out + err
    snapshot = json.dumps(ftbridge.get_job(job.id).snapshot.model_dump(mode="json"))
    assert key not in snapshot
    stored = stored_bytes(ftbridge_home)
    assert b"training file refused" in stored and key.encode() not in stored


def test_a_password_inside_base_url_is_not_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    password = f"pw-{uuid.uuid4().hex}"
    base_url = f"http://alice:{password}@127.0.0.1:9/v1"  # nothing listens on port 9
    (tmp_path / "ftbridge.toml").write_text(f'[providers.openai]\nbase_url = "{base_url}"\n')
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OPENAI_API_KEY", f"sk-{uuid.uuid4().hex}")
    provider = ftbridge.get_provider("openai")
    with pytest.raises(ftbridge.ProviderError) as info:
        provider.refresh("ftjob-nothing")
    assert password not in str(info.value) and password not in repr(info.value)
    assert all(password not in str(v) for v in vars(info.value).values())
    assert password not in repr(provider)
    assert main(["config", "show"]) == 0
    out, err = capsys.readouterr()
    assert "127.0.0.1:9" in out and password not in out + err
