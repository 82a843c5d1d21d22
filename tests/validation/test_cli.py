"""``ftbridge validate`` through ``ftbridge.cli.main``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ftbridge.cli import main

from .conftest import chat

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "data"


def test_valid_file_exits_0_with_summary(
    tmp_jsonl: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_jsonl([chat(i) for i in range(12)])
    assert main(["validate", str(path)]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("valid: 12 chat examples, 0 errors")
    assert "providers: fireworks ok, local ok, openai ok, together ok" in out
    assert err == ""  # no progress bar when not on a terminal


def test_invalid_file_prints_compiler_style_lines(
    tmp_jsonl: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = {"messages": [{"role": "user", "content": "hi"}, {"role": "wizard", "content": "x"}]}
    path = tmp_jsonl([chat(0), bad], name="train.jsonl")
    assert main(["validate", str(path)]) == 1
    out = capsys.readouterr().out
    assert "train.jsonl:2: messages[1].role: error: role 'wizard' is not one of" in out
    assert "INVALID" in out


def test_json_output(tmp_jsonl: Any, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_jsonl([chat(0), b"{nope\n", chat(0)])
    assert main(["validate", str(path), "--json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["valid"] is False
    assert doc["errors"] == [
        {
            "line": 2,
            "code": "line.invalid_json",
            "message": doc["errors"][0]["message"],
            "loc": None,
        }
    ]
    assert [w["code"] for w in doc["warnings"]] == ["record.duplicate"]
    assert (doc["error_count"], doc["warning_count"]) == (1, 1)
    assert doc["stats"]["examples"] == 2 and len(doc["sha256"]) == 64  # {nope is no example
    assert set(doc["providers"]) >= {"openai", "together", "local"}
    assert doc["providers"]["openai"]["errors"][0]["code"] == "openai.too_few_examples"


def test_provider_flag_makes_its_rules_count(
    tmp_jsonl: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    rec = {
        "messages": [
            {"role": "user", "content": "a"},
            {"role": "user", "content": "b"},
            {"role": "assistant", "content": "c"},
        ]
    }
    path = tmp_jsonl([rec, chat(1)])
    assert main(["validate", str(path), "--json"]) == 0
    capsys.readouterr()
    assert main(["validate", str(path), "--provider", "together", "--json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert [(e["line"], e["code"]) for e in doc["errors"]] == [(1, "together.roles_alternate")]


def test_unreadable_input_and_usage_errors_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", str(tmp_path / "missing.jsonl")]) == 2
    assert "dataset file not found" in capsys.readouterr().err
    assert main(["validate"]) == 2


def test_example_datasets(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(EXAMPLES / "support.jsonl"), "--provider", "openai"]) == 0
    assert main(["validate", str(EXAMPLES / "support.jsonl"), "--provider", "together"]) == 0
    assert main(["validate", str(EXAMPLES / "broken.jsonl")]) == 1
    out = capsys.readouterr().out
    assert "broken.jsonl:" in out
