"""Together at a closed port: a submit fails in seconds, naming the URL and the reason."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
from ftbridge_together import TogetherProvider
from together_data import API_KEY

import ftbridge
from ftbridge import ProviderUnreachableError, _network


def test_submit_to_a_closed_port_fails_fast_naming_the_url(train_file: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    provider = TogetherProvider(api_key=API_KEY, base_url=f"http://127.0.0.1:{port}")
    start = time.monotonic()
    with pytest.raises(ProviderUnreachableError) as raised:
        ftbridge.submit(
            train_file, provider=provider, model="meta-llama/Meta-Llama-3.1-8B-Instruct-Reference"
        )
    assert time.monotonic() - start < 10
    assert str(raised.value).startswith(f"cannot connect to http://127.0.0.1:{port}/v1/")
    assert "connection refused" in str(raised.value)
    assert ftbridge.list_jobs() == []


def test_a_host_that_never_accepts_the_connection_fails_fast_too(
    train_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as server:  # a full backlog: the connect is never answered
        server.bind(("127.0.0.1", 0))
        server.listen(0)
        port = server.getsockname()[1]
        queued = []
        for _ in range(4):
            client = socket.socket()
            client.setblocking(False)
            client.connect_ex(("127.0.0.1", port))
            queued.append(client)
        monkeypatch.setattr(_network, "CONNECT_TIMEOUT", 1.0)  # the request timeout stays 60 s
        provider = TogetherProvider(api_key=API_KEY, base_url=f"http://127.0.0.1:{port}")
        start = time.monotonic()
        with pytest.raises(ProviderUnreachableError, match="timed out while connecting"):
            ftbridge.submit(
                train_file,
                provider=provider,
                model="meta-llama/Meta-Llama-3.1-8B-Instruct-Reference",
            )
        assert time.monotonic() - start < 15
        for client in queued:
            client.close()
