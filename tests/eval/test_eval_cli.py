"""``ftbridge eval`` and ``ftbridge plot``: output, files and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eval_helpers import record, write_jsonl

import ftbridge
from ftbridge.cli import main


@pytest.fixture
def heldout(tmp_path: Path) -> Path:
    # fake:tuned answers "fake:tuned heard: <question>": right on every example
    return write_jsonl(
        tmp_path / "heldout.jsonl", [record(f"q{i}", f"fake:tuned heard: q{i}") for i in range(20)]
    )


def test_eval_prints_the_table_and_writes_the_report(
    heldout: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "eval"
    code = main(
        ["eval", str(heldout), "--model", "base=fake:base", "--model", "tuned=fake:tuned",
         "--baseline", "base", "--scorer", "exact", "--scorer", "f1", "--out", str(out)]
    )  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "tuned is better than base on exact" in captured.out
    assert f"report: {out / 'report.html'}" in captured.err
    assert {p.name for p in out.iterdir()} == {"report.json", "records.jsonl", "report.html"}


def test_eval_json(heldout: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["eval", str(heldout), "-m", "base=fake:base", "-m", "tuned=fake:tuned", "-b", "base",
         "-s", "exact", "--json", "--max-tokens", "50"]
    )  # fmt: skip
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    assert data["n"] == 20
    assert data["models"]["tuned"]["exact"]["mean"] == 1.0
    (comparison,) = data["comparisons"]
    assert comparison["model"] == "tuned" and comparison["test"] == "mcnemar-exact"
    assert comparison["p_value"] == pytest.approx(2 / 2**20)
    assert data["meta"]["generation"]["max_tokens"] == 50


def test_fail_under(heldout: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["eval", str(heldout), "-m", "base=fake:base", "-m", "tuned=fake:tuned", "-b", "base",
            "-s", "exact"]  # fmt: skip
    assert main([*args, "--fail-under", "exact=0.9"]) == 0
    assert main([*args, "--fail-under", "base:exact=0.5"]) == 1
    assert "below --fail-under: base exact 0.000 < 0.5" in capsys.readouterr().err
    assert main([*args, "--fail-under", "exact"]) == 2


def test_bad_input_exits_2(
    heldout: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["eval", str(heldout), "-m", "base=fake:base"]
    assert main([*base, "--scorer", "nope"]) == 2
    assert "unknown scorer 'nope'" in capsys.readouterr().err
    assert main([*base, "--baseline", "tuned"]) == 2
    assert main([*base, "-m", "tuned=nowhere"]) == 2
    assert main(["eval", str(tmp_path / "missing.jsonl"), "-m", "fake:base"]) == 2
    assert main(["eval", str(heldout)]) == 2  # no --model
    err = capsys.readouterr().err
    assert "Traceback" not in err


def test_plot_writes_the_loss_curves(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    train = write_jsonl(tmp_path / "train.jsonl", [record(f"t{i}", "x") for i in range(10)])
    job = ftbridge.submit(
        train,
        provider="fake",
        model="base",
        options={"script": [["running", 0.0], ["succeeded", 0.0]]},
    )
    job.refresh()
    png = tmp_path / "loss.png"
    assert main(["plot", job.id, "-o", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert str(png) in capsys.readouterr().out
    assert main(["plot", "fake:no-such-job"]) == 2


def test_a_judge_with_its_own_template(
    heldout: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    template = tmp_path / "judge.txt"
    template.write_text("First: {a}\nSecond: {b}\nWhich is better?")
    args = ["eval", str(heldout), "-m", "base=fake:base", "-m", "tuned=fake:tuned", "-b", "base",
            "-s", "exact", "--judge", "fake:judge", "--json"]  # fmt: skip
    assert main([*args, "--judge-template", str(template)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["judge"]["judge"] == "fake:judge"
    assert data["judge"]["models"]["tuned"]["n"] == 20
    template.write_text("no fields at all")
    assert main([*args, "--judge-template", str(template)]) == 2
    assert "must use {a} and {b}" in capsys.readouterr().err
    assert main([*args, "--judge-template", str(tmp_path / "missing.txt")]) == 2
