"""``ftbridge submit FILE``: validate, preflight and start a job (optionally wait for it)."""

from __future__ import annotations

import argparse
import sys
from typing import Any, get_args

import orjson

from .._api import submit
from .._exceptions import ConfigError
from .._models import Tuning
from .._progress import is_terminal
from ._common import add_json_flag, job_json, job_summary, seconds
from ._output import print_json

_HYPERPARAMETERS = (
    ("--epochs", "epochs", int),
    ("--batch-size", "batch_size", int),
    ("--learning-rate", "learning_rate", float),
    ("--learning-rate-multiplier", "learning_rate_multiplier", float),
    ("--warmup-ratio", "warmup_ratio", float),
    ("--seed", "seed", int),
    ("--tuning", "tuning", str),
    ("--lora-rank", "lora_rank", int),
    ("--lora-alpha", "lora_alpha", float),
    ("--lora-dropout", "lora_dropout", float),
)


def register(sub: Any) -> None:
    p = sub.add_parser(
        "submit",
        help="start a fine-tuning job",
        description="Validate FILE, check it with the provider, start the job.",
    )
    p.add_argument("file", help="training data (.jsonl or .jsonl.gz)")
    p.add_argument(
        "--provider", help="provider name (default: from ftbridge.toml / FTBRIDGE_PROVIDER)"
    )
    p.add_argument("--model", help="base model (default: from ftbridge.toml)")
    for flag, dest, kind in _HYPERPARAMETERS:
        choices = {"choices": get_args(Tuning)} if dest == "tuning" else {}
        p.add_argument(flag, dest=dest, type=kind, metavar=dest.upper(), **choices)
    p.add_argument("--suffix", help="a name fragment for the fine-tuned model")
    p.add_argument("--validation", metavar="FILE", help="validation data")
    p.add_argument(
        "--option",
        "-o",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a provider option; VALUE is read as JSON when it parses (repeatable)",
    )
    p.add_argument(
        "--idempotency-key",
        metavar="KEY",
        help="your name for this job: submitting again with the same KEY (from any process or "
        "machine sharing the job store) returns the same job instead of starting another",
    )
    p.add_argument("--wait", action="store_true", help="wait for the job to finish")
    p.add_argument("--timeout", type=seconds, help="with --wait: give up waiting after SECONDS")
    add_json_flag(p)
    p.set_defaults(handler=run)


def parse_options(pairs: list[str]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"--option takes KEY=VALUE, got {pair!r}")
        try:
            options[key.strip()] = orjson.loads(value)
        except orjson.JSONDecodeError:
            options[key.strip()] = value
    return options


def run(args: argparse.Namespace) -> int:
    hyperparameters = {
        dest: getattr(args, dest)
        for _, dest, _ in _HYPERPARAMETERS
        if getattr(args, dest) is not None
    }
    job = submit(
        args.file,
        provider=args.provider,
        model=args.model,
        hyperparameters=hyperparameters,
        suffix=args.suffix,
        validation=args.validation,
        options=parse_options(args.option),
        idempotency_key=args.idempotency_key,
    )
    preflight = job.preflight

    def as_json() -> dict[str, Any]:
        out = job_json(job)
        out["estimates"] = dict(preflight.estimates) if preflight is not None else {}
        out["warnings"] = list(preflight.warnings) if preflight is not None else []
        return out

    if not args.json:
        if preflight is not None:
            for key, value in preflight.estimates.items():
                print(f"estimate  {key}: {value}", file=sys.stderr)
        print(f"submitted {job.id}")
    if args.wait:
        try:
            job.wait(timeout=args.timeout, progress=not args.json and is_terminal())
        finally:
            if args.json:
                print_json(as_json())
            else:
                print(job_summary(job))
    elif args.json:
        print_json(as_json())
    return 0
