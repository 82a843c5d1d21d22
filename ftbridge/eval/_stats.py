"""The statistics of a report: means with 95% intervals, and paired tests against a baseline.

- A model's mean: Wilson score interval for pass/fail scores, bootstrap percentile interval
  (seeded) for graded ones.
- Model against baseline, on the same examples: ``delta`` = mean(model - baseline), its 95%
  interval from a paired bootstrap (the examples are resampled together, seeded), and a
  two-sided p-value: McNemar's exact (binomial) test on the discordant pairs for pass/fail
  scores, the paired bootstrap (centred: how often a resampled delta lies as far from the
  observed one as the observed one lies from 0) for graded ones.
- ``min_detectable``: the smallest delta the set could detect (two-sided 5%, 80% power); a
  non-significant delta smaller than that is reported as "too small to detect".

numpy is imported when first needed (it is part of ``ftbridge[eval]``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .._exceptions import ConfigError

Z95 = 1.959963984540054
Z80 = 0.8416212335729143
RESAMPLES = 10_000
ALPHA = 0.05
_CHUNK = 500


def _np() -> Any:
    try:
        import numpy
    except ImportError:  # pragma: no cover - numpy comes with the eval extra
        raise ConfigError(
            "evaluation statistics need numpy: pip install 'ftbridge[eval]'"
        ) from None
    return numpy


def mean(values: Sequence[float]) -> float:
    return math.fsum(values) / len(values) if values else float("nan")


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a proportion (sensible at 0/n and n/n, unlike the normal one)."""
    if n == 0:
        return (float("nan"), float("nan"))
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def _resampled_means(values: Any, seed: int, resamples: int) -> Any:
    np = _np()
    rng = np.random.default_rng(seed)
    n = len(values)
    out = np.empty(resamples)
    for start in range(0, resamples, _CHUNK):
        rows = min(_CHUNK, resamples - start)
        out[start : start + rows] = values[rng.integers(0, n, size=(rows, n))].mean(axis=1)
    return out


def bootstrap_ci(
    values: Sequence[float], *, seed: int = 0, resamples: int = RESAMPLES
) -> tuple[float, float]:
    """Percentile bootstrap 95% interval of the mean (seeded: the same values give the same
    interval)."""
    if not values:
        return (float("nan"), float("nan"))
    np = _np()
    means = _resampled_means(np.asarray(values, dtype=float), seed, resamples)
    low, high = np.quantile(means, [0.025, 0.975])
    return (float(low), float(high))


def mean_ci(values: Sequence[float], pass_fail: bool, *, seed: int = 0) -> tuple[float, float]:
    if pass_fail:
        return wilson(sum(1 for v in values if v >= 0.5), len(values))
    return bootstrap_ci(values, seed=seed)


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value: ``b`` pairs only the model passed, ``c`` only the
    baseline passed; under no difference each discordant pair is a fair coin."""
    n = b + c
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(min(b, c) + 1))
    return min(1.0, 2 * tail / 2**n)


@dataclass(frozen=True)
class Paired:
    """One model against the baseline on one scorer."""

    delta: float
    ci: tuple[float, float]
    p_value: float
    test: str  # "mcnemar-exact" | "paired-bootstrap"
    n: int
    discordant: tuple[int, int] | None  # (model only, baseline only) for pass/fail
    min_detectable: float | None

    @property
    def significant(self) -> bool:
        return self.p_value < ALPHA

    @property
    def too_small(self) -> bool:
        """Not significant, and smaller than what this many examples can detect."""
        if self.significant or self.min_detectable is None:
            return False
        return abs(self.delta) < self.min_detectable


def min_detectable(diffs: Sequence[float]) -> float | None:
    """The delta a paired test on ``diffs`` detects with 80% power at the 5% level."""
    n = len(diffs)
    if n < 2:
        return None
    m = mean(diffs)
    sd = math.sqrt(math.fsum((d - m) ** 2 for d in diffs) / (n - 1))
    return None if sd == 0 else (Z95 + Z80) * sd / math.sqrt(n)


def compare(
    model: Sequence[float],
    baseline: Sequence[float],
    *,
    pass_fail: bool,
    seed: int = 0,
    resamples: int = RESAMPLES,
) -> Paired:
    """The paired comparison of two models' scores on the same examples."""
    np = _np()
    if len(model) != len(baseline) or not model:
        raise ValueError("paired scores need the same, non-zero number of examples")
    diffs = np.asarray(model, dtype=float) - np.asarray(baseline, dtype=float)
    delta = float(diffs.mean())
    means = _resampled_means(diffs, seed, resamples)
    low, high = (float(x) for x in np.quantile(means, [0.025, 0.975]))
    discordant = None
    if pass_fail:
        b = int(sum(1 for m, a in zip(model, baseline, strict=True) if m >= 0.5 > a))
        c = int(sum(1 for m, a in zip(model, baseline, strict=True) if a >= 0.5 > m))
        discordant = (b, c)
        p_value, test = mcnemar_exact(b, c), "mcnemar-exact"
    else:
        far = int(np.count_nonzero(np.abs(means - delta) >= abs(delta) - 1e-12))
        p_value = 1.0 if delta == 0 else min(1.0, (1 + far) / (resamples + 1))
        test = "paired-bootstrap"
    return Paired(
        delta=delta,
        ci=(low, high),
        p_value=p_value,
        test=test,
        n=len(model),
        discordant=discordant,
        min_detectable=min_detectable(diffs.tolist()),
    )


def format_p(p: float) -> str:
    return "p < 0.0001" if p < 0.0001 else f"p = {p:.4f}" if p < 0.01 else f"p = {p:.3f}"
