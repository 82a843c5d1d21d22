"""OpenAI at a closed port: a submit fails in seconds naming the URL, and the status of a
finished job shows its stored state with a note."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
from ftbridge_openai import OpenAIProvider
from ftbridge_openai.emulator import OpenAIEmulator

import ftbridge
from ftbridge import JobStatus, PollPolicy, ProviderUnreachableError, _network
from ftbridge.cli import main

FAST = PollPolicy(initial=0.02, maximum=0.1, retry_initial=0.01, retry_max_wait=0.2)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_submit_to_a_closed_port_fails_fast_naming_the_url(
    train_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = f"http://127.0.0.1:{_closed_port()}/v1"
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    provider = OpenAIProvider(base_url=base)
    start = time.monotonic()
    with pytest.raises(ProviderUnreachableError) as raised:
        ftbridge.submit(train_file, provider=provider, model="gpt-4o-mini")
    assert time.monotonic() - start < 10
    message = str(raised.value)
    assert message.startswith(f"cannot connect to {base}/") and "connection refused" in message
    assert "already created" not in message
    assert ftbridge.list_jobs() == []  # nothing was sent: nothing is left pending


def test_status_of_a_succeeded_job_whose_provider_is_gone_shows_the_stored_state(
    openai_env: OpenAIEmulator,
    provider: OpenAIProvider,
    train_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    job = ftbridge.submit(train_file, provider=provider, model="gpt-4o-mini", poll=FAST)
    job.wait(timeout=60, progress=False)
    assert job.status is JobStatus.SUCCEEDED
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{_closed_port()}/v1")
    start = time.monotonic()
    assert main(["status", job.id]) == 0
    assert time.monotonic() - start < 10
    out = capsys.readouterr()
    assert "succeeded" in out.out
    assert "note: showing the last known state (cannot connect to http://127.0.0.1:" in out.err
    assert "connection refused" in out.err


def test_a_host_that_never_accepts_the_connection_fails_fast_too(
    train_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A listener whose backlog is full: the connect is never answered (as a firewalled host).
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(0)
        port = server.getsockname()[1]
        queued = []
        for _ in range(4):
            client = socket.socket()
            client.setblocking(False)
            client.connect_ex(("127.0.0.1", port))
            queued.append(client)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
        # The request timeout stays at its two minutes; the connect gives up after its own.
        monkeypatch.setattr(_network, "CONNECT_TIMEOUT", 1.0)
        provider = OpenAIProvider(base_url=f"http://127.0.0.1:{port}/v1")
        start = time.monotonic()
        with pytest.raises(ProviderUnreachableError, match="timed out while connecting"):
            ftbridge.submit(train_file, provider=provider, model="gpt-4o-mini")
        assert time.monotonic() - start < 15  # three tries, not eight with a minute's backoff
        for client in queued:
            client.close()
    assert ftbridge.list_jobs() == []
