"""Parity: does a retrained model answer like the one it replaces, on a recorded golden set?

``ftbridge eval golden.jsonl --model new=REF --model old=REF --baseline old --parity 0.95``
adds, for each model against the baseline (the old model, whose recorded answers are the
references):

- ``agreement``: the share of examples where the model gives the recorded answer (``exact``,
  whitespace-normalised), with its Wilson 95% interval;
- ``similarity``: chrF against the recorded answer (0..1), with a bootstrap 95% interval;
- ``relative``: the model's similarity as a fraction of the baseline's own on the same
  examples (the old model re-asked at temperature 0 scores about 1), paired-bootstrap interval;
- ``judge``: when a judge ran, the share of examples where it did not prefer the baseline
  (win or tie), with its Wilson interval.

The verdict compares the ``score`` with the target: the judge's non-loss rate when a judge ran
(it asks "as good", not "the same words"), else ``relative``. It is ``met`` when the score
reaches the target, and says whether the interval's lower end does too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .._exceptions import ConfigError

AGREEMENT = "exact"
SIMILARITY = "chrf"
SCORERS = (AGREEMENT, SIMILARITY)


def check_target(target: float) -> float:
    if not isinstance(target, (int, float)) or not 0.0 <= float(target) <= 1.0:
        raise ConfigError(
            f"a parity target is a fraction between 0 and 1, e.g. 0.95; got {target!r}"
        )
    return float(target)


@dataclass(frozen=True)
class Measure:
    value: float
    ci: tuple[float, float]

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "ci": list(self.ci)}


@dataclass(frozen=True)
class Parity:
    model: str
    baseline: str
    target: float
    agreement: Measure
    similarity: Measure
    relative: Measure
    judge: Measure | None
    basis: str

    @property
    def score(self) -> Measure:
        return self.judge if self.judge is not None else self.relative

    @property
    def met(self) -> bool:
        return self.score.value >= self.target

    def sentence(self) -> str:
        s = self.score
        what = "judge non-loss rate" if self.judge is not None else "relative similarity"
        sure = (
            "its 95% interval is above the target too"
            if s.ci[0] >= self.target
            else "but its 95% interval reaches below the target: more examples would tell"
        )
        verdict = f"parity met ({sure})" if self.met else "parity NOT met"
        return (
            f"Parity of {self.model} with {self.baseline}: {what} {s.value:.3f} "
            f"[{s.ci[0]:.3f}, {s.ci[1]:.3f}] against target {self.target:g}: {verdict}; "
            f"agreement {self.agreement.value:.0%}, similarity (chrF) {self.similarity.value:.3f}."
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "baseline": self.baseline,
            "target": self.target,
            "basis": self.basis,
            "score": self.score.to_dict(),
            "met": self.met,
            "agreement": self.agreement.to_dict(),
            "similarity": self.similarity.to_dict(),
            "relative": self.relative.to_dict(),
            "judge": self.judge.to_dict() if self.judge is not None else None,
        }


def _ratio_ci(model: list[float], base: list[float], seed: int) -> tuple[float, float]:
    from ..eval._stats import RESAMPLES, _np

    np = _np()
    m, b = np.asarray(model, dtype=float), np.asarray(base, dtype=float)
    rng = np.random.default_rng(seed)
    ratios = []
    for _ in range(RESAMPLES // 500):
        idx = rng.integers(0, len(m), size=(500, len(m)))
        bm = b[idx].mean(axis=1)
        ratios.append(np.where(bm > 0, m[idx].mean(axis=1) / np.where(bm > 0, bm, 1), 0.0))
    low, high = np.quantile(np.concatenate(ratios), [0.025, 0.975])
    return (float(low), float(high))


def parity(report: Any, model: str, *, target: float, seed: int = 0) -> Parity:
    """The parity of ``model`` with the report's baseline (see the module docstring)."""
    from ..eval._stats import bootstrap_ci, wilson

    target = check_target(target)
    baseline = report.baseline
    if baseline is None or model == baseline:
        raise ConfigError("parity compares a model with the baseline: pass baseline= (--baseline)")
    missing = [s for s in SCORERS if s not in report.scorers]
    if missing:
        raise ConfigError(
            f"parity needs the scorers {', '.join(SCORERS)}; add {', '.join(missing)}"
        )
    rows = report.records
    agree = [float(r["scores"][model][AGREEMENT]) for r in rows]
    sim = [float(r["scores"][model][SIMILARITY]) for r in rows]
    base = [float(r["scores"][baseline][SIMILARITY]) for r in rows]
    n = len(rows)
    base_mean = sum(base) / n if n else 0.0
    judge = None
    if report.judge is not None and model in report.judge.outcomes:
        outcomes = report.judge.outcomes[model]
        kept = sum(1 for o in outcomes if o in ("win", "tie"))
        judge = Measure(kept / len(outcomes) if outcomes else 0.0, wilson(kept, len(outcomes)))
    return Parity(
        model=model,
        baseline=baseline,
        target=target,
        agreement=Measure(sum(agree) / n if n else 0.0, wilson(int(sum(agree)), n)),
        similarity=Measure(sum(sim) / n if n else 0.0, bootstrap_ci(sim, seed=seed)),
        relative=Measure(
            (sum(sim) / n) / base_mean if base_mean > 0 else 0.0, _ratio_ci(sim, base, seed)
        ),
        judge=judge,
        basis="judge" if judge is not None else "relative",
    )


def parity_all(report: Any, *, target: float, seed: int = 0) -> list[Parity]:
    return [
        parity(report, m, target=target, seed=seed) for m in report.models if m != report.baseline
    ]
