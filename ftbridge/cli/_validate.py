"""``ftbridge validate FILE [--provider P] [--json]``: every problem, with line numbers.

Exit 0 when the dataset is valid (for ``--provider`` too, if given), 1 when it is not, 2 when
the file cannot be read or the arguments are wrong.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from ._output import is_terminal, print_json


def register(sub: Any) -> None:
    p = sub.add_parser(
        "validate",
        help="check a dataset: every error with its line, per-provider verdicts",
        description="Check a JSONL dataset (chat, preference, instruction or text) once and "
        "report every problem with its line number, plus a verdict per provider.",
    )
    p.add_argument("file", help="a .jsonl or .jsonl.gz file")
    p.add_argument(
        "--provider", "-p", help="also require this provider's rules (openai, together, local...)"
    )
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    p.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from ..validation import check

    progress = _Progress() if is_terminal(sys.stderr) and not args.json else None
    try:
        ds = check(args.file, provider=args.provider, progress=progress)
    finally:
        if progress is not None:
            progress.done()
    report = ds.report
    if args.json:
        print_json(report.to_json(args.provider))
    else:
        print(report.format_text(Path(args.file).name, args.provider))
    return 0 if ds.valid else 1


class _Progress:
    """A one-line byte counter on stderr, only for big files and only on a terminal."""

    def __init__(self) -> None:
        self.start = time.monotonic()
        self.shown = False
        self.last = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if total < (32 << 20) or now - self.last < 0.2:
            return
        self.last = now
        self.shown = True
        pct = 100 * done // max(total, 1)
        sys.stderr.write(f"\rvalidating: {pct:3d}% of {total >> 20} MiB")
        sys.stderr.flush()

    def done(self) -> None:
        if self.shown:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()
