"""``ftbridge eval DATA --model NAME=REF ...``: score models on held-out data, compare them.

Exit 0 when the evaluation ran (whatever the scores), 1 when a ``--fail-under`` target is
missed, 2 for bad input (the data, a scorer, a model that cannot be opened...), found before
any model is called.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._exceptions import ConfigError, FtbridgeError
from ._output import print_json

_NAMED = re.compile(r"^(?P<name>[A-Za-z0-9_.-]+)=(?P<ref>.+)$")


def register(sub: Any) -> None:
    p = sub.add_parser(
        "eval",
        help="score models on held-out data and compare them with a baseline",
        description="Generate every model's answer to every example of DATA (chat JSONL: the "
        "final assistant message is the reference), score them, and compare each model with "
        "the baseline: mean and 95% CI per scorer, paired deltas with CIs and p-values.",
    )
    p.add_argument("data", help="held-out chat JSONL")
    p.add_argument(
        "--model",
        "-m",
        action="append",
        required=True,
        metavar="NAME=REF",
        help="a model to evaluate (repeatable): a job id, or PROVIDER:MODEL (local:./models/"
        "tiny, openai:gpt-4.1-mini); NAME= names it in the report",
    )
    p.add_argument("--baseline", "-b", metavar="NAME", help="the NAME the others are compared with")
    p.add_argument(
        "--scorer",
        "-s",
        action="append",
        metavar="SCORER",
        help="exact, contains, regex:PATTERN, json_valid, json_equal, json_schema:PATH, label, "
        "f1, rouge_l, bleu, chrf (repeatable; default: chosen from the references)",
    )
    p.add_argument(
        "--judge", metavar="REF", help="a model that judges each model against the baseline"
    )
    p.add_argument(
        "--judge-template",
        metavar="FILE",
        help="the judge's prompt, with {prompt}, {reference}, {a} and {b} (default: "
        "ftbridge.eval.DEFAULT_JUDGE_TEMPLATE)",
    )
    p.add_argument(
        "--general", metavar="FILE", help="general prompts: a drop there is reported as forgetting"
    )
    p.add_argument("--max-tokens", type=int, metavar="N", help="the most tokens per answer")
    p.add_argument("--temperature", type=float, metavar="T", help="default 0")
    p.add_argument(
        "--seed", type=int, default=0, metavar="N", help="generation and bootstrap seed (default 0)"
    )
    p.add_argument(
        "--concurrency", type=int, default=8, metavar="N", help="requests at once to a remote model"
    )
    p.add_argument("--no-cache", action="store_true", help="generate everything again")
    p.add_argument(
        "--out", "-o", metavar="DIR", help="write report.json, records.jsonl, report.html"
    )
    p.add_argument(
        "--fail-under",
        action="append",
        default=[],
        metavar="[MODEL:]SCORER=MIN",
        help="exit 1 when a model's mean is below MIN (every model but the baseline unless "
        "MODEL: is given; repeatable)",
    )
    p.add_argument(
        "--parity",
        type=float,
        metavar="TARGET",
        help="a golden set recorded from the baseline (ftbridge record): report each model's "
        "parity with it (agreement, chrF similarity, judge preference) and exit 1 below TARGET "
        "(a fraction, e.g. 0.95)",
    )
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")
    p.set_defaults(handler=run)


@dataclass(frozen=True)
class Target:
    model: str | None
    scorer: str
    minimum: float


def parse_target(text: str) -> Target:
    where, sep, value = text.rpartition("=")
    try:
        minimum = float(value)
    except ValueError:
        minimum = float("nan")
    if not sep or not where or minimum != minimum:
        raise ConfigError(f"--fail-under {text!r}: use [MODEL:]SCORER=MIN, e.g. exact=0.8")
    model, colon, scorer = where.partition(":")
    if not colon or model in {"regex", "json_schema"}:  # a scorer name with its own colon
        model, scorer = "", where
    return Target(model or None, scorer, minimum)


def parse_models(values: list[str]) -> dict[str, str]:
    models: dict[str, str] = {}
    for value in values:
        found = _NAMED.match(value)
        given, sep, rest = value.partition("=")
        if not found and sep and not given:
            raise ConfigError(f"--model {value}: give a NAME before '=' (NAME=REF), or REF alone")
        if not found and sep and not rest and _NAMED.match(f"{given}=x"):
            raise ConfigError(
                f"--model {value}: give the model after '=', e.g. {given}=local:./models/tiny"
            )
        name, ref = (found.group("name"), found.group("ref")) if found else (value, value)
        if name in models:
            raise ConfigError(f"--model {name}: given twice; give each model a distinct NAME=")
        models[name] = ref
    return models


def missed(report: Any, targets: list[Target]) -> list[str]:
    out = []
    for t in targets:
        if t.scorer not in report.scorers:
            raise ConfigError(f"--fail-under: no scorer {t.scorer!r} in this evaluation")
        if t.model is not None and t.model not in report.models:
            raise ConfigError(f"--fail-under: no model {t.model!r} in this evaluation")
        models = [t.model] if t.model else [m for m in report.models if m != report.baseline]
        for m in models:
            value = report.mean(m, t.scorer)
            if not value >= t.minimum:
                out.append(f"{m} {t.scorer} {value:.3f} < {t.minimum:g}")
    return out


def _out_dir(out: str) -> None:
    try:
        Path(out).expanduser().mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise ConfigError(f"--out {out}: a file is there; --out names a directory") from None
    except OSError as exc:
        raise ConfigError(
            f"--out {out}: cannot make the directory ({exc.strerror or exc})"
        ) from exc


def run(args: argparse.Namespace) -> int:
    from ..eval import evaluate

    try:
        targets = [parse_target(t) for t in args.fail_under]
        scorers = args.scorer
        if args.parity is not None:
            from ..migrate._parity import SCORERS, check_target

            check_target(args.parity)
            if not args.baseline:
                raise ConfigError("--parity compares with the recorded model: pass --baseline")
            given = list(scorers or [])
            scorers = given + [s for s in SCORERS if s not in given]
        models = parse_models(args.model)
        template = None
        if args.judge_template:
            try:
                template = Path(args.judge_template).read_text(encoding="utf-8")
            except OSError as exc:
                raise ConfigError(
                    f"--judge-template {args.judge_template}: {exc.strerror or exc}"
                ) from exc
            except UnicodeDecodeError as exc:
                raise ConfigError(
                    f"--judge-template {args.judge_template}: not UTF-8 text "
                    f"(byte {exc.start + 1}); save the template as UTF-8"
                ) from None
        if args.out:  # a directory that cannot be made is said now, not after every generation
            _out_dir(args.out)
        generation = {
            k: v
            for k, v in (("max_tokens", args.max_tokens), ("temperature", args.temperature))
            if v is not None
        }
        report = evaluate(
            models,
            args.data,
            scorers=scorers,
            baseline=args.baseline,
            judge=args.judge,
            judge_template=template,
            general=args.general,
            generation=generation,
            concurrency=args.concurrency,
            cache=not args.no_cache,
            seed=args.seed,
            progress=None if not args.json else False,
        )
        failures = missed(report, targets)
        parities = []
        if args.parity is not None:
            from ..migrate._parity import parity_all

            parities = parity_all(report, target=args.parity, seed=args.seed)
            failures += [
                f"{p.model} parity {p.score.value:.3f} < {p.target:g}"
                for p in parities
                if not p.met
            ]
    except FtbridgeError as exc:  # every bad input is found before any generation
        print(f"ftbridge: error: {exc}", file=sys.stderr)
        return 2
    if args.out:
        out = report.save(args.out)
        print(f"report: {out / 'report.html'}", file=sys.stderr)
    if args.json:
        body = report.to_dict()
        if args.parity is not None:
            body["parity"] = [p.to_dict() for p in parities]
        print_json(body)
    else:
        print(report.table())
        for p in parities:
            print(f"- {p.sentence()}")
        if not args.out:
            print("(add --out DIR for report.html, report.json and every example)", file=sys.stderr)
    for failure in failures:
        print(f"ftbridge: below --fail-under: {failure}", file=sys.stderr)
    return 1 if failures else 0
