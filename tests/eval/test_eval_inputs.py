"""Bad input: a clear error before any model is called."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eval_helpers import ScriptedHandle, record, write_jsonl

import ftbridge

DATA = [record(f"q{i}", f"a{i}") for i in range(4)]


@pytest.fixture
def handle() -> ScriptedHandle:
    return ScriptedHandle("never-called", lambda q: "x")


def test_records_without_a_final_assistant_turn(tmp_path: Path, handle: ScriptedHandle) -> None:
    path = write_jsonl(
        tmp_path / "heldout.jsonl",
        [
            record("q0", "a0"),
            {"messages": [{"role": "user", "content": "no answer"}]},
            {"messages": [{"role": "assistant", "content": "no prompt"}]},
            {"prompt": "x"},
        ],
    )
    with path.open("a") as f:
        f.write("{not json\n")
    with pytest.raises(ftbridge.DatasetError) as info:
        ftbridge.evaluate({"m": handle}, path, scorers=["exact"])
    text = str(info.value)
    assert "4 record(s)" in text
    assert "heldout.jsonl:2: the last message is 'user', not 'assistant'" in text
    assert "heldout.jsonl:3: nothing before the final assistant message" in text
    assert "heldout.jsonl:4: no 'messages' list" in text
    assert "heldout.jsonl:5: not JSON" in text
    assert handle.calls == []


def test_unknown_scorer_bad_baseline_and_missing_file(
    handle: ScriptedHandle, tmp_path: Path
) -> None:
    with pytest.raises(ftbridge.ConfigError, match="unknown scorer 'rouge'"):
        ftbridge.evaluate({"m": handle}, DATA, scorers=["rouge"])
    with pytest.raises(ftbridge.ConfigError, match="baseline 'base' is not one of the models"):
        ftbridge.evaluate({"m": handle}, DATA, baseline="base")
    with pytest.raises(ftbridge.DatasetReadError, match="cannot read"):
        ftbridge.evaluate({"m": handle}, tmp_path / "missing.jsonl")
    with pytest.raises(ftbridge.ConfigError, match="needs JSON references"):
        ftbridge.evaluate({"m": handle}, DATA, scorers=["json_equal"])
    assert handle.calls == []


def test_a_schema_file_that_is_not_a_schema(handle: ScriptedHandle, tmp_path: Path) -> None:
    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps({"type": 12}))
    with pytest.raises(ftbridge.ConfigError, match="not a valid JSON schema"):
        ftbridge.evaluate({"m": handle}, DATA, scorers=[f"json_schema:{schema}"])
    assert handle.calls == []


def test_models_that_resolve_to_nothing(handle: ScriptedHandle) -> None:
    with pytest.raises(ftbridge.ConfigError, match="model 'other' \\(nowhere\\)"):
        ftbridge.evaluate({"m": handle, "other": "nowhere"}, DATA)
    with pytest.raises(ftbridge.ConfigError, match=r"model 'other' \(nosuch:x\).*unknown provider"):
        ftbridge.evaluate({"m": handle, "other": "nosuch:x"}, DATA)
    assert handle.calls == []


def test_a_job_that_has_not_succeeded(handle: ScriptedHandle, tmp_path: Path) -> None:
    train = write_jsonl(tmp_path / "train.jsonl", [record(f"t{i}", "x") for i in range(10)])
    job = ftbridge.submit(
        train, provider="fake", model="base", options={"script": [["failed", 0.0]]}
    )
    job.refresh()
    with pytest.raises(ftbridge.JobNotSucceededError, match=r"model 'tuned'.*failed"):
        ftbridge.evaluate({"m": handle, "tuned": job.id}, DATA)
    assert handle.calls == []


def test_a_judge_needs_a_baseline(handle: ScriptedHandle) -> None:
    with pytest.raises(ftbridge.ConfigError, match="pass baseline="):
        ftbridge.evaluate({"m": handle, "n": "fake:n"}, DATA, judge="fake:judge")
    with pytest.raises(ftbridge.ConfigError, match="must use \\{a\\} and \\{b\\}"):
        ftbridge.evaluate(
            {"m": handle, "n": "fake:n"},
            DATA,
            baseline="n",
            judge="fake:judge",
            judge_template="Which is better? {prompt}",
        )
    assert handle.calls == []


def test_duplicate_names_and_unknown_settings(handle: ScriptedHandle) -> None:
    with pytest.raises(ftbridge.ConfigError, match="unknown generation setting"):
        ftbridge.evaluate({"m": handle}, DATA, generation={"temp": 0})
    with pytest.raises(ftbridge.ConfigError, match="distinct name"):
        ftbridge.evaluate(["fake:a", "fake:a"], DATA)
