"""``ftbridge recover [JOB]``: settle jobs whose submit stopped before the provider confirmed
them (adopt the job the provider made, or drop an intent that never reached it)."""

from __future__ import annotations

import argparse
from typing import Any

from .._api import get_job
from .._recover import Recovery, open_intents, recover_intent
from .._registry import get_provider
from .._store import JobStore
from ._common import add_json_flag, check_provider_filter
from ._output import print_json


def register(sub: Any) -> None:
    p = sub.add_parser(
        "recover",
        help="settle pending jobs whose submit was interrupted",
        description="Ask each provider what became of jobs left pending by an interrupted "
        "submit: adopt the job it created, or drop the ones that never reached it.",
    )
    p.add_argument("job", nargs="?", help="only this pending job (default: every one)")
    p.add_argument("--provider", help="only this provider's pending jobs")
    add_json_flag(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    store = JobStore()
    if args.job:
        job = get_job(args.job)
        if job.confirmed:
            print(f"{job.id} is not pending: nothing to recover")
            return 0
        keys = [(job.provider, job.snapshot.details["idempotency_key"])]
    else:
        keys = [(r.provider, r.key) for r in open_intents(store, args.provider)]
        if not keys:
            check_provider_filter(args.provider)
    results: list[Recovery] = []
    providers: dict[str, Any] = {}
    for name, key in keys:
        provider = providers.get(name) or providers.setdefault(name, get_provider(name))
        results.append(recover_intent(store, str(key), provider))
    if args.json:
        print_json(
            [
                {
                    "job": r.name,
                    "outcome": r.outcome,
                    "id": r.record.id if r.record is not None else None,
                    "message": r.message,
                }
                for r in results
            ]
        )
        return 0
    if not results:
        print("no pending jobs")
    for r in results:
        print(f"{r.outcome:<12} {r.message}")
    return 0
