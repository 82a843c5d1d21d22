"""``jobs``, ``cancel``, ``pause`` and ``resume``."""

from __future__ import annotations

import argparse
from typing import Any

from .._api import get_job, list_jobs
from ._common import add_json_flag, check_provider_filter, job_json, job_summary
from ._output import print_json


def register(sub: Any) -> None:
    p = sub.add_parser("jobs", help="list jobs in the job store")
    p.add_argument("--provider", help="only this provider's jobs")
    p.add_argument("--status", help="only jobs with this status (running, succeeded, ...)")
    add_json_flag(p)
    p.set_defaults(handler=jobs)
    for name, text in (
        ("cancel", "cancel a job"),
        ("pause", "pause a running job"),
        ("resume", "resume a paused job, or continue one from its checkpoint"),
    ):
        p = sub.add_parser(name, help=text)
        p.add_argument("job")
        add_json_flag(p)
        p.set_defaults(handler=_operation, operation=name)


def jobs(args: argparse.Namespace) -> int:
    found = list_jobs(provider=args.provider, status=args.status)
    if not found:
        check_provider_filter(args.provider)
    if args.json:
        print_json([job_json(j) for j in found])
        return 0
    if not found:
        print("no jobs")
        return 0
    rows = [("ID", "STATUS", "MODEL", "CREATED", "FINE-TUNED MODEL")]
    for j in found:
        created = j.snapshot.created_at
        rows.append(
            (
                j.id,
                j.status.value,
                j.spec.model,
                created.strftime("%Y-%m-%d %H:%M") if created else "-",
                j.snapshot.model or "-",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)).rstrip())
    return 0


def _operation(args: argparse.Namespace) -> int:
    job = get_job(args.job)
    getattr(job, args.operation)()
    print_json(job_json(job)) if args.json else print(job_summary(job))
    return 0
