"""``report.html``: one self-contained page (no network): the table, a chart per scorer (inline
SVG), the findings in words, the judge, the general set, loss curves (PNG, inline) and a
browsable sample of the examples where the models disagree."""

from __future__ import annotations

import base64
import html
import random
from typing import TYPE_CHECKING, Any

from .._exceptions import ConfigError
from .._secrets import scrub
from ._section import Section

if TYPE_CHECKING:
    from ._report import EvalReport

SAMPLE = 60
_COLOURS = ("#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2", "#9d755d")

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;color:#222}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5rem 0}td,th{padding:.25rem .6rem;border-bottom:1px solid #eee;
text-align:left}th{background:#f6f6f6}td.num{text-align:right;font-variant-numeric:tabular-nums}
.sig{font-weight:600}.worse{color:#b00}.better{color:#070}.meta{color:#666}
.charts{display:flex;flex-wrap:wrap;gap:1rem}.chart{border:1px solid #eee;border-radius:6px}
details.example{border:1px solid #e5e5e5;border-radius:6px;margin:.4rem 0;padding:.3rem .7rem}
details.example summary{cursor:pointer}pre{white-space:pre-wrap;background:#f8f8f8;padding:.4rem;
border-radius:4px;margin:.2rem 0}.err{color:#b00}#filter{width:20rem;padding:.3rem}
"""

_SCRIPT = """
(function () {
  var box = document.getElementById('filter');
  var items = Array.prototype.slice.call(document.querySelectorAll('details.example'));
  var count = document.getElementById('shown');
  function apply() {
    var q = box.value.toLowerCase(), shown = 0;
    items.forEach(function (el) {
      var hit = !q || el.textContent.toLowerCase().indexOf(q) >= 0;
      el.style.display = hit ? '' : 'none';
      if (hit) { shown += 1; }
    });
    count.textContent = String(shown);
  }
  if (box) { box.addEventListener('input', apply); apply(); }
  document.documentElement.setAttribute('data-ready', '1');
})();
"""


def e(value: Any) -> str:
    return html.escape(scrub(str(value)), quote=True)


def _num(value: float, signed: bool = False) -> str:
    if value != value:
        return "nan"
    return f"{value:+.3f}" if signed else f"{value:.3f}"


def _table(section: Section, baseline: str | None, table_id: str) -> str:
    head = "<tr><th>scorer</th><th>model</th><th>mean</th><th>95% CI</th><th>errors</th>"
    if baseline is not None:
        head += f"<th>delta vs {e(baseline)}</th><th>95% CI</th><th>p</th><th>test</th>"
    rows = [head + "</tr>"]
    for scorer in section.scorers:
        for model in section.models:
            lo, hi = section.ci(model, scorer.name)
            cells = (
                f"<td>{e(scorer.name)}</td><td>{e(model)}</td>"
                f"<td class=num>{_num(section.mean(model, scorer.name))}</td>"
                f"<td class=num>[{_num(lo)}, {_num(hi)}]</td><td class=num>{section.errors(model)}</td>"
            )
            if baseline is not None and model != baseline:
                c = section.compare(model, baseline, scorer.name)
                cls = ("sig " + ("better" if c.delta > 0 else "worse")) if c.significant else ""
                p = "&lt;0.0001" if c.p_value < 0.0001 else f"{c.p_value:.4f}"
                cells += (
                    f"<td class='num {cls}'>{_num(c.delta, True)}</td>"
                    f"<td class=num>[{_num(c.ci[0], True)}, {_num(c.ci[1], True)}]</td>"
                    f"<td class='num {cls}'>{p}</td><td>{e(c.test)}</td>"
                )
            elif baseline is not None:
                cells += "<td colspan=4 class=meta>baseline</td>"
            rows.append(f"<tr>{cells}</tr>")
    return f"<table id='{table_id}'>{''.join(rows)}</table>"


def _chart(section: Section, scorer: str) -> str:
    """Horizontal bars: each model's mean with its 95% interval, on a 0..max axis."""
    models = section.models
    values = [(m, section.mean(m, scorer), section.ci(m, scorer)) for m in models]
    top = max([1.0, *(hi for _, _, (_, hi) in values if hi == hi)])
    left, width, bar, gap = 110, 260, 18, 10
    height = 34 + len(models) * (bar + gap)
    parts = [
        f"<svg class=chart data-scorer='{e(scorer)}' xmlns='http://www.w3.org/2000/svg' "
        f"width='{left + width + 70}' height='{height}' role='img' aria-label='{e(scorer)}'>",
        f"<text x='8' y='16' font-size='13' font-weight='600'>{e(scorer)}</text>",
    ]
    for i, (model, value, (lo, hi)) in enumerate(values):
        y = 26 + i * (bar + gap)
        v = 0.0 if value != value else value
        w = max(0.0, width * v / top)  # a callable may score below 0: no bar
        parts.append(
            f"<text x='8' y='{y + 13}' font-size='12'>{e(model[:16])}</text>"
            f"<rect class=bar x='{left}' y='{y}' width='{w:.1f}' height='{bar}' "
            f"fill='{_COLOURS[i % len(_COLOURS)]}'><title>{e(model)}: {_num(v)}</title></rect>"
        )
        if lo == lo and hi == hi:
            x1, x2 = (left + width * max(0.0, edge) / top for edge in (lo, hi))
            mid = y + bar / 2
            parts.append(
                f"<line x1='{x1:.1f}' x2='{x2:.1f}' y1='{mid}' y2='{mid}' stroke='#222' stroke-width='1.5'/>"
                f"<line x1='{x1:.1f}' x2='{x1:.1f}' y1='{mid - 5}' y2='{mid + 5}' stroke='#222'/>"
                f"<line x1='{x2:.1f}' x2='{x2:.1f}' y1='{mid - 5}' y2='{mid + 5}' stroke='#222'/>"
            )
        parts.append(f"<text x='{left + width + 8}' y='{y + 13}' font-size='12'>{_num(v)}</text>")
    parts.append("</svg>")
    return "".join(parts)


def _rate(summary: dict[str, Any], key: str) -> str:
    part = summary[key]
    return f"{part['rate']:.0%} [{part['ci'][0]:.0%}, {part['ci'][1]:.0%}]"


def _judge(report: EvalReport) -> str:
    if report.judge is None:
        return ""
    rows = [
        "<tr><th>model</th><th>win</th><th>tie</th><th>loss</th><th>p</th><th>inconsistent</th></tr>"
    ]
    for model in report.judge.outcomes:
        s = report.judge.summary(model)
        rows.append(
            f"<tr><td>{e(model)}</td><td class=num>{_rate(s, 'win')}</td><td class=num>{_rate(s, 'tie')}</td>"
            f"<td class=num>{_rate(s, 'loss')}</td><td class=num>{s['p_value']:.4f}</td>"
            f"<td class=num>{s['inconsistent']}</td></tr>"
        )
    return (
        f"<h2>Judge: {e(report.judge.judge)} against {e(report.judge.baseline)}</h2>"
        f"<p class=meta>Each example judged twice, answers swapped.</p><table id=judge>{''.join(rows)}</table>"
    )


def _loss_curves(report: EvalReport) -> str:
    if not report.loss_curves:
        return ""
    from ._plot import loss_png

    parts = ["<h2>Training</h2>"]
    for model, curves in report.loss_curves.items():
        try:
            png = base64.b64encode(loss_png(curves, f"{model}: loss")).decode()
        except ConfigError as exc:
            parts.append(f"<p class=meta>{e(exc)}</p>")
            continue
        parts.append(
            f"<img class=loss-curve alt='loss curves of {e(model)}' src='data:image/png;base64,{png}'>"
        )
    return "".join(parts)


def _disagreements(report: EvalReport) -> str:
    section = report.main
    first = section.scorers[0].name if section.scorers else None
    differing = []
    for i in range(section.n):
        per = [tuple(section.scores[m][s.name][i] for s in section.scorers) for m in section.models]
        if len(set(per)) > 1:
            differing.append(i)
    rng = random.Random(0)
    sample = sorted(rng.sample(differing, SAMPLE)) if len(differing) > SAMPLE else differing
    cards = []
    for i in sample:
        example = section.examples[i]
        summary = " · ".join(
            f"{e(m)} {_num(section.scores[m][first][i])}" if first else e(m) for m in section.models
        )
        prompt = "".join(
            f"<pre><b>{e(msg.get('role'))}</b>: {e(msg.get('content'))}</pre>"
            for msg in example.prompt
        )
        answers = []
        for m in section.models:
            g = section.outputs[m][i]
            scores = ", ".join(f"{e(s)} {_num(v[i])}" for s, v in section.scores[m].items())
            body = (
                f"<pre class=err>failed: {e(g.error)}</pre>"
                if g.text is None
                else f"<pre>{e(g.text)}</pre>"
            )
            answers.append(f"<div><b>{e(m)}</b> <span class=meta>{scores}</span>{body}</div>")
        cards.append(
            f"<details class=example data-index='{example.index}'><summary>#{example.index + 1}: "
            f"{summary}</summary><h4>prompt</h4>{prompt}<h4>reference</h4><pre>{e(example.reference)}</pre>"
            f"{''.join(answers)}</details>"
        )
    if not cards:
        return "<h2>Disagreements</h2><p class=meta>The models score the same on every example.</p>"
    return (
        f"<h2>Disagreements</h2><p class=meta>{len(differing)} of {section.n} examples score "
        f"differently; {len(sample)} shown (<span id=shown>{len(sample)}</span> match the filter).</p>"
        "<input id=filter type=search placeholder='filter by text'>" + "".join(cards)
    )


def render_html(report: EvalReport) -> str:
    section = report.main
    meta = ", ".join(f"{k}={v}" for k, v in report.settings.items())
    models = "".join(
        f"<li>{e(i.name)}: {e(i.ref)}{' (job ' + e(i.job) + ')' if i.job else ''}</li>"
        for i in report.infos
    )
    findings = "".join(
        f"<li class='{'sig' if 'significant.' in s or 'Regression' in s else ''}'>{e(s)}</li>"
        for s in report.sentences()
    )
    charts = "".join(_chart(section, s.name) for s in section.scorers)
    general = ""
    if report.general is not None:
        general = f"<h2>General set ({report.general.n} examples)</h2>" + _table(
            report.general, report.baseline, "general"
        )
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width,initial-scale=1'>"
        f"<title>ftbridge evaluation</title><style>{_CSS}</style></head><body>"
        f"<h1>Evaluation: {section.n} examples</h1>"
        f"<p class=meta>{e(report.data or 'records')} · {e(report.created_at)} · baseline "
        f"{e(report.baseline or 'none')} · {e(meta)}</p><ul>{models}</ul>"
        f"<h2>Findings</h2><ul id=findings>{findings}</ul>"
        f"<h2>Scores</h2>{_table(section, report.baseline, 'scores')}"
        f"<div class=charts>{charts}</div>"
        f"{_judge(report)}{_loss_curves(report)}{general}{_disagreements(report)}"
        f"<script>{_SCRIPT}</script></body></html>"
    )
