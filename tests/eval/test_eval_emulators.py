"""The same evaluation through the OpenAI and Together emulators' chat routes (real SDKs, real
HTTP on loopback): a fine-tuned job against a model opened by name, the cache, rate limits."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from eval_helpers import record, write_jsonl
from ftbridge_openai.emulator import OpenAIEmulator
from ftbridge_together.emulator import TogetherEmulator

import ftbridge

CHAT = r"/v1/chat/completions"
# The emulators' replies echo the question: "contains" passes when the reply reached us whole.
QUESTIONS = [f"Where is order number {i}?" for i in range(12)]
HELDOUT = [record(q, q) for q in QUESTIONS]
OPENAI_KEY = "sk-test-eval-0123456789-secret"
TOGETHER_KEY = "tk-test-eval-0123456789-secret"
TOGETHER_BASE = "meta-llama/Meta-Llama-3.1-8B-Instruct-Reference"


@pytest.fixture
def train(tmp_path: Path) -> Path:
    return write_jsonl(
        tmp_path / "train.jsonl", [record(f"Question {i}?", f"Answer {i}.") for i in range(12)]
    )


@pytest.fixture
def openai_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[OpenAIEmulator]:
    with OpenAIEmulator(pace=0.05) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
        yield server  # type: ignore[misc]


@pytest.fixture
def together_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[TogetherEmulator]:
    with TogetherEmulator(pace=0.02) as server:
        monkeypatch.setenv("TOGETHER_BASE_URL", server.base_url)
        monkeypatch.setenv("TOGETHER_API_KEY", TOGETHER_KEY)
        yield server  # type: ignore[misc]


def finished(train: Path, provider: str, model: str, suffix: str) -> ftbridge.Job:
    job = ftbridge.submit(train, provider=provider, model=model, suffix=suffix)
    job.wait(timeout=120, progress=False)
    return job


def check(report: ftbridge.EvalReport, tmp_path: Path, secret: str) -> None:
    assert report.n == len(QUESTIONS)
    for model in report.models:
        assert report.errors(model) == 0, report.records[0]["errors"]
        assert report.mean(model, "contains") == 1.0
    out = report.save(tmp_path / "eval")
    for path in out.iterdir():
        assert secret not in path.read_text()


def test_openai_job_against_a_model_by_name(
    openai_server: OpenAIEmulator, train: Path, tmp_path: Path
) -> None:
    tuned = finished(train, "openai", "gpt-4o-mini", "tuned")
    other = finished(train, "openai", "gpt-4o-mini", "other")
    models = {"tuned": tuned.id, "other": f"openai:{other.fine_tuned_model}"}
    report = ftbridge.evaluate(models, HELDOUT, scorers=["contains", "f1"], baseline="other")
    check(report, tmp_path, OPENAI_KEY)
    assert report.records[0]["outputs"]["tuned"].startswith("Fine-tuned reply")
    assert openai_server.count("POST", CHAT) == 2 * len(QUESTIONS)

    ftbridge.evaluate(models, HELDOUT, scorers=["contains", "exact"], baseline="other")
    assert openai_server.count("POST", CHAT) == 2 * len(QUESTIONS)  # all from the cache

    # rate limits: retried after the server's Retry-After, nothing lost
    openai_server.faults.inject("POST", CHAT, status=429, retry_after=0.1, times=4)
    limited = ftbridge.evaluate({"tuned": tuned.id}, HELDOUT, scorers=["contains"], cache=False)
    assert limited.errors("tuned") == 0
    assert openai_server.count("POST", CHAT) == 3 * len(QUESTIONS) + 4


def test_openai_unknown_model_is_refused_before_any_chat(openai_server: OpenAIEmulator) -> None:
    with pytest.raises(ftbridge.ConfigError, match="model 'base' \\(openai:gpt-nope\\)"):
        ftbridge.evaluate({"base": "openai:gpt-nope"}, HELDOUT)
    assert openai_server.count("POST", CHAT) == 0


def test_together_job_against_its_base_model(
    together_server: TogetherEmulator, train: Path, tmp_path: Path
) -> None:
    tuned = finished(train, "together", TOGETHER_BASE, "tuned")
    models = {"tuned": tuned.id, "base": f"together:{TOGETHER_BASE}"}
    report = ftbridge.evaluate(
        models,
        HELDOUT,
        scorers=["contains", "f1"],
        baseline="base",
        judge=f"together:{TOGETHER_BASE}",
    )
    check(report, tmp_path, TOGETHER_KEY)
    assert "from Meta-Llama-3.1-8B-Instruct-Reference" in report.records[0]["outputs"]["base"]
    assert report.to_dict()["judge"]["models"]["tuned"]["n"] == len(QUESTIONS)
    chats = together_server.count("POST", CHAT)
    assert chats == 2 * len(QUESTIONS) + 2 * len(QUESTIONS)  # both models, then the judge twice

    together_server.faults.inject("POST", CHAT, status=503, times=3)
    again = ftbridge.evaluate(models, HELDOUT, scorers=["contains"], baseline="base", cache=False)
    assert again.errors("tuned") == 0 and again.errors("base") == 0


def test_an_interrupted_cli_run_resumes_without_asking_twice(
    openai_server: OpenAIEmulator, train: Path, tmp_path: Path
) -> None:
    model = finished(train, "openai", "gpt-4o-mini", "slow").fine_tuned_model
    data = write_jsonl(tmp_path / "heldout.jsonl", HELDOUT)
    openai_server.faults.inject("POST", CHAT, delay=0.15)  # a slow model: replies take 0.15 s
    command = [sys.executable, "-m", "ftbridge", "eval", str(data), "--model", f"m=openai:{model}",
               "--scorer", "contains", "--concurrency", "2", "--json"]  # fmt: skip
    first = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=os.environ
    )
    deadline = time.monotonic() + 30
    while openai_server.count("POST", CHAT) < 4 and time.monotonic() < deadline:
        time.sleep(0.02)
    first.send_signal(signal.SIGINT)
    _, err = first.communicate(timeout=30)
    assert first.returncode == 130, err
    asked = openai_server.count("POST", CHAT)
    assert 4 <= asked < len(QUESTIONS)

    second = subprocess.run(command, capture_output=True, text=True, timeout=60, env=os.environ)
    assert second.returncode == 0, second.stderr
    assert '"mean": 1.0' in second.stdout
    assert openai_server.count("POST", CHAT) == len(QUESTIONS)  # nothing was asked twice
