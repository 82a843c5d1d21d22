"""The statistics of a report, against values computed independently here."""

from __future__ import annotations

import math
import random
import statistics

import pytest
from eval_helpers import ScriptedHandle, record

import ftbridge


def two_models(base_right: set[int], tuned_right: set[int], n: int) -> ftbridge.EvalReport:
    """A report where base answers examples ``base_right`` correctly and tuned ``tuned_right``."""
    data = [record(f"q{i}", f"a{i}") for i in range(n)]
    base = ScriptedHandle("base", lambda q: "a" + q[1:] if int(q[1:]) in base_right else "wrong")
    tuned = ScriptedHandle("tuned", lambda q: "a" + q[1:] if int(q[1:]) in tuned_right else "no")
    return ftbridge.evaluate(
        {"base": base, "tuned": tuned}, data, scorers=["exact"], baseline="base", cache=False
    )


def exact_mcnemar(b: int, c: int) -> float:
    n = b + c
    return min(1.0, 2 * sum(math.comb(n, k) for k in range(min(b, c) + 1)) / 2**n)


def wilson(k: int, n: int) -> tuple[float, float]:
    z = statistics.NormalDist().inv_cdf(0.975)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def test_mcnemar_exact_p_value() -> None:
    # 20 examples: both right on 0-4; tuned alone right on 5-13 (9); base alone on 14-15 (2)
    report = two_models(set(range(5)) | {14, 15}, set(range(14)), 20)
    c = report.compare("tuned", "base", "exact")
    assert c.test == "mcnemar-exact"
    assert c.delta == pytest.approx((14 - 7) / 20)
    # by hand: 2 * (C(11,0) + C(11,1) + C(11,2)) / 2**11
    assert c.p_value == pytest.approx(2 * (1 + 11 + 55) / 2048)
    assert c.p_value == pytest.approx(exact_mcnemar(9, 2))
    assert not c.significant
    assert c.ci[0] < c.delta < c.ci[1]


def test_mcnemar_significant_and_one_sided_counts() -> None:
    report = two_models(set(), set(range(12)), 30)
    c = report.compare("tuned", "base", "exact")
    assert c.p_value == pytest.approx(2 / 2**12)
    assert c.significant
    assert "tuned is better than base on exact" in report.table()


def test_wilson_interval_of_a_pass_rate() -> None:
    report = two_models(set(range(3)), set(range(17)), 20)
    for model, k in (("base", 3), ("tuned", 17)):
        low, high = report.ci(model, "exact")
        want = wilson(k, 20)
        assert (low, high) == pytest.approx(want)
        assert report.mean(model, "exact") == k / 20


def graded(seed: int, n: int, shift: float) -> tuple[ftbridge.EvalReport, dict[str, list[float]]]:
    rng = random.Random(seed)
    base_scores = [rng.random() for _ in range(n)]
    tuned_scores = [min(1.0, s + shift + rng.gauss(0, 0.1)) for s in base_scores]
    table = {"base": base_scores, "tuned": tuned_scores}
    handles = {m: ScriptedHandle(m, lambda q, m=m: m) for m in table}

    def looked_up(output: str, reference: str, rec: object) -> float:
        return table[output][int(reference)]

    looked_up.kind = "graded"  # type: ignore[attr-defined]
    data = [record(f"q{i}", str(i)) for i in range(n)]
    report = ftbridge.evaluate(
        handles, data, scorers=[looked_up], baseline="base", cache=False, seed=3
    )
    return report, table


def test_bootstrap_intervals_match_the_normal_approximation() -> None:
    report, table = graded(1, 400, 0.05)
    n = 400
    for model, values in table.items():
        m, sd = statistics.fmean(values), statistics.stdev(values)
        low, high = report.ci(model, "looked_up")
        assert report.mean(model, "looked_up") == pytest.approx(m)
        assert low == pytest.approx(m - 1.96 * sd / math.sqrt(n), abs=0.01)
        assert high == pytest.approx(m + 1.96 * sd / math.sqrt(n), abs=0.01)
    diffs = [t - b for t, b in zip(table["tuned"], table["base"], strict=True)]
    c = report.compare("tuned", "base", "looked_up")
    assert c.test == "paired-bootstrap"
    assert c.delta == pytest.approx(statistics.fmean(diffs))
    half = 1.96 * statistics.stdev(diffs) / math.sqrt(n)
    assert c.ci == pytest.approx((c.delta - half, c.delta + half), abs=0.004)
    assert c.p_value < 0.001  # a shift of ~0.05 with sd ~0.1 over 400 pairs: z ~ 10


def test_bootstrap_is_seeded() -> None:
    first, _ = graded(2, 50, 0.0)
    again, _ = graded(2, 50, 0.0)
    assert (
        first.compare("tuned", "base", "looked_up").ci
        == again.compare("tuned", "base", "looked_up").ci
    )
    assert first.to_dict()["comparisons"] == again.to_dict()["comparisons"]


def test_a_small_set_warns_it_cannot_detect_the_difference() -> None:
    report = two_models({0, 1, 2}, {0, 1, 2, 3}, 8)
    c = report.compare("tuned", "base", "exact")
    assert not c.significant
    text = report.table()
    assert "Too small to detect" in text
    assert "cannot reach p < 0.05" in text
    assert report.to_dict()["comparisons"][0]["too_small_to_detect"] is True
