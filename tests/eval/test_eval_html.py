"""report.html opened in a real headless Chromium: it renders its table and charts, no errors."""

from __future__ import annotations

import re
from pathlib import Path

from eval_helpers import ScriptedHandle, colour_pixels, open_in_chromium, record, write_jsonl

import ftbridge

DATA = [record(f"q{i}", f"a{i} <b>&") for i in range(24)]


def test_the_page_renders_in_chromium(tmp_path: Path) -> None:
    train = write_jsonl(tmp_path / "train.jsonl", [record(f"t{i}", "x") for i in range(10)])
    job = ftbridge.submit(
        train,
        provider="fake",
        model="base",
        options={"script": [["running", 0.0], ["succeeded", 0.0]], "total_steps": 30},
    )
    job.refresh()
    tuned = ScriptedHandle(
        "tuned-h", lambda q: f"a{q[1:]} <b>&" if int(q[1:]) % 4 else f"<script>x a{q[1:]}"
    )
    report = ftbridge.evaluate(
        {"base": "fake:base", "tuned": tuned, "job": job.id},
        DATA,
        scorers=["exact", "f1"],
        baseline="base",
        general=DATA[:6],
        judge="fake:judge",
    )
    page = report.save(tmp_path / "eval") / "report.html"
    shown = open_in_chromium(page, tmp_path)

    assert shown.console == []  # no script error, nothing logged
    assert 'data-ready="1"' in shown.dom  # the page's script ran to its end
    table = re.search(r'<table id="scores">(.*?)</table>', shown.dom, re.S)
    assert table is not None
    assert table.group(1).count("<tr>") == 1 + 3 * 2  # header + 3 models x 2 scorers
    charts = re.findall(r'<svg class="chart" data-scorer="(\w+)"', shown.dom)
    assert charts == ["exact", "f1"]
    assert '<table id="judge">' in shown.dom and '<table id="general">' in shown.dom
    assert 'class="loss-curve"' in shown.dom
    # the escaped model output is text, not markup
    assert "<script>x" not in shown.dom and "&lt;script&gt;x" in shown.dom
    assert "24 of 24 examples score differently; 24 shown" in shown.dom
    assert shown.dom.count('<details class="example"') == 24
    # the tuned model's bars (the second colour) and matplotlib's first line are on screen
    assert colour_pixels(shown.screenshot, (0xF5, 0x85, 0x18)) > 2000
    assert colour_pixels(shown.screenshot, (0x1F, 0x77, 0xB4)) > 50
