"""Scorers: how one output is scored against its reference.

Names (``scorers=[...]`` or ``--scorer``)::

    exact              output == reference, whitespace-normalised             pass/fail
    contains           the reference occurs in the output (normalised)        pass/fail
    regex:<pattern>    the pattern is found in the output (``re.search``)     pass/fail
    json_valid         the output is JSON (one surrounding ``` fence allowed)  pass/fail
    json_equal         output and reference parse to the same JSON value      pass/fail
    json_schema:<path> the output is JSON that the schema in <path> accepts   pass/fail
    label              classification: the label matches (case and trailing
                       punctuation ignored); macro-F1 in the report details   pass/fail
    f1                 token F1 (lower-cased word tokens)                     graded 0..1
    rouge_l            ROUGE-L F-measure (``rouge-score``)                    graded 0..1
    bleu               sentence BLEU / 100 (``sacrebleu``, effective order)   graded 0..1
    chrf               sentence chrF / 100 (``sacrebleu``)                    graded 0..1

or any callable ``(output, reference, record) -> float | bool``; its name is its ``name``
attribute or ``__name__``, and its ``kind`` attribute (``"pass_fail"`` or ``"graded"``) says
which test applies (without one: pass/fail when every score is 0 or 1). Pass/fail scores are compared with McNemar's exact test, graded ones
with a paired bootstrap. Everything a scorer needs (a regex, a schema, a library) is checked
when the scorers are chosen, before any model is called.
"""

from __future__ import annotations

import difflib
import importlib
import json
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from .._exceptions import ConfigError
from ._data import Example

Kind = Literal["pass_fail", "graded"]
ScoreFn = Callable[[str, str, Mapping[str, Any]], "float | bool"]
INSTALL_HINT = "pip install 'ftbridge[eval]'"

_FENCE = re.compile(r"\A```[A-Za-z]*[ \t]*\n?(.*?)\n?```\Z", re.S)
_MISSING = object()


@dataclass(frozen=True)
class Scorer:
    """A named scoring function. ``kind`` None: decided from the values (a user's callable)."""

    name: str
    fn: ScoreFn
    kind: Kind | None = None

    def __call__(self, output: str, reference: str, record: Mapping[str, Any]) -> float:
        return float(self.fn(output, reference, record))


def normalise(text: str) -> str:
    return " ".join(text.split())


def parse_json(text: str) -> Any:
    """The JSON value of ``text`` (one surrounding markdown fence allowed), or ``_MISSING``."""
    stripped = text.strip()
    fenced = _FENCE.match(stripped)
    if fenced:
        stripped = fenced.group(1).strip()
    try:
        return json.loads(stripped)
    except (ValueError, RecursionError):
        return _MISSING


def label_of(text: str) -> str:
    return normalise(text).casefold().strip(" .!?\"'`")


