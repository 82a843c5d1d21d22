"""One scored dataset: every model's outputs and scores on it, and the statistics of both."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from .._exceptions import ConfigError
from ._cache import Generated
from ._data import Example
from ._scorers import Scorer, macro_f1
from ._stats import Paired, compare, format_p, mean, mean_ci


@dataclass(frozen=True)
class Comparison:
    """A model against the baseline on one scorer (see :mod:`ftbridge.eval._stats`)."""

    model: str
    baseline: str
    scorer: str
    paired: Paired

    delta = property(lambda self: self.paired.delta)
    ci = property(lambda self: self.paired.ci)
    p_value = property(lambda self: self.paired.p_value)
    test = property(lambda self: self.paired.test)
    significant = property(lambda self: self.paired.significant)
    too_small = property(lambda self: self.paired.too_small)

    def sentence(self) -> str:
        p = self.paired
        numbers = f"{p.delta:+.3f} (95% CI {p.ci[0]:+.3f} to {p.ci[1]:+.3f}, {format_p(p.p_value)}, {p.test})"
        if p.significant:
            word = "better" if p.delta > 0 else "worse"
            text = f"{self.model} is {word} than {self.baseline} on {self.scorer}: {numbers}; significant."
        else:
            text = f"No significant difference between {self.model} and {self.baseline} on {self.scorer}: {numbers}."
        return text + "".join(f" {w}" for w in self.warnings())

    def warnings(self) -> list[str]:
        p = self.paired
        out = []
        if p.too_small and p.min_detectable is not None:
            out.append(
                f"Too small to detect: {p.n} examples detect a difference of about "
                f"±{p.min_detectable:.3f} (80% power), larger than the {p.delta:+.3f} seen; "
                "use more examples to tell."
            )
        if p.discordant is not None and sum(p.discordant) == 0:
            out.append("The two pass and fail on exactly the same examples.")
        elif p.discordant is not None and not p.significant and sum(p.discordant) < 6:
            out.append(
                f"Only {sum(p.discordant)} example(s) differ in pass/fail between the two; the "
                "exact test cannot reach p < 0.05 with fewer than 6."
            )
        return out

    def to_dict(self) -> dict[str, Any]:
        p = self.paired
        return {
            "model": self.model,
            "baseline": self.baseline,
            "scorer": self.scorer,
            "delta": p.delta,
            "ci": list(p.ci),
            "p_value": p.p_value,
            "test": p.test,
            "significant": p.significant,
            "too_small_to_detect": p.too_small,
            "min_detectable": p.min_detectable,
            "n": p.n,
        }


@dataclass
class Section:
    """The outputs and scores of every model on one set of examples."""

    examples: Sequence[Example]
    scorers: Sequence[Scorer]
    outputs: Mapping[str, Sequence[Generated]]
    baseline: str | None
    seed: int = 0
    scores: dict[str, dict[str, list[float]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._comparisons: dict[tuple[str, str, str], Comparison] = {}
        for model, replies in self.outputs.items():
            per: dict[str, list[float]] = {}
            for scorer in self.scorers:
                values = []
                for example, reply in zip(self.examples, replies, strict=True):
                    values.append(
                        0.0 if reply.text is None else _score(scorer, reply.text, example)
                    )
                per[scorer.name] = values
            self.scores[model] = per

    @property
    def n(self) -> int:
        return len(self.examples)

    @property
    def models(self) -> list[str]:
        return list(self.outputs)

    @cached_property
    def pass_fail(self) -> dict[str, bool]:
        """Per scorer: whether its scores are pass/fail (a callable's: when all are 0 or 1)."""
        out = {}
        for scorer in self.scorers:
            if scorer.kind is not None:
                out[scorer.name] = scorer.kind == "pass_fail"
            else:
                values = [v for m in self.scores.values() for v in m[scorer.name]]
                out[scorer.name] = all(v in (0.0, 1.0) for v in values)
        return out

    def errors(self, model: str) -> int:
        return sum(1 for g in self.outputs[model] if g.text is None)

    def mean(self, model: str, scorer: str) -> float:
        return mean(self._values(model, scorer))

    def ci(self, model: str, scorer: str) -> tuple[float, float]:
        return self._cis[(model, scorer)]

    @cached_property
    def _cis(self) -> dict[tuple[str, str], tuple[float, float]]:
        return {
            (m, s.name): mean_ci(self.scores[m][s.name], self.pass_fail[s.name], seed=self.seed)
            for m in self.models
            for s in self.scorers
        }

    def _values(self, model: str, scorer: str) -> list[float]:
        if model not in self.scores:
            raise ConfigError(
                f"no model {model!r} in this report; models: {', '.join(self.models)}"
            )
        if scorer not in self.scores[model]:
            names = ", ".join(s.name for s in self.scorers)
            raise ConfigError(f"no scorer {scorer!r} in this report; scorers: {names}")
        return self.scores[model][scorer]

    def compare(self, model: str, baseline: str, scorer: str) -> Comparison:
        key = (model, baseline, scorer)
        if key not in self._comparisons:
            self._comparisons[key] = Comparison(
                model,
                baseline,
                scorer,
                compare(
                    self._values(model, scorer),
                    self._values(baseline, scorer),
                    pass_fail=self.pass_fail[scorer],
                    seed=self.seed,
                ),
            )
        return self._comparisons[key]

    def comparisons(self) -> list[Comparison]:
        if self.baseline is None:
            return []
        return [
            self.compare(m, self.baseline, s.name)
            for m in self.models
            if m != self.baseline
            for s in self.scorers
        ]

    def summary(self) -> dict[str, dict[str, dict[str, Any]]]:
        out: dict[str, dict[str, dict[str, Any]]] = {}
        for model in self.models:
            per: dict[str, dict[str, Any]] = {}
            for scorer in self.scorers:
                entry: dict[str, Any] = {
                    "mean": self.mean(model, scorer.name),
                    "ci": list(self.ci(model, scorer.name)),
                    "n": self.n,
                    "errors": self.errors(model),
                }
                if scorer.name == "label":
                    entry["macro_f1"] = macro_f1(
                        [g.text for g in self.outputs[model]], [e.reference for e in self.examples]
                    )
                per[scorer.name] = entry
            out[model] = per
        return out

    def records(self, kind: str = "main") -> list[dict[str, Any]]:
        out = []
        for i, example in enumerate(self.examples):
            out.append(
                {
                    "index": example.index,
                    "set": kind,
                    "prompt": [dict(m) for m in example.prompt],
                    "reference": example.reference,
                    "outputs": {m: self.outputs[m][i].text for m in self.models},
                    "scores": {
                        m: {s: v[i] for s, v in self.scores[m].items()} for m in self.models
                    },
                    "errors": {
                        m: self.outputs[m][i].error for m in self.models if self.outputs[m][i].error
                    },
                }
            )
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "models": self.summary(),
            "comparisons": [c.to_dict() for c in self.comparisons()],
        }


def _score(scorer: Scorer, output: str, example: Example) -> float:
    try:
        return scorer(output, example.reference, example.record)
    except Exception as exc:
        raise ConfigError(
            f"scorer {scorer.name!r} failed on example {example.index + 1}: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
