"""``inventory``, ``record`` and ``retrain``: what is at risk on a closing provider, its
answers kept while it still answers, and its data trained elsewhere."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from typing import Any

from .._exceptions import ConfigError
from ..migrate._inventory import closing_notices, inventory
from ..migrate._record import record
from ..migrate._retrain import plan_retrain
from ._common import add_json_flag, job_summary
from ._output import print_json


def register(sub: Any) -> None:
    p = sub.add_parser(
        "inventory", help="every fine-tuned model the configured accounts own, days left"
    )
    p.add_argument("--provider", help="only this provider (its errors are shown)")
    add_json_flag(p)
    p.set_defaults(handler=_inventory)

    p = sub.add_parser("record", help="record a model's answers to prompts (a golden set)")
    p.add_argument("ref", help="the model: a job id, or PROVIDER:MODEL")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", help="chat JSONL of prompts (final assistant turns dropped)")
    source.add_argument("--from-job", help="use the job's own stored validation/training data")
    p.add_argument("-n", type=int, help="record this many prompts, sampled (seeded)")
    p.add_argument("--out", required=True, help="the chat JSONL to write (appended, resumable)")
    p.add_argument("--max-tokens", type=int)
    p.add_argument("--temperature", type=float, help="default 0")
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--max-cost", type=float, help="refuse a run estimated above this many USD")
    add_json_flag(p)
    p.set_defaults(handler=_record)

    p = sub.add_parser("retrain", help="train a job's data again on another provider")
    p.add_argument("job", help="the job to move (a job id, or PROVIDER:JOB_ID made elsewhere)")
    p.add_argument("--provider", required=True, help="where to train it now")
    p.add_argument("--model", help="the base model there (default: the configured one)")
    p.add_argument("--data", help="the training file, when ftbridge does not hold it")
    p.add_argument(
        "--hp",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a unified hyperparameter that wins over the translated one (repeatable)",
    )
    p.add_argument("--dry-run", action="store_true", help="show the plan; submit nothing")
    p.add_argument("--wait", action="store_true", help="wait for the new job to finish")
    add_json_flag(p)
    p.set_defaults(handler=_retrain)


def _inventory(args: argparse.Namespace) -> int:
    items = inventory(args.provider)
    if args.json:
        print_json([i.to_json() for i in items])
        return 0
    today = date.today()
    for name, notice in closing_notices(args.provider).items():
        if notice.new_jobs_end is not None:
            verb = "stopped" if notice.new_jobs_end < today else "stops"
            print(
                f"{name} {verb} accepting new fine-tuning jobs on "
                f"{notice.new_jobs_end.isoformat()} (source: {notice.source})"
            )
    if not items:
        print("no fine-tuned models found")
        return 0
    rows = [("PROVIDER", "MODEL", "SHUTDOWN", "DAYS LEFT", "DATA", "JOB")]
    for i in items:
        rows.append(
            (
                i.provider,
                i.model,
                i.shutdown_date.isoformat() if i.shutdown_date else "unknown",
                "-" if i.days_left is None else str(i.days_left),
                i.training_data,
                i.job or "-",
            )
        )
    widths = [max(len(r[k]) for r in rows) for k in range(len(rows[0]))]
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return 0


def _hp(pairs: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep or not name:
            raise ConfigError(f"--hp takes NAME=VALUE, got {pair!r}")
        value: Any = raw
        for cast in (int, float):
            try:
                value = cast(raw)
                break
            except ValueError:
                continue
        out[name.strip()] = value
    return out


def _retrain(args: argparse.Namespace) -> int:
    plan = plan_retrain(
        args.job,
        provider=args.provider,
        model=args.model,
        hyperparameters=_hp(args.hp) or None,
        data=args.data,
    )
    if not args.json:
        print(f"retraining {plan.source.id} on {plan.target.name}")
        print(f"  model     {plan.model}")
        print(f"  data      {plan.training} (sha256 {plan.dataset_sha256[:16]}…)")
        for step in plan.translation.steps:
            arrow = "not carried" if step["to"] is None else repr(step["to"])
            print(f"  {step['name']:<24} {step['from']!r} -> {arrow}  ({step['why']})")
    if args.dry_run:
        if args.json:
            print_json(plan.to_json())
        return 0
    job = plan.submit()
    if args.wait:
        job.wait(progress=not args.json and sys.stderr.isatty())
    if args.json:
        print_json(plan.to_json(job))
    else:
        print(job_summary(job))
    return 0


def _record(args: argparse.Namespace) -> int:
    generation = {
        k: v
        for k, v in (("max_tokens", args.max_tokens), ("temperature", args.temperature))
        if v is not None
    }
    result = record(
        args.ref,
        args.data,
        from_job=args.from_job,
        n=args.n,
        out=args.out,
        generation=generation,
        concurrency=args.concurrency,
        max_cost=args.max_cost,
        progress=None if not args.json else False,
    )
    if args.json:
        print_json(result.to_json())
    else:
        if result.estimate and "usd" in result.estimate:
            print(f"estimated cost: ${result.estimate['usd']:.4f} ({result.estimate['note']})")
        print(
            f"recorded {result.written} answers of {result.model} into {result.out} "
            f"({result.already} already there, {result.failed} failed)"
        )
        for error in result.errors[:3]:
            print(f"  failed: {error}", file=sys.stderr)
    return 1 if result.failed else 0
