"""The pairwise judge: a model reads both answers and says which is better, twice.

Each model is judged against the baseline on every example, once with the model's answer as A
and once as B, so a judge that prefers whichever answer comes first (position bias) cancels
out. Per example the two verdicts add up (+1 for the model, -1 for the baseline, 0 for a tie):
above 0 is a win, below 0 a loss, 0 a tie (two verdicts that contradict each other count as a
tie, and are counted as ``inconsistent``).

The prompt is :data:`DEFAULT_JUDGE_TEMPLATE`; pass your own as ``judge_template=`` (a string
with the fields ``{prompt}``, ``{reference}``, ``{a}`` and ``{b}``; the reply must end with a
line ``Verdict: A``, ``Verdict: B`` or ``Verdict: tie``).
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .._exceptions import ConfigError
from .._provider import Generation, ModelHandle
from ._cache import Generated, GenerationCache
from ._data import Example
from ._generate import generate
from ._stats import format_p, mcnemar_exact, wilson

DEFAULT_JUDGE_TEMPLATE = """\
You are judging two answers to the same conversation.

Conversation:
{prompt}

Reference answer (what a correct reply looks like):
{reference}

Answer A:
{a}

Answer B:
{b}

Which answer is better: more correct, more helpful, and closer to the reference? Think briefly \
if you need to, then end with exactly one line: "Verdict: A", "Verdict: B" or "Verdict: tie"."""

JUDGE_GENERATION = Generation(max_tokens=256, temperature=0.0)
_FIELDS = {"prompt", "reference", "a", "b"}
_VERDICT = re.compile(r"verdict\s*[:=\-]?\s*[*\"'\[(]*\s*(A|B|tie)\b", re.I)


def check_template(template: str) -> str:
    try:
        used = {f for _, f, _, _ in string.Formatter().parse(template) if f is not None}
    except ValueError as exc:
        raise ConfigError(f"the judge template is not a valid format string: {exc}") from exc
    unknown = used - _FIELDS
    if unknown or not {"a", "b"} <= used:
        raise ConfigError(
            "the judge template must use {a} and {b} (and may use {prompt} and {reference}); "
            f"it uses {', '.join(sorted(used)) or 'no fields'}"
        )
    return template


def render_prompt(messages: Sequence[Mapping[str, Any]]) -> str:
    return "\n".join(f"{m.get('role')}: {m.get('content')}" for m in messages)


def parse_verdict(text: str) -> str | None:
    """``"A"``, ``"B"`` or ``"tie"`` from the judge's reply (its last verdict line), or None."""
    found = _VERDICT.findall(text)
    if found:
        return found[-1].upper() if found[-1].lower() != "tie" else "tie"
    bare = text.strip().strip(".*\"'").lower()
    return {"a": "A", "b": "B", "tie": "tie"}.get(bare)


@dataclass
class JudgeResult:
    """Win / tie / loss of each model against the baseline, as the judge saw it."""

    judge: str
    baseline: str
    template: str
    outcomes: dict[str, list[str]] = field(default_factory=dict)  # model -> per example
    verdicts: dict[str, list[tuple[str | None, str | None]]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)

    def summary(self, model: str) -> dict[str, Any]:
        outcomes = self.outcomes[model]
        n = len(outcomes)
        counts = {k: outcomes.count(k) for k in ("win", "tie", "loss")}
        pairs = self.verdicts[model]
        inconsistent = sum(1 for a, b in pairs if {a, b} == {"model", "baseline"})
        return {
            "baseline": self.baseline,
            "n": n,
            **{
                k: {
                    "rate": counts[k] / n if n else 0.0,
                    "ci": list(wilson(counts[k], n)),
                    "count": counts[k],
                }
                for k in counts
            },
            "p_value": mcnemar_exact(counts["win"], counts["loss"]),
            "test": "sign-exact",
            "inconsistent": inconsistent,
            "errors": self.errors.get(model, 0),
        }

    def sentence(self, model: str) -> str:
        s = self.summary(model)
        win, loss = s["win"]["rate"], s["loss"]["rate"]
        p = s["p_value"]
        verdict = (
            f"the judge prefers {model if win > loss else self.baseline} (significant)"
            if p < 0.05
            else "no significant preference"
        )
        return (
            f"Judge {self.judge}: {model} wins {win:.0%}, ties {s['tie']['rate']:.0%}, loses "
            f"{loss:.0%} against {self.baseline} ({format_p(p)}, exact sign test): {verdict}."
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "judge": self.judge,
            "baseline": self.baseline,
            "models": {m: self.summary(m) for m in self.outcomes},
        }


def _side(verdict: str | None, model_is: str) -> str | None:
    """Who a verdict favours: ``"model"``, ``"baseline"``, ``"tie"`` or None (unreadable)."""
    if verdict is None:
        return None
    if verdict == "tie":
        return "tie"
    return "model" if verdict == model_is else "baseline"


def run_judge(
    judge: ModelHandle,
    judge_name: str,
    examples: Sequence[Example],
    outputs: Mapping[str, Sequence[Generated]],
    baseline: str,
    *,
    template: str = DEFAULT_JUDGE_TEMPLATE,
    concurrency: int = 8,
    cache: GenerationCache | None = None,
    progress: bool | None = None,
) -> JudgeResult:
    """Judge every model against ``baseline`` on every example, in both orders."""
    result = JudgeResult(judge=judge_name, baseline=baseline, template=template)
    for model, replies in outputs.items():
        if model == baseline:
            continue
        base = outputs[baseline]
        asks: list[list[dict[str, str]]] = []
        slots: list[tuple[int, str]] = []  # (example, which answer the model is: "A" or "B")
        for i, example in enumerate(examples):
            mine, theirs = replies[i], base[i]
            if mine.text is None or theirs.text is None:
                continue
            fields = {"prompt": render_prompt(example.prompt), "reference": example.reference}
            for model_is, a, b in (("A", mine.text, theirs.text), ("B", theirs.text, mine.text)):
                content = template.format_map({**fields, "a": a, "b": b})
                asks.append([{"role": "user", "content": content}])
                slots.append((i, model_is))
        answers = generate(
            judge,
            asks,
            JUDGE_GENERATION,
            concurrency=concurrency,
            cache=cache or False,
            progress=progress,
            desc=f"judging {model}",
        )
        sides: dict[int, list[str | None]] = {}
        errors = 0
        for (i, model_is), answer in zip(slots, answers, strict=True):
            errors += answer.text is None
            sides.setdefault(i, []).append(_side(parse_verdict(answer.text or ""), model_is))
        outcomes: list[str] = []
        verdicts: list[tuple[str | None, str | None]] = []
        for i in range(len(examples)):
            mine_ok, theirs_ok = replies[i].text is not None, base[i].text is not None
            if not (mine_ok and theirs_ok):  # a failed generation loses to an answer
                outcomes.append("win" if mine_ok else "loss" if theirs_ok else "tie")
                verdicts.append((None, None))
                continue
            pair = sides.get(i, [None, None])
            score = sum(1 if s == "model" else -1 if s == "baseline" else 0 for s in pair)
            outcomes.append("win" if score > 0 else "loss" if score < 0 else "tie")
            verdicts.append((pair[0], pair[1]))
        result.outcomes[model] = outcomes
        result.verdicts[model] = verdicts
        result.errors[model] = errors
    return result
