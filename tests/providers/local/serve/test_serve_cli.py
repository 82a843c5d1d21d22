"""``ftbridge serve``: job ids resolved through the job store, and the command itself."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from serve_helpers import Adapters

import ftbridge
from ftbridge.cli import main


def test_a_job_id_serves_its_adapter_on_the_base_it_was_trained_on(
    trained: Any, trained_model: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FTBRIDGE_HOME", str(trained.home))
    job = ftbridge.get_job(trained.job_id)
    question = [{"role": "user", "content": "What is the moon?"}]
    expected = trained_model.chat(question, max_tokens=16, temperature=0).text
    with ftbridge.serve(trained.job_id, f"named={trained.job_id}", port=0) as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="unused", max_retries=0)
        assert [m.id for m in client.models.list()] == [job.spec.model, trained.job_id, "named"]
        for name in (trained.job_id, "named"):
            reply = client.chat.completions.create(
                model=name, messages=question, max_tokens=16, temperature=0
            )
            assert reply.choices[0].message.content == expected


def test_an_unknown_job_or_nothing_to_serve_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FTBRIDGE_HOME", str(tmp_path))
    assert main(["serve", "local:ft-0000000000000000"]) == 2
    assert "no job 'local:ft-0000000000000000'" in capsys.readouterr().err
    assert main(["serve"]) == 2
    assert "nothing to serve" in capsys.readouterr().err
    assert main(["serve", "--base", "x", "--adapter", "no-equals-sign"]) == 2
    assert "NAME=PATH" in capsys.readouterr().err


def test_the_command_serves_until_interrupted(adapters: Adapters) -> None:
    env = {**os.environ, "FTBRIDGE_SERVE_API_KEY": "sk-cli-key"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ftbridge",
            "serve",
            "--base",
            str(adapters.base),
            "--adapter",
            f"support={adapters.paths['support']}",
            "--port",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        base_url = proc.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/v1")
        client = openai.OpenAI(base_url=base_url, api_key="sk-cli-key", max_retries=0)
        assert [m.id for m in client.models.list()][1:] == ["support"]
        assert httpx.get(base_url + "/models").status_code == 401  # the key from the env
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "(API key required)" in err and "sk-cli-key" not in err
