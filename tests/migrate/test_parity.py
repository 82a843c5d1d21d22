"""Parity against a recorded golden set: the old model matches itself, a new one is measured."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ftbridge_openai.emulator import OpenAIEmulator
from migrate_data import write_jsonl

import ftbridge
from ftbridge.cli import main


def _prompts(tmp_path: Path, n: int = 12) -> Path:
    records = [
        {"messages": [{"role": "user", "content": f"Where is order {i}?"}]} for i in range(n)
    ]
    return write_jsonl(tmp_path / "prompts.jsonl", records)


def _tuned(train_file: Path, suffix: str) -> ftbridge.Job:
    job = ftbridge.submit(train_file, provider="openai", model="gpt-4o-mini", suffix=suffix)
    job.wait(timeout=60)
    return job


@pytest.fixture
def golden(
    openai_emulator: OpenAIEmulator, train_file: Path, tmp_path: Path
) -> tuple[Path, ftbridge.Job]:
    old = _tuned(train_file, "old")
    out = tmp_path / "golden.jsonl"
    ftbridge.record(old.id, _prompts(tmp_path), out=out)
    return out, old


def test_the_recorded_model_has_parity_with_its_own_golden_set(
    golden: tuple[Path, ftbridge.Job], capsys: pytest.CaptureFixture[str]
) -> None:
    path, old = golden
    code = main(
        [
            "eval",
            str(path),
            "--model",
            f"again={old.id}",
            "--model",
            f"old={old.id}",
            "--baseline",
            "old",
            "--parity",
            "0.95",
            "--json",
        ]
    )
    assert code == 0
    (result,) = json.loads(capsys.readouterr().out)["parity"]
    assert result["model"] == "again"
    assert result["met"] is True
    assert result["agreement"]["value"] == 1.0
    assert result["relative"]["value"] == pytest.approx(1.0)
    assert result["basis"] == "relative"


def test_a_different_model_is_measured_and_the_target_decides(
    golden: tuple[Path, ftbridge.Job], train_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, old = golden
    new = _tuned(train_file, "new")
    args = [
        "eval",
        str(path),
        "--model",
        f"new={new.id}",
        "--model",
        f"old={old.id}",
        "--baseline",
        "old",
    ]
    assert main([*args, "--parity", "0.95", "--json"]) == 1
    (strict,) = json.loads(capsys.readouterr().out)["parity"]
    assert strict["met"] is False
    assert strict["agreement"]["value"] == 0.0
    assert 0.3 < strict["similarity"]["value"] < 0.95
    low, high = strict["relative"]["ci"]
    assert low <= strict["relative"]["value"] <= high
    assert main([*args, "--parity", "0.3"]) == 0
    text = capsys.readouterr().out
    assert "Parity of new with old" in text
    assert "parity met" in text


def test_a_parity_target_outside_0_to_1_is_refused_before_any_generation(
    golden: tuple[Path, ftbridge.Job],
    openai_emulator: OpenAIEmulator,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path, old = golden
    openai_emulator.clear_log()
    code = main(
        [
            "eval",
            str(path),
            "--model",
            f"old={old.id}",
            "--model",
            f"x={old.id}",
            "--baseline",
            "old",
            "--parity",
            "1.5",
        ]
    )
    assert code == 2
    assert "between 0 and 1" in capsys.readouterr().err
    assert openai_emulator.count("POST", r"/v1/chat/completions") == 0
