"""``EvalReport``: what ``ftbridge.evaluate`` returns.

report.mean("tuned", "exact"), report.ci("tuned", "exact")      # 95% interval
c = report.compare("tuned", "base", "exact")                    # .delta .ci .p_value .test
print(report.table())                                           # with the sentences
report.save("eval/")        # report.json (= to_dict()), records.jsonl, report.html
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import orjson

from .._secrets import scrub_any
from ._judge import JudgeResult
from ._section import Comparison, Section
from ._stats import ALPHA


@dataclass(frozen=True)
class ModelInfo:
    """How a model of the report was named and opened (no credentials)."""

    name: str
    ref: str
    handle: str  # the handle's identity (``handle.name``); "" when it has none
    job: str | None = None
    cached: bool = True


@dataclass
class EvalReport:
    """The scores of every model on the same examples, and how they compare. See the module."""

    main: Section
    infos: Sequence[ModelInfo]
    baseline: str | None = None
    general: Section | None = None
    judge: JudgeResult | None = None
    loss_curves: Mapping[str, Mapping[str, list[tuple[int, float]]]] = field(default_factory=dict)
    settings: Mapping[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    data: str | None = None
    created_at: str = field(
        default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds")
    )

    # -- the contract -------------------------------------------------------------------------

    @property
    def n(self) -> int:
        return self.main.n

    @property
    def models(self) -> list[str]:
        return self.main.models

    @property
    def scorers(self) -> list[str]:
        return [s.name for s in self.main.scorers]

    def mean(self, model: str, scorer: str) -> float:
        return self.main.mean(model, scorer)

    def ci(self, model: str, scorer: str) -> tuple[float, float]:
        return self.main.ci(model, scorer)

    def compare(self, model: str, baseline: str, scorer: str) -> Comparison:
        return self.main.compare(model, baseline, scorer)

    def errors(self, model: str) -> int:
        return self.main.errors(model)

    @property
    def records(self) -> list[dict[str, Any]]:
        return self.main.records()

    def comparisons(self) -> list[Comparison]:
        return self.main.comparisons()

    def regressions(self) -> list[Comparison]:
        """Significant drops against the baseline on the general set (forgetting)."""
        if self.general is None:
            return []
        return [c for c in self.general.comparisons() if c.significant and c.delta < 0]

    # -- words --------------------------------------------------------------------------------

    def sentences(self) -> list[str]:
        """The findings in words: each comparison, the judge, the general set, the notes."""
        out = [c.sentence() for c in self.comparisons()]
        if self.judge is not None:
            out += [self.judge.sentence(m) for m in self.judge.outcomes]
        if self.general is not None and self.baseline is not None:
            drops = self.regressions()
            if drops:
                out += [f"Regression on the general set: {c.sentence()}" for c in drops]
            else:
                out.append(
                    f"No significant regression against {self.baseline} on the general set "
                    f"({self.general.n} examples)."
                )
        if "label" in self.scorers:
            summary = self.main.summary()
            f1s = ", ".join(f"{m} {summary[m]['label']['macro_f1']:.3f}" for m in self.models)
            out.append(f"Macro-F1 over the reference labels: {f1s}.")
        for model in self.models:
            errors = self.errors(model)
            if errors:
                out.append(f"{errors} of {self.n} generations of {model} failed (scored 0).")
        return out + list(self.notes)

    def table(self) -> str:
        """The table: per model and scorer the mean and 95% CI, the delta against the baseline
        with its CI and p-value, then the findings in words."""
        lines = [self._headline()]
        lines += _table_lines(self.main, self.baseline)
        if self.general is not None:
            lines += ["", f"general set ({self.general.n} examples):"]
            lines += _table_lines(self.general, self.baseline)
        lines.append("")
        lines += [f"- {s}" for s in self.sentences()]
        return "\n".join(lines)

    def _headline(self) -> str:
        base = f"baseline {self.baseline}" if self.baseline else "no baseline (pass baseline=)"
        return f"{self.n} examples{f' from {self.data}' if self.data else ''}; {base}"

    def __str__(self) -> str:
        return self.table()

    # -- data ---------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = self.main.to_dict()
        out["judge"] = self.judge.to_dict() if self.judge is not None else None
        if self.general is not None:
            general = self.general.to_dict()
            general["regressions"] = [c.to_dict() for c in self.regressions()]
            out["general"] = general
        else:
            out["general"] = None
        out["baseline"] = self.baseline
        out["scorers"] = self.scorers
        out["sentences"] = self.sentences()
        out["meta"] = {
            "created_at": self.created_at,
            "data": self.data,
            "generation": dict(self.settings),
            "models": {
                i.name: {"ref": i.ref, "identity": i.handle, "job": i.job, "cached": i.cached}
                for i in self.infos
            },
        }
        out["loss_curves"] = {
            m: {k: [list(p) for p in v] for k, v in curves.items()}
            for m, curves in self.loss_curves.items()
        }
        return scrub_any(out)  # type: ignore[no-any-return]

    def all_records(self) -> list[dict[str, Any]]:
        records = self.main.records("main")
        if self.general is not None:
            records += self.general.records("general")
        if self.judge is not None:
            for record in records[: self.n]:
                i = record["index"]
                record["judge"] = {
                    m: {
                        "outcome": self.judge.outcomes[m][i],
                        "verdicts": list(self.judge.verdicts[m][i]),
                    }
                    for m in self.judge.outcomes
                }
        return records

    def save(self, directory: str | Path) -> Path:
        """Write ``report.json``, ``records.jsonl`` and ``report.html`` into ``directory``."""
        from ._html import render_html

        out = Path(directory).expanduser()
        out.mkdir(parents=True, exist_ok=True)
        data = self.to_dict()
        (out / "report.json").write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n")
        with (out / "records.jsonl").open("wb") as f:
            for record in self.all_records():
                f.write(orjson.dumps(scrub_any(record)) + b"\n")
        (out / "report.html").write_text(render_html(self), encoding="utf-8")
        return out


def _fmt(value: float) -> str:
    return "nan" if value != value else f"{value:.3f}"


def _table_lines(section: Section, baseline: str | None) -> list[str]:
    head = ["model", "scorer", "mean", "95% CI", "errors"]
    if baseline is not None:
        head += [f"delta vs {baseline}", "95% CI", "p", "test"]
    rows = [head]
    for scorer in section.scorers:
        for model in section.models:
            lo, hi = section.ci(model, scorer.name)
            row = [
                model,
                scorer.name,
                _fmt(section.mean(model, scorer.name)),
                f"[{_fmt(lo)}, {_fmt(hi)}]",
                str(section.errors(model)),
            ]
            if baseline is not None and model != baseline:
                c = section.compare(model, baseline, scorer.name)
                mark = " *" if c.p_value < ALPHA else ""
                p = "<0.0001" if c.p_value < 0.0001 else f"{c.p_value:.4f}"
                row += [f"{c.delta:+.3f}", f"[{c.ci[0]:+.3f}, {c.ci[1]:+.3f}]", p + mark, c.test]
            rows.append(row)
    widths = [max(len(r[i]) for r in rows if i < len(r)) for i in range(len(head))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=False)).rstrip() for r in rows
    ]
    if baseline is not None:
        lines.append("* significant at the 5% level")
    return lines
