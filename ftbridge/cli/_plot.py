"""``ftbridge plot JOB [-o PNG]``: a job's training and validation loss curves as a PNG."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .._api import get_job


def register(sub: Any) -> None:
    p = sub.add_parser("plot", help="draw a job's loss curves (PNG)")
    p.add_argument("job", help="a job id (or an unambiguous prefix)")
    p.add_argument(
        "-o", "--output", metavar="PNG", help="where to write it (default: JOB-loss.png)"
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..eval._plot import loss_png

    job = get_job(args.job)
    metrics = job.metrics()
    curves = {n: metrics.series(n) for n in metrics.names() if n.endswith("loss")}
    if not any(curves.values()):
        when = "" if job.status.is_terminal else " yet"  # a finished job will not get any
        print(
            f"ftbridge: error: job {job.id} has no loss metrics{when} ({job.status.value}): "
            "nothing to plot",
            file=sys.stderr,
        )
        return 1
    out = Path(args.output or f"{job.native_id}-loss.png").expanduser()
    out.write_bytes(loss_png(curves, f"{job.id}: loss"))
    print(out)
    return 0