def tokens(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


# -- the built-in scorers --------------------------------------------------------------------


def exact(output: str, reference: str, record: Mapping[str, Any]) -> bool:
    return normalise(output) == normalise(reference)


def contains(output: str, reference: str, record: Mapping[str, Any]) -> bool:
    return normalise(reference) in normalise(output)


def json_valid(output: str, reference: str, record: Mapping[str, Any]) -> bool:
    return parse_json(output) is not _MISSING


def json_equal(output: str, reference: str, record: Mapping[str, Any]) -> bool:
    got = parse_json(output)
    return got is not _MISSING and got == parse_json(reference)


def label(output: str, reference: str, record: Mapping[str, Any]) -> bool:
    return label_of(output) == label_of(reference)


def token_f1(output: str, reference: str, record: Mapping[str, Any]) -> float:
    got, want = tokens(output), tokens(reference)
    if not got or not want:
        return float(got == want)
    common = sum((Counter(got) & Counter(want)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(got), common / len(want)
    return 2 * precision * recall / (precision + recall)


def _need(module: str, package: str, scorer: str) -> Any:
    """Import ``module``, or say how to install it (never a bare ImportError)."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ConfigError(f"the {scorer!r} scorer needs {package}: {INSTALL_HINT}") from None


def _rouge_l() -> ScoreFn:
    rouge = _need("rouge_score.rouge_scorer", "rouge-score", "rouge_l")
    scorer = rouge.RougeScorer(["rougeL"])

    def rouge_l(output: str, reference: str, record: Mapping[str, Any]) -> float:
        return float(scorer.score(reference, output)["rougeL"].fmeasure)

    return rouge_l


def _sacrebleu(which: str) -> ScoreFn:
    metrics = _need("sacrebleu.metrics", "sacrebleu", which)
    metric = metrics.BLEU(effective_order=True) if which == "bleu" else metrics.CHRF()

    def score(output: str, reference: str, record: Mapping[str, Any]) -> float:
        return float(metric.sentence_score(output, [reference]).score) / 100.0

    score.__name__ = which
    return score


def _regex(pattern: str) -> ScoreFn:
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise ConfigError(
            f"scorer 'regex:{pattern}': not a valid regular expression ({exc})"
        ) from exc

    def regex(output: str, reference: str, record: Mapping[str, Any]) -> bool:
        return compiled.search(output) is not None

    return regex


def _json_schema(path_text: str) -> ScoreFn:
    where = f"scorer 'json_schema:{path_text}'"
    path = Path(path_text).expanduser()
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read the schema file ({exc.strerror or exc})") from exc
    except ValueError as exc:
        raise ConfigError(f"{where}: the schema file is not JSON ({exc})") from exc
    jsonschema = _need("jsonschema", "jsonschema", "json_schema")
    if not isinstance(schema, (dict, bool)):
        raise ConfigError(
            f"{where}: a JSON schema is an object (or true/false), not {type(schema).__name__}"
        )
    validator_class = jsonschema.validators.validator_for(schema)
    try:
        validator_class.check_schema(schema)
    except jsonschema.exceptions.SchemaError as exc:
        at = "/".join(str(p) for p in exc.path) or "the top level"
        raise ConfigError(f"{where}: not a valid JSON schema: {exc.message} (at {at})") from exc
    validator = validator_class(schema)

    def json_schema(output: str, reference: str, record: Mapping[str, Any]) -> bool:
        value = parse_json(output)
        return value is not _MISSING and bool(validator.is_valid(value))

    return json_schema


PASS_FAIL: dict[str, ScoreFn] = {
    "exact": exact,
    "contains": contains,
    "json_valid": json_valid,
    "json_equal": json_equal,
    "label": label,
}
GRADED: dict[str, Callable[[], ScoreFn]] = {
    "f1": lambda: token_f1,
    "rouge_l": _rouge_l,
    "bleu": lambda: _sacrebleu("bleu"),
    "chrf": lambda: _sacrebleu("chrf"),
}
PARAMETRISED: dict[str, Callable[[str], ScoreFn]] = {"regex": _regex, "json_schema": _json_schema}
NAMES = sorted([*PASS_FAIL, *GRADED, *(f"{p}:<...>" for p in PARAMETRISED)])


def scorer_for(spec: str | ScoreFn | Scorer) -> Scorer:
    """One scorer from a name, a callable or a :class:`Scorer`."""
    if isinstance(spec, Scorer):
        return spec
    if callable(spec):
        name = getattr(spec, "name", None) or getattr(spec, "__name__", None) or "custom"
        kind = getattr(spec, "kind", None)
        if kind not in (None, "pass_fail", "graded"):
            raise ConfigError(
                f"scorer {name!r}: kind must be 'pass_fail' or 'graded', not {kind!r}"
            )
        return Scorer(name="custom" if name == "<lambda>" else str(name), fn=spec, kind=kind)
    if not isinstance(spec, str):
        raise ConfigError(f"a scorer is a name or a callable, not {spec!r}")
    if spec in PASS_FAIL:
        return Scorer(spec, PASS_FAIL[spec], "pass_fail")
    if spec in GRADED:
        return Scorer(spec, GRADED[spec](), "graded")
    prefix, _, arg = spec.partition(":")
    if prefix in PARAMETRISED:  # "json_schema" alone, or "json_schema:" with nothing after
        if not arg:
            raise ConfigError(f"scorer {spec!r} needs its argument: {prefix}:<...>")
        return Scorer(spec, PARAMETRISED[prefix](arg), "pass_fail")
    spelled = {**{n: n for n in [*PASS_FAIL, *GRADED]}, **{p: f"{p}:<...>" for p in PARAMETRISED}}
    close = difflib.get_close_matches(prefix if prefix in spelled else spec, list(spelled), n=1)
    hint = f" Did you mean {spelled[close[0]]!r}?" if close else ""
    raise ConfigError(f"unknown scorer {spec!r}.{hint} Known scorers: {', '.join(NAMES)}")


def default_scorers(examples: Sequence[Example]) -> list[str]:
    """Scorers that suit the references: JSON ones for JSON, ``label`` for a few short labels,
    otherwise exact match and token F1 (and ROUGE-L for long answers)."""
    refs = [e.reference for e in examples]
    if all(isinstance(parse_json(r), (dict, list)) for r in refs):
        return ["json_valid", "json_equal"]
    labels = {label_of(r) for r in refs}
    if all(len(r.split()) <= 3 for r in refs) and len(labels) <= 20 and len(labels) < len(refs):
        return ["label"]
    mean_words = sum(len(r.split()) for r in refs) / len(refs)
    return ["exact", "f1", "rouge_l"] if mean_words > 8 else ["exact", "f1"]


def resolve_scorers(specs: Any, examples: Sequence[Example]) -> list[Scorer]:
    """The scorers for ``examples`` from a name, a callable, a list of them, or None (the
    defaults); every problem is raised here, before generation."""
    if isinstance(specs, (str, Scorer)) or callable(specs):
        specs = [specs]
    chosen = [scorer_for(s) for s in (specs or default_scorers(examples))]
    names = [s.name for s in chosen]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(f"two scorers share the name {dupes[0]!r}; give each a distinct name")
    if "json_equal" in names:
        bad = [e.index for e in examples if parse_json(e.reference) is _MISSING]
        if bad:
            shown = ", ".join(str(i + 1) for i in bad[:5])
            raise ConfigError(
                f"the 'json_equal' scorer needs JSON references; {len(bad)} are not JSON "
                f"(examples {shown}{', ...' if len(bad) > 5 else ''})"
            )
    return chosen


def macro_f1(predictions: Sequence[str | None], references: Sequence[str]) -> float:
    """Macro-averaged F1 over the reference labels (a failed generation predicts nothing)."""
    preds = [None if p is None else label_of(p) for p in predictions]
    refs = [label_of(r) for r in references]
    f1s = []
    for cls in sorted(set(refs)):
        tp = sum(p == cls and r == cls for p, r in zip(preds, refs, strict=True))
        fp = sum(p == cls and r != cls for p, r in zip(preds, refs, strict=True))
        fn = sum(p != cls and r == cls for p, r in zip(preds, refs, strict=True))
        f1s.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return sum(f1s) / len(f1s) if f1s else 0.0
