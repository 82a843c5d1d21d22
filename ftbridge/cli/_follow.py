"""``status``, ``wait`` and ``events``: follow a job from any process."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from .._api import get_job
from .._models import Event
from .._progress import is_terminal
from ._common import add_json_flag, job_json, job_summary, seconds
from ._output import print_json, print_jsonl


def register(sub: Any) -> None:
    p = sub.add_parser("status", help="show a job's status")
    p.add_argument("job", help="job id (or an unambiguous prefix)")
    p.add_argument("--cached", action="store_true", help="show the stored state; no network call")
    add_json_flag(p)
    p.set_defaults(handler=status)

    p = sub.add_parser("wait", help="wait for a job to finish")
    p.add_argument("job")
    p.add_argument(
        "--timeout", type=seconds, help="give up waiting after SECONDS (the job goes on)"
    )
    p.add_argument(
        "--cancel-on-timeout", action="store_true", help="cancel the job if the timeout is reached"
    )
    add_json_flag(p)
    p.set_defaults(handler=wait)

    p = sub.add_parser("events", help="show a job's events")
    p.add_argument("job")
    p.add_argument("--follow", "-f", action="store_true", help="keep printing until the job ends")
    p.add_argument(
        "--interval", type=seconds, default=2.0, help="with --follow: seconds between polls"
    )
    add_json_flag(p)
    p.set_defaults(handler=events)


def status(args: argparse.Namespace) -> int:
    job = get_job(args.job)
    if not args.cached:
        job.refresh()
    print_json(job_json(job)) if args.json else print(job_summary(job))
    if job.note:  # the provider did not answer; the stored final state was shown
        print(f"note: {job.note}", file=sys.stderr)
    return 0


def wait(args: argparse.Namespace) -> int:
    job = get_job(args.job)
    try:
        job.wait(
            timeout=args.timeout,
            cancel_on_timeout=args.cancel_on_timeout,
            progress=not args.json and is_terminal(),
        )
    finally:
        print_json(job_json(job)) if args.json else print(job_summary(job))
    return 0


def _line(event: Event) -> str:
    metrics = " ".join(f"{k}={v:g}" for k, v in event.metrics.items())
    level = "" if event.level == "info" else f"{event.level.upper()} "
    return f"{event.time.isoformat(timespec='seconds')}  {level}{event.message}" + (
        f"  [{metrics}]" if metrics and metrics not in event.message else ""
    )


def events(args: argparse.Namespace) -> int:
    """Events as lines of text, or with ``--json`` as JSON Lines (one compact object each)."""
    job = get_job(args.job)
    seen: set[str] = set()

    def show(events: list[Event]) -> None:
        for event in events:
            if event.id in seen:
                continue
            seen.add(event.id)
            if args.json:
                print_jsonl(event.model_dump(mode="json"))
            else:
                print(_line(event), flush=True)

    while True:
        show(job.events())
        if not args.follow or job.refresh().status.is_terminal:
            if args.follow:  # the last events may arrive with the final status
                show(job.events())
            return 0
        time.sleep(args.interval)
