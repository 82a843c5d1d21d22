"""How a job's settings carry over to another provider: written-down rules, each shown.

The rules, in order (``ftbridge retrain`` prints every one it applied):

1. What the user passes to ``retrain(hyperparameters=...)`` wins over everything below.
2. ``epochs``, ``batch_size``, ``warmup_ratio``, ``seed``, ``tuning`` and the LoRA shape
   (``lora_rank``, ``lora_alpha``, ``lora_dropout``) are kept when the target honours them.
   Values the source job left to its provider ("auto") are the ones the provider resolved, when
   it reports them (``Provider.trained_hyperparameters(snapshot)``).
3. ``learning_rate_multiplier`` is kept when the target takes a multiplier too; otherwise it
   becomes an absolute ``learning_rate``: the multiplier times the target's own default rate
   for its kind of tuning (``Provider.default_learning_rate(tuning)``), since a multiplier
   scales a provider's default.
4. An absolute ``learning_rate`` is kept when the target takes one; a target that takes only a
   multiplier gets none (its default), said so.
5. Anything the target cannot honour is listed with the reason; nothing is dropped silently.
   Provider-specific ``options`` never carry over (pass the target's own).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .._models import Hyperparameters
from .._provider import Provider

KEPT = (
    "epochs",
    "batch_size",
    "warmup_ratio",
    "seed",
    "tuning",
    "lora_rank",
    "lora_alpha",
    "lora_dropout",
)


@dataclass
class Translation:
    """The target's hyperparameters and every rule applied on the way."""

    hyperparameters: dict[str, Any] = field(default_factory=dict)
    steps: list[dict[str, Any]] = field(default_factory=list)

    def note(self, name: str, before: Any, after: Any, why: str) -> None:
        self.steps.append({"name": name, "from": before, "to": after, "why": why})

    @property
    def not_carried(self) -> list[dict[str, Any]]:
        return [s for s in self.steps if s["to"] is None]


def _honours(target: Provider, name: str, value: Any = None) -> bool:
    caps = target.capabilities
    if name not in caps.hyperparameters:
        return False
    return not (name == "tuning" and value not in caps.tunings)


def default_learning_rate(target: Provider, tuning: str | None) -> float | None:
    fn = getattr(target, "default_learning_rate", None)
    return fn(tuning) if fn is not None else None


def translate(
    source: Hyperparameters,
    target: Provider,
    *,
    given: Hyperparameters | None = None,
    source_provider: str = "the source provider",
) -> Translation:
    """Carry ``source`` (the old job's hyperparameters, resolved) over to ``target``."""
    out = Translation()
    user = given.given() if given is not None else {}
    old = source.given()
    tname = target.name
    for name in KEPT:
        if name not in old or name in user:
            continue
        value = old[name]
        if _honours(target, name, value):
            out.hyperparameters[name] = value
            out.note(name, value, value, "kept")
        else:
            hint = target.capabilities.hyperparameter_hints.get(name)
            out.note(name, value, None, hint or f"{tname} does not take {name}")
    mult = old.get("learning_rate_multiplier")
    if mult is not None and "learning_rate" not in user and "learning_rate_multiplier" not in user:
        if _honours(target, "learning_rate_multiplier"):
            out.hyperparameters["learning_rate_multiplier"] = mult
            out.note("learning_rate_multiplier", mult, mult, "kept")
        elif _honours(target, "learning_rate"):
            tuning = user.get("tuning", out.hyperparameters.get("tuning"))
            base = default_learning_rate(target, tuning)
            if base is None:
                out.note(
                    "learning_rate_multiplier",
                    mult,
                    None,
                    f"{tname} takes an absolute learning_rate and declares no default to scale; "
                    "its default is used (pass learning_rate to choose)",
                )
            else:
                rate = float(f"{mult * base:.3g}")
                out.hyperparameters["learning_rate"] = rate
                out.note(
                    "learning_rate_multiplier",
                    mult,
                    rate,
                    f"learning_rate = multiplier {mult:g} × {tname}'s default {base:g} for "
                    f"{tuning or 'its default tuning'}",
                )
        else:
            out.note("learning_rate_multiplier", mult, None, f"{tname} takes no learning rate")
    absolute = old.get("learning_rate")
    if (
        absolute is not None
        and "learning_rate" not in user
        and "learning_rate_multiplier" not in user
    ):
        if _honours(target, "learning_rate"):
            out.hyperparameters["learning_rate"] = absolute
            out.note("learning_rate", absolute, absolute, "kept")
        else:
            out.note(
                "learning_rate",
                absolute,
                None,
                f"{tname} takes only a multiplier of its own default; {source_provider}'s "
                "absolute rate has no equivalent, so the default is used",
            )
    for name, value in user.items():
        out.hyperparameters[name] = value
        out.note(name, old.get(name), value, "given")
    return out
