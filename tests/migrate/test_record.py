"""Recording a model's answers: resumable, never duplicated, refused once the model is gone."""

from __future__ import annotations

import _thread
import json
import threading
from datetime import date
from pathlib import Path

import pytest
from ftbridge_openai.emulator import OpenAIEmulator
from migrate_data import OPENAI_KEY, write_jsonl

import ftbridge
from ftbridge.cli import main

CHAT = r"/v1/chat/completions"


def _prompts(tmp_path: Path, n: int) -> Path:
    records = [
        {
            "messages": [
                {"role": "system", "content": "Answer briefly."},
                {"role": "user", "content": f"Where is order {i}?"},
                {"role": "assistant", "content": f"old answer {i}"},
            ]
        }
        for i in range(n)
    ]
    return write_jsonl(tmp_path / "prompts.jsonl", records)


def _tuned(train_file: Path) -> ftbridge.Job:
    job = ftbridge.submit(train_file, provider="openai", model="gpt-4o-mini")
    job.wait(timeout=60)
    return job


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_record_writes_one_golden_line_per_prompt_with_its_provenance(
    openai_emulator: OpenAIEmulator, train_file: Path, tmp_path: Path
) -> None:
    job = _tuned(train_file)
    out = tmp_path / "golden.jsonl"
    result = ftbridge.record(job.id, _prompts(tmp_path, 5), out=out, generation={"max_tokens": 20})
    assert (result.written, result.failed, result.already) == (5, 0, 0)
    lines = _lines(out)
    assert len(lines) == 5
    for i, line in enumerate(lines):
        messages = line["messages"]
        assert messages[1]["content"] == f"Where is order {i}?"
        assert messages[-1]["role"] == "assistant"
        assert messages[-1]["content"] != f"old answer {i}"  # the model's answer, not the file's
        assert set(line["metadata"]) == {"model", "recorded_at", "generation"}
        assert line["metadata"]["model"] == job.fine_tuned_model
        assert line["metadata"]["generation"] == {"max_tokens": 20, "temperature": 0.0, "seed": 0}
    assert OPENAI_KEY not in out.read_text()
    assert ftbridge.validate(out).example_count == 5  # usable as training data as it is


def test_an_interrupted_recording_resumes_without_asking_anything_twice(
    openai_emulator: OpenAIEmulator, train_file: Path, tmp_path: Path
) -> None:
    job = _tuned(train_file)
    prompts = _prompts(tmp_path, 40)
    out = tmp_path / "golden.jsonl"
    openai_emulator.faults.inject("POST", CHAT, delay=0.05)
    openai_emulator.clear_log()
    timer = threading.Timer(0.4, _thread.interrupt_main)
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        ftbridge.record(job.id, prompts, out=out, concurrency=2)
    timer.cancel()
    asked_before = openai_emulator.count("POST", CHAT)
    assert 0 < asked_before < 40
    openai_emulator.faults.clear()
    result = ftbridge.record(job.id, prompts, out=out, concurrency=4)
    lines = _lines(out)
    assert len(lines) == 40
    assert len({line["messages"][1]["content"] for line in lines}) == 40
    assert result.written + result.already == 40
    # every prompt was asked exactly once over both runs (answers survive in the cache)
    assert openai_emulator.count("POST", CHAT) == 40
    again = ftbridge.record(job.id, prompts, out=out)
    assert (again.written, again.already) == (0, 40)
    assert len(_lines(out)) == 40


def test_record_from_the_jobs_own_data_sampled(
    openai_emulator: OpenAIEmulator,
    train_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    job = _tuned(train_file)
    out = tmp_path / "golden.jsonl"
    code = main(["record", job.id, "--from-job", job.id, "-n", "4", "--out", str(out), "--json"])
    assert code == 0, capsys.readouterr().err
    summary = json.loads(capsys.readouterr().out)
    assert summary["written"] == 4
    assert len(_lines(out)) == 4


def test_record_refuses_a_model_past_its_shutdown_and_calls_nothing(
    openai_emulator: OpenAIEmulator,
    train_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    job = _tuned(train_file)
    openai_emulator.shutdowns = {"gpt-4o-mini": date(2026, 11, 30)}
    openai_emulator.clear_log()
    with pytest.raises(ftbridge.ModelShutDownError, match="retrain"):
        ftbridge.record(job.id, _prompts(tmp_path, 3), out=tmp_path / "g.jsonl")
    assert openai_emulator.count("POST", CHAT) == 0
    assert not (tmp_path / "g.jsonl").exists()
    code = main(["record", job.id, "--data", str(_prompts(tmp_path, 3)), "--out", "x.jsonl"])
    assert code == 1
    assert "shut down" in capsys.readouterr().err


def test_record_bad_input_is_a_clear_error(
    openai_emulator: OpenAIEmulator, train_file: Path, tmp_path: Path
) -> None:
    job = _tuned(train_file)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"messages": [{"role": "assistant", "content": "only"}]}\nnot json\n')
    with pytest.raises(ftbridge.DatasetReadError, match=r"bad.jsonl:1.*\n.*bad.jsonl:2"):
        ftbridge.record(job.id, bad, out=tmp_path / "g.jsonl")
    with pytest.raises(ftbridge.ConfigError, match="one of them"):
        ftbridge.record(job.id, out=tmp_path / "g.jsonl")
    with pytest.raises(ftbridge.ConfigError, match="max_cost"):
        ftbridge.record(job.id, _prompts(tmp_path, 3), out=tmp_path / "g.jsonl", max_cost=0.0)
