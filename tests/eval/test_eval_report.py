"""The report: judge, forgetting, what save() writes, and that keys stay out of it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from eval_helpers import ScriptedHandle, record, write_jsonl

import ftbridge
from ftbridge import InferenceError
from ftbridge.eval import DEFAULT_JUDGE_TEMPLATE, parse_verdict

DATA = [record(f"q{i}", f"a{i}") for i in range(16)]


def right(q: str) -> str:
    return "a" + q[1:]


def answers(content: str) -> tuple[str, str, str]:
    found = re.search(
        r"Reference answer.*?:\n(.*?)\n\nAnswer A:\n(.*?)\n\nAnswer B:\n(.*?)\n\n", content, re.S
    )
    assert found, content
    return found.group(1), found.group(2), found.group(3)


def fair_judge(content: str) -> str:
    reference, a, b = answers(content)
    if a == reference != b:
        return "A is right.\nVerdict: A"
    if b == reference != a:
        return "Verdict: B"
    return "Verdict: tie"


def test_the_judge_sees_both_orders() -> None:
    base = ScriptedHandle("base", lambda q: right(q) if int(q[1:]) < 4 else "?")
    tuned = ScriptedHandle("tuned", right)
    judge = ScriptedHandle("judge", fair_judge)
    report = ftbridge.evaluate(
        {"base": base, "tuned": tuned}, DATA, scorers=["exact"], baseline="base", judge=judge
    )
    summary = report.to_dict()["judge"]["models"]["tuned"]
    assert summary["win"]["count"] == 12 and summary["tie"]["count"] == 4
    assert summary["loss"]["count"] == 0
    assert summary["p_value"] == pytest.approx(2 / 2**12)
    # both orders of every pair, except where the two answers are the same text (examples
    # 0-3): there both orders are one and the same prompt, asked once
    assert len(judge.calls) == 2 * 16 - 4
    assert "the judge prefers tuned (significant)" in report.table()


def test_position_bias_cancels_out() -> None:
    base = ScriptedHandle("base2", lambda q: "?")
    tuned = ScriptedHandle("tuned2", right)
    always_a = ScriptedHandle("biased", lambda c: "Verdict: A")
    report = ftbridge.evaluate(
        {"base": base, "tuned": tuned}, DATA, scorers=["exact"], baseline="base", judge=always_a
    )
    summary = report.to_dict()["judge"]["models"]["tuned"]
    assert summary["tie"]["count"] == 16
    assert summary["inconsistent"] == 16


def test_verdicts_and_the_template() -> None:
    assert parse_verdict("Thinking... Verdict: B") == "B"
    assert parse_verdict("**Verdict:** tie") == "tie"
    assert parse_verdict("A") == "A"
    assert parse_verdict("no idea") is None
    assert {"{prompt}", "{reference}", "{a}", "{b}"} <= set(
        re.findall(r"\{\w+\}", DEFAULT_JUDGE_TEMPLATE)
    )


def test_forgetting_is_a_regression_on_the_general_set() -> None:
    general = [record(f"g{i}", f"general answer {i}") for i in range(20)]

    def base_reply(q: str) -> str:
        return f"general answer {q[1:]}" if q.startswith("g") else "?"

    def tuned_reply(q: str) -> str:
        return "forgot" if q.startswith("g") else right(q)

    report = ftbridge.evaluate(
        {"base": ScriptedHandle("b", base_reply), "tuned": ScriptedHandle("t", tuned_reply)},
        DATA,
        scorers=["exact"],
        baseline="base",
        general=general,
    )
    drops = report.regressions()
    assert [(c.model, c.scorer) for c in drops] == [("tuned", "exact")]
    data = report.to_dict()
    assert data["general"]["n"] == 20
    assert data["general"]["regressions"][0]["delta"] == pytest.approx(-1.0)
    assert "Regression on the general set" in report.table()


def test_save_writes_json_records_and_html(tmp_path: Path) -> None:
    train = write_jsonl(tmp_path / "train.jsonl", [record(f"t{i}", "x") for i in range(10)])
    job = ftbridge.submit(
        train,
        provider="fake",
        model="base",
        options={"script": [["running", 0.0], ["succeeded", 0.0]]},
    )
    job.refresh()
    heldout = write_jsonl(tmp_path / "heldout.jsonl", DATA)
    report = ftbridge.evaluate(
        {"base": "fake:base", "tuned": job.id}, heldout, scorers=["exact", "f1"], baseline="base"
    )
    out = report.save(tmp_path / "eval")
    data = json.loads((out / "report.json").read_text())
    assert data == json.loads(json.dumps(report.to_dict()))
    assert set(data) >= {"n", "models", "comparisons", "judge", "general"}
    assert data["models"]["base"]["exact"].keys() >= {"mean", "ci", "n", "errors"}
    assert data["comparisons"][0].keys() >= {
        "model",
        "baseline",
        "scorer",
        "delta",
        "ci",
        "p_value",
        "test",
    }
    lines = (out / "records.jsonl").read_text().splitlines()
    assert len(lines) == 16
    first = json.loads(lines[0])
    assert first.keys() >= {"index", "prompt", "reference", "outputs", "scores", "errors"}
    assert first["outputs"]["base"] == "fake:base heard: q0"
    page = (out / "report.html").read_text()
    assert "<table id='scores'>" in page
    assert page.count("<svg class=chart") == 2
    assert "class=loss-curve" in page and "data:image/png;base64," in page  # the job's loss
    assert "train_loss" in data["loss_curves"]["tuned"]
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "")  # self-contained


def test_keys_never_reach_the_report_or_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "sk-test-0123456789abcdefSECRET"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    leaky = ScriptedHandle(
        "leaky", lambda q: InferenceError(f"bad key {secret}") if q == "q1" else right(q)
    )
    report = ftbridge.evaluate({"m": leaky}, DATA, scorers=["exact"])
    out = report.save(tmp_path / "eval")
    assert report.errors("m") == 1
    home = Path(__import__("os").environ["FTBRIDGE_HOME"])
    for path in [*out.iterdir(), *home.rglob("*.db*")]:
        assert secret.encode() not in path.read_bytes(), path
    assert secret not in report.table()
