"""``ftbridge validate FILE [--provider P] [--tokenizer NAME] [--json]``: every problem, with line numbers.

Exit 0 when the dataset is valid (for ``--provider`` too, if given), 1 when it is not, 2 when
the file cannot be read or the arguments are wrong (an unknown ``--provider`` included).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .._progress import Progress, is_terminal
from ._output import print_json

#: Files smaller than this are checked too fast for a progress bar to help.
PROGRESS_FROM_BYTES = 32 << 20


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
    p.add_argument(
        "--tokenizer",
        metavar="NAME",
        help="count tokens with o200k_base or cl100k_base (exact; needs ftbridge[tokens]) or "
        "'estimate'; default: the --provider's encoding when installed, else the estimate",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    p.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from ..validation import check

    bar = _ByteProgress(enabled=not args.json and is_terminal())
    try:
        ds = check(args.file, provider=args.provider, tokenizer=args.tokenizer, progress=bar)
    finally:
        bar.close()
    report = ds.report
    if args.json:
        print_json(report.to_json(args.provider))
    else:
        print(report.format_text(Path(args.file).name, args.provider))
    return 0 if ds.valid else 1


class _ByteProgress:
    """``check``'s ``progress(done, total)`` callback: a bar in bytes, for big files only."""

    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled
        self.bar: Progress | None = None

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or total < PROGRESS_FROM_BYTES:
            return
        if self.bar is None:
            self.bar = Progress(total=total, desc="validating", unit="B", enabled=True)
        self.bar.set(done, total)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
