"""Fireworks at a closed port: a submit and a chat fail in seconds naming the URL (they were
retried as passing connection errors, silently, for minutes), and the stored state of a finished
job is still shown."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import pytest
from fireworks_data import ACCOUNT, API_KEY
from ftbridge_fireworks import FireworksProvider
from ftbridge_fireworks.emulator import FireworksEmulator

import ftbridge
from ftbridge import ProviderUnreachableError
from ftbridge.cli import main


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_closed_port_is_unreachable_in_seconds(
    train_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    base = f"http://127.0.0.1:{_closed_port()}"
    monkeypatch.setenv("FIREWORKS_API_KEY", "fw-a-key-long-enough")
    monkeypatch.setenv("FIREWORKS_ACCOUNT_ID", "me")
    provider = FireworksProvider(base_url=base)
    start = time.monotonic()
    with pytest.raises(ProviderUnreachableError) as raised:
        ftbridge.submit(train_file, provider=provider, model="llama-v3p1-8b-instruct")
    assert time.monotonic() - start < 15
    assert str(raised.value).startswith(f"cannot connect to {base}/")
    assert "connection refused" in str(raised.value)
    monkeypatch.setenv("FIREWORKS_BASE_URL", base)
    args = ["submit", str(train_file), "--provider", "fireworks", "--model", "m", "--json"]
    start = time.monotonic()
    assert main(args) == 3
    assert time.monotonic() - start < 15
    assert f"cannot connect to {base}/" in capsys.readouterr().err


def test_a_chat_with_an_unreachable_fireworks_exits_3_in_seconds(
    emulator: FireworksEmulator,
    train_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("FIREWORKS_BASE_URL", emulator.base_url)
    monkeypatch.setenv("FIREWORKS_API_KEY", API_KEY)
    monkeypatch.setenv("FIREWORKS_ACCOUNT_ID", ACCOUNT)
    args = ["submit", str(train_file), "--provider", "fireworks"]
    assert main([*args, "--model", "llama-v3p1-8b-instruct", "--wait", "--json"]) == 0
    job = json.loads(capsys.readouterr().out)["id"]
    base = f"http://127.0.0.1:{_closed_port()}"
    monkeypatch.setenv("FIREWORKS_BASE_URL", base)
    start = time.monotonic()
    assert main(["chat", job, "hi", "--no-stream"]) == 3
    assert time.monotonic() - start < 15
    assert f"cannot connect to {base}/" in capsys.readouterr().err


def test_a_rate_limited_chat_carries_its_retry_after_to_the_caller(
    emulator: FireworksEmulator, train_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # chained to the mapped error (not the SDK's), as evaluation needs to retry a rate limit
    provider = FireworksProvider(api_key=API_KEY, account_id=ACCOUNT, base_url=emulator.base_url)
    job = ftbridge.submit(train_file, provider=provider, model="llama-v3p1-8b-instruct")
    job.wait()
    emulator.faults.inject("POST", r".*/chat/completions", status=429, retry_after=7, times=2)
    with job.model() as model:
        for call in (model.chat, lambda m: "".join(model.stream(m))):
            with pytest.raises(ftbridge.InferenceError) as raised:
                call([{"role": "user", "content": "hi"}])
            assert isinstance(raised.value.__cause__, ftbridge.RateLimitError)
            assert raised.value.__cause__.retry_after == 7
