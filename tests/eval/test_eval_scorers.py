"""Every scorer on known outputs, against values worked out by hand here."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from eval_helpers import ScriptedHandle, record

import ftbridge
from ftbridge.eval import default_scorers, load_examples, resolve_scorers


def score(name: Any, output: str, reference: str) -> float:
    examples = load_examples([record("q", reference)])
    (scorer,) = resolve_scorers([name], examples)
    return scorer(output, reference, examples[0].record)


def test_exact_ignores_whitespace_only() -> None:
    assert score("exact", "  Paris\n", "Paris") == 1.0
    assert score("exact", "the  big\tcat", "the big cat") == 1.0
    assert score("exact", "paris", "Paris") == 0.0


def test_contains_and_regex() -> None:
    assert score("contains", "I think it is  Paris, France.", "Paris, France") == 1.0
    assert score("contains", "Lyon", "Paris") == 0.0
    assert score(r"regex:^ANSWER: \w+$", "ANSWER: yes", "") == 1.0
    assert score(r"regex:^ANSWER: \w+$", "answer: yes", "") == 0.0


def test_json_scorers() -> None:
    assert score("json_valid", '```json\n{"a": 1}\n```', "{}") == 1.0
    assert score("json_valid", "{a: 1}", "{}") == 0.0
    assert score("json_equal", '{"b": [1, 2], "a": "x"}', '{"a": "x", "b": [1, 2]}') == 1.0
    assert score("json_equal", '{"a": "y"}', '{"a": "x"}') == 0.0
    assert score("json_equal", "not json", '{"a": "x"}') == 0.0


def test_json_schema(tmp_path: Path) -> None:
    schema = tmp_path / "schema.json"
    schema.write_text(
        json.dumps(
            {
                "type": "object",
                "properties": {"answer": {"type": "string"}, "score": {"type": "integer"}},
                "required": ["answer"],
            }
        )
    )
    name = f"json_schema:{schema}"
    assert score(name, '{"answer": "yes", "score": 3}', "") == 1.0
    assert score(name, '{"answer": 3}', "") == 0.0
    assert score(name, '{"score": 3}', "") == 0.0
    assert score(name, "yes", "") == 0.0


def test_schema_that_is_not_a_schema_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"type": "no-such-type"}))
    with pytest.raises(ftbridge.ConfigError, match="not a valid JSON schema"):
        score(f"json_schema:{bad}", "{}", "")
    text = tmp_path / "text.json"
    text.write_text("type: object")
    with pytest.raises(ftbridge.ConfigError, match="not JSON"):
        score(f"json_schema:{text}", "{}", "")
    with pytest.raises(ftbridge.ConfigError, match="cannot read"):
        score(f"json_schema:{tmp_path / 'missing.json'}", "{}", "")


def test_token_f1_by_hand() -> None:
    # common tokens: "the", "cat" -> precision 2/3, recall 2/4
    p, r = 2 / 3, 2 / 4
    assert score("f1", "The cat sat", "the cat ran away") == pytest.approx(2 * p * r / (p + r))
    assert score("f1", "", "") == 1.0
    assert score("f1", "dog", "cat") == 0.0


def test_rouge_l_by_hand() -> None:
    # longest common subsequence "the cat on the mat": 5 of 6 tokens on both sides
    assert score("rouge_l", "the cat sat on the mat", "the cat lay on the mat") == pytest.approx(
        5 / 6
    )


def test_bleu_by_hand() -> None:
    # every n-gram precision is 1; brevity penalty exp(1 - 5/4)
    assert score("bleu", "a b c d", "a b c d e") == pytest.approx(math.exp(1 - 5 / 4), abs=1e-4)
    assert score("bleu", "a b c d e", "a b c d e") == pytest.approx(1.0)


def test_chrf_bounds() -> None:
    assert score("chrf", "hello world", "hello world") == pytest.approx(1.0)
    assert score("chrf", "xyz", "abc") == 0.0
    assert 0.0 < score("chrf", "hello world", "hello there world") < 1.0


def test_label_accuracy_and_macro_f1() -> None:
    refs = ["positive", "positive", "negative", "neutral", "negative", "positive"]
    outs = ["Positive.", "negative", "negative", "neutral", "positive", "positive"]
    handle = ScriptedHandle("m", dict(zip([f"q{i}" for i in range(6)], outs, strict=True)))
    report = ftbridge.evaluate(
        {"m": handle},
        [record(f"q{i}", r) for i, r in enumerate(refs)],
        scorers=["label"],
        cache=False,
    )
    assert report.mean("m", "label") == pytest.approx(4 / 6)
    # per class (tp, fp, fn): positive (2, 1, 1) -> 2/3; negative (1, 1, 1) -> 1/2; neutral 1
    expected = (2 * 2 / (4 + 1 + 1) + 2 * 1 / (2 + 1 + 1) + 1.0) / 3
    assert report.to_dict()["models"]["m"]["label"]["macro_f1"] == pytest.approx(expected)
    assert f"Macro-F1 over the reference labels: m {expected:.3f}." in report.table()


def test_callables_score_too() -> None:
    def shorter_than_five(output: str, reference: str, rec: Any) -> bool:
        return len(output) < 5

    handle = ScriptedHandle("m", {"a": "ok", "b": "too long"})
    report = ftbridge.evaluate(
        {"m": handle},
        [record("a", "x"), record("b", "y")],
        scorers=[shorter_than_five, lambda o, r, rec: 0.25],
        cache=False,
    )
    assert report.scorers == ["shorter_than_five", "custom"]
    assert report.mean("m", "shorter_than_five") == 0.5
    assert report.mean("m", "custom") == 0.25


def test_unknown_scorer_names_the_nearest() -> None:
    with pytest.raises(ftbridge.ConfigError, match=r"unknown scorer 'exakt'.*'exact'"):
        score("exakt", "a", "a")
    with pytest.raises(ftbridge.ConfigError, match="not a valid regular expression"):
        score("regex:(", "a", "a")


def test_defaults_follow_the_references() -> None:
    def names(refs: list[str]) -> list[str]:
        return default_scorers(load_examples([record("q", r) for r in refs]))

    assert names(['{"a": 1}', "[1, 2]"]) == ["json_valid", "json_equal"]
    assert names(["yes", "no", "yes", "no"]) == ["label"]
    assert names(["Paris is the capital", "Two apples and a pear"]) == ["exact", "f1"]
    assert "rouge_l" in names(["a long answer " * 5, "another long answer " * 5])


def test_a_missing_library_gets_the_install_command() -> None:
    code = (
        "import sys; sys.modules['rouge_score'] = None\n"
        "import ftbridge\n"
        "from ftbridge.eval import load_examples, resolve_scorers\n"
        "ex = load_examples([{'messages': [{'role': 'user', 'content': 'q'},"
        " {'role': 'assistant', 'content': 'a'}]}])\n"
        "try:\n    resolve_scorers(['rouge_l'], ex)\n"
        "except ftbridge.ConfigError as exc:\n    print(exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "pip install 'ftbridge[eval]'" in out.stdout
    assert "rouge-score" in out.stdout


@pytest.mark.parametrize(
    ("blocked", "call", "needs"),
    [
        (
            "numpy",
            "ftbridge.evaluate(['fake:m'], ex_records, scorers=['exact'], cache=False)",
            "numpy",
        ),
        ("matplotlib", "loss_png({'train_loss': [(1, 2.0)]}, 't')", "matplotlib"),
    ],
)
def test_statistics_and_plots_without_their_library(blocked: str, call: str, needs: str) -> None:
    code = (
        f"import sys; sys.modules[{blocked!r}] = None\n"
        "import ftbridge\n"
        "from ftbridge.eval._plot import loss_png\n"
        "ex_records = [{'messages': [{'role': 'user', 'content': 'q'},"
        " {'role': 'assistant', 'content': 'a'}]}]\n"
        f"try:\n    {call}\n"
        "except ftbridge.ConfigError as exc:\n    print(exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert f"{needs}: pip install 'ftbridge[eval]'" in out.stdout, out.stdout + out.stderr
