"""End to end on CPU: fine-tune the tiny offline model locally, then ``ftbridge eval`` the job
against its base on held-out examples; the tuned model wins, and report.html renders."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from eval_helpers import open_in_chromium

import ftbridge
from ftbridge.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "data"
FORMAT = r"regex:ANSWER:.{0,24} \| CONFIDENCE: high"
OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}


@dataclass
class Tuned:
    home: Path
    job_id: str
    base: Path


@pytest.fixture(scope="module")
def tuned(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tuned]:
    from ftbridge_local.testing import build_tiny_model

    home = tmp_path_factory.mktemp("e2e-home")
    with pytest.MonkeyPatch.context() as mp:
        for name, value in OFFLINE.items():
            mp.setenv(name, value)
        mp.setenv("FTBRIDGE_HOME", str(home))
        base = build_tiny_model(home / "models" / "tiny")
        job = ftbridge.submit(
            EXAMPLES / "format_train.jsonl",
            provider="local",
            model=str(base),
            hyperparameters={
                "epochs": 10,
                "batch_size": 8,
                "learning_rate": 5e-3,
                "warmup_ratio": 0.0,
                "seed": 7,
            },
            options={"max_length": 96},
        )
        job.wait(timeout=900, progress=False)
        yield Tuned(home, job.id, base)


def test_the_tuned_model_beats_its_base(
    tuned: Tuned,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in OFFLINE.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("FTBRIDGE_HOME", str(tuned.home))
    out = tmp_path / "eval"
    code = main(
        ["eval", str(EXAMPLES / "format_test.jsonl"), "--model", f"tuned={tuned.job_id}",
         "--model", f"base=local:{tuned.base}", "--baseline", "base", "--scorer", FORMAT,
         "--scorer", "f1", "--max-tokens", "24", "--out", str(out), "--json"]
    )  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    data = json.loads(captured.out)
    assert data["n"] == 20
    (won,) = [c for c in data["comparisons"] if c["scorer"] == FORMAT]
    assert won["test"] == "mcnemar-exact"
    assert won["delta"] > 0.5 and won["p_value"] < 0.01, won
    assert data["models"]["base"][FORMAT]["mean"] == 0.0
    assert data["models"]["tuned"][FORMAT]["errors"] == 0
    assert "train_loss" in data["loss_curves"]["tuned"]  # the job's curves, from job.metrics()
    assert data["meta"]["models"]["tuned"]["job"] == tuned.job_id

    shown = open_in_chromium(out / "report.html", tmp_path)
    assert shown.console == []
    assert 'data-ready="1"' in shown.dom
    assert '<table id="scores">' in shown.dom
    assert shown.dom.count('<svg class="chart"') == 2
    assert 'class="loss-curve"' in shown.dom

    png = tmp_path / "loss.png"
    assert main(["plot", tuned.job_id, "-o", str(png)]) == 0
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_a_local_model_that_is_not_there(tmp_path: Path) -> None:
    with pytest.raises(ftbridge.ConfigError, match="no local model directory"):
        ftbridge.open_model(f"local:{tmp_path / 'nothing-here'}")
    heldout = EXAMPLES / "format_test.jsonl"
    with pytest.raises(ftbridge.ConfigError, match=r"model 'base' \(local:\./missing\)"):
        ftbridge.evaluate({"base": "local:./missing"}, heldout)
